"""Kernels forked from a warm process: every chapter's kernel starts with its imports done.

A chapter's kernel spends most of its life starting: the Python interpreter, ipykernel, then
`kamsurvey` with pandas, scipy, statsmodels and altair (about 2.5 s of CPU), then loading the
wave. With twelve chapters on two cores that start-up is repeated twelve times. Here one
*kernel server* does it once and forks a kernel for each chapter:

  - `KernelServer` (a context manager) starts `python -m kamsurvey.build.kernels serve`, which imports
    the modules the chapters use (PRELOAD), optionally runs a warm-up (`kamsurvey.build.warm`:
    load the wave and the wave it is compared with, evaluate the article's claims), and then
    waits on a Unix socket. It exports the socket's path in KAM_KERNEL_SERVER, and makes
    `ForkedKernelProvisioner` jupyter_client's default kernel provisioner meanwhile.
  - `ForkedKernelProvisioner` is a kernel provisioner, jupyter_client's public way to change how
    a kernel is started: registered under the entry-point group `jupyter_client.kernel_provisioners`
    (pyproject.toml) as PROVISIONER, and chosen through `KernelProvisionerFactory.default_provisioner_name`
    (for a kernel spec that names no provisioner of its own), so papermill and nbclient need no
    kernel manager of ours. To start an ipykernel it asks the server for one: the server forks,
    and the child becomes `python -m ipykernel_launcher -f <connection file>` with the working
    directory and environment jupyter_client chose (so the kernel is the same program, only its
    imports are already done). Interrupts and kills go to the child's own process group; the
    server reaps the child and reports its exit status. Without a server (KAM_KERNEL_SERVER
    unset), or for a kernel command that is not this Python's ipykernel, it launches the kernel
    as jupyter_client's local provisioner always does.

Each chapter still gets a fresh kernel: a fork is a copy of the server as it was after the
warm-up, and nothing one chapter does reaches the server or another chapter. What the warm-up
loaded is shared copy-on-write between the kernels (a wave of a million respondents is in memory
once, not once per kernel). The server runs no Python thread besides its main one when it
forks (checked: a server that does gives up forking and every kernel is launched normally); the
native threads of pyarrow (its thread pools, its allocator) and OpenBLAS register fork handlers
and start afresh in a child, so the kernels use them as any process would.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
import logging
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from typing import Any

from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner

SERVER_ENV = "KAM_KERNEL_SERVER"
# the entry point's name (pyproject.toml, group jupyter_client.kernel_provisioners)
PROVISIONER = "kamsurvey-forked-provisioner"
# jupyter_client reads it when a process first makes its KernelProvisionerFactory
DEFAULT_PROVISIONER_ENV = KernelProvisionerFactory.default_provisioner_name_env
# what a chapter imports, and what ipykernel needs to start: imported once, by the server
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "IPython.core.interactiveshell",
    "IPython.display",
    "myst_nb",
    "kamsurvey.report.chapter",
    "kamsurvey.report.phrasing",
    "kamsurvey.report.questionnaire",
    "kamsurvey.analysis.claims",
    "kamsurvey.report.citation",
    "kamsurvey.data.editions",
)
LAUNCHER = "ipykernel_launcher"
READY = "kam-kernel-server ready"


# --------------------------------------------------------------------------- the client side (papermill's process)


class ForkedKernel:
    """The kernel process as jupyter_client sees it (the parts of Popen it uses)."""

    stdin = stdout = stderr = None

    def __init__(self, connection: socket.socket, pid: int):
        self.connection = connection
        self.pid = pid
        self.returncode: int | None = None
        self._buffer = b""

    def _read_exit(self, timeout: float | None) -> None:
        self.connection.settimeout(timeout)
        try:
            while b"\n" not in self._buffer:
                chunk = self.connection.recv(4096)
                if not chunk:  # the server is gone: the kernel is (or is about to be) gone with it
                    self.returncode = self.returncode if self.returncode is not None else -signal.SIGKILL
                    return
                self._buffer += chunk
        except (BlockingIOError, socket.timeout):
            return
        message = json.loads(self._buffer.split(b"\n", 1)[0])
        self.returncode = int(message.get("exit", -1))

    def poll(self) -> int | None:
        if self.returncode is None:
            self._read_exit(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int | None:
        if self.returncode is None:
            self._read_exit(timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired([LAUNCHER], timeout or 0)
        self.connection.close()
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _request(server: str, message: dict, timeout: float = 30.0) -> tuple[socket.socket, dict]:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    connection.connect(server)
    connection.sendall(json.dumps(message).encode() + b"\n")
    buffer = b""
    while b"\n" not in buffer:
        chunk = connection.recv(4096)
        if not chunk:
            connection.close()
            raise ConnectionError("the kernel server closed the connection")
        buffer += chunk
    return connection, json.loads(buffer.split(b"\n", 1)[0])


def is_ipykernel_command(cmd: list[str]) -> bool:
    """`<this python> -m ipykernel_launcher ...`: a kernel the server can start by forking itself."""
    return (len(cmd) >= 3 and cmd[1:3] == ["-m", LAUNCHER]
            and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable))


class ForkedKernelProvisioner(LocalProvisioner):
    """LocalProvisioner whose ipykernel is forked by the kernel server (KAM_KERNEL_SERVER)."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        server = os.environ.get(SERVER_ENV)
        if not server or not is_ipykernel_command(cmd):
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher sets it
        cwd = str(kwargs.get("cwd") or pathlib.Path.cwd())
        try:
            connection, reply = await asyncio.get_running_loop().run_in_executor(
                None, _request, server, {"args": cmd[3:], "cwd": cwd, "env": env})
        except OSError:
            return await super().launch_kernel(cmd, **kwargs)
        if "pid" not in reply:  # the server declined (e.g. it could not fork safely): launch as usual
            connection.close()
            return await super().launch_kernel(cmd, **kwargs)
        self.process = ForkedKernel(connection, int(reply["pid"]))
        self.pid = self.pgid = self.process.pid
        self.cwd = cwd
        return self.connection_info


class DefaultProvisioner:
    """`with DefaultProvisioner(PROVISIONER):` kernels started meanwhile whose spec names no provisioner use it.

    Set where jupyter_client documents it: `KernelProvisionerFactory.default_provisioner_name`
    on this process's factory if it has made one already (it is a singleton), and the
    JUPYTER_DEFAULT_PROVISIONER_NAME variable its default is read from, for the factory a
    process forked or started from this one makes. Both are put back on leaving.
    """

    def __init__(self, name: str):
        self.name = name
        self._saved_env: str | None = None
        self._saved_trait: str | None = None

    def __enter__(self) -> "DefaultProvisioner":
        if KernelProvisionerFactory.initialized():
            factory = KernelProvisionerFactory.instance()
            self._saved_trait = factory.default_provisioner_name  # (read first: its default comes from the variable)
            factory.default_provisioner_name = self.name
        self._saved_env = os.environ.get(DEFAULT_PROVISIONER_ENV)
        os.environ[DEFAULT_PROVISIONER_ENV] = self.name
        return self

    def __exit__(self, *exc) -> None:
        if self._saved_env is None:
            os.environ.pop(DEFAULT_PROVISIONER_ENV, None)
        else:
            os.environ[DEFAULT_PROVISIONER_ENV] = self._saved_env
        if self._saved_trait is not None:
            KernelProvisionerFactory.instance().default_provisioner_name = self._saved_trait


class KernelServer:
    """`with KernelServer(warm={...}, cwd=book):` kernels started meanwhile are forked (`ForkedKernelProvisioner`).

    The server runs with the environment of this process (PYTHONPATH decides which kamsurvey
    it imports); `warm` is passed to `kamsurvey.build.warm.warm` (wave, data_dir,
    compare_with, and cwd: the folder data_dir is relative to). The server runs in `cwd` (the
    book's folder). If the server cannot start, kernels are launched as usual and `self.running`
    is False.
    """

    def __init__(self, *, warm: dict | None = None, cwd: str | os.PathLike | None = None, timeout: float = 120.0):
        self.warm = warm
        self.cwd = str(cwd) if cwd is not None else None
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self.folder: str | None = None
        self.running = False
        self._saved: str | None = None
        self._provisioner = DefaultProvisioner(PROVISIONER)

    def __enter__(self) -> "KernelServer":
        self.folder = tempfile.mkdtemp(prefix="kam-kernels-")
        path = os.path.join(self.folder, "server.sock")
        command = [sys.executable, "-m", "kamsurvey.build.kernels", "serve", path]
        if self.warm:
            command += ["--warm", json.dumps(self.warm)]
        # started in `cwd` (the book): `python -m` puts its working directory first on sys.path, and the
        # server must import the kamsurvey its kernels would (the book's), not this process's
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=self.cwd)  # this environment
        line = ""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            line = self.process.stdout.readline()
            if line.strip() == READY or not line:
                break
        if line.strip() == READY:
            self.running = True
            self._saved = os.environ.get(SERVER_ENV)
            os.environ[SERVER_ENV] = path
            self._provisioner.__enter__()
        else:
            self._stop()
        return self

    def __exit__(self, *exc) -> None:
        if self.running:
            self._provisioner.__exit__(*exc)
            if self._saved is None:
                os.environ.pop(SERVER_ENV, None)
            else:
                os.environ[SERVER_ENV] = self._saved
        self._stop()

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout:
            self.process.stdout.close()
        if self.folder:
            for name in os.listdir(self.folder):
                os.unlink(os.path.join(self.folder, name))
            os.rmdir(self.folder)
            self.folder = None
        self.running = False


def release_memory() -> None:
    """Give back to the system what was allocated and freed (e.g. reading a large wave): Python's
    garbage, pyarrow's memory pool, glibc's free lists. Before kernels start, so that they have it."""
    import ctypes

    gc.collect()
    try:
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    except (ImportError, AttributeError):
        pass
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


# --------------------------------------------------------------------------- the server


def _send(connection: socket.socket, message: dict) -> None:
    try:
        connection.sendall(json.dumps(message).encode() + b"\n")
    except OSError:
        pass


def _read_request(connection: socket.socket) -> dict | None:
    connection.settimeout(10)
    buffer = b""
    try:
        while b"\n" not in buffer:
            chunk = connection.recv(1 << 16)
            if not chunk:
                return None
            buffer += chunk
        return json.loads(buffer.split(b"\n", 1)[0])
    except (OSError, ValueError):
        return None


def _is_shutdown_race(record: logging.LogRecord) -> bool:
    """ipykernel 7.4 flushes stdout after handling a shutdown request on the control channel, and that flush can
    reach a socket its IO thread has already closed (ENOTSOCK; ipykernel#1518 fixed the same race in another
    path). Nothing is lost, the kernel is stopping, but tornado logs a traceback that reads like a failed run."""
    error = record.exc_info[1] if record.exc_info else None
    import zmq

    return isinstance(error, zmq.ZMQError) and error.errno == zmq.ENOTSOCK


def _quiet_shutdown_race() -> None:
    logging.getLogger("tornado.general").addFilter(lambda record: not _is_shutdown_race(record))


def _become_kernel(request: dict, server_cwd: str, closing: list[socket.socket]) -> None:
    """In the forked child: become `python -m ipykernel_launcher <args>` in the requested place. Never returns."""
    code = 1
    try:
        for sock in closing:
            sock.close()
        for signum in (signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setpgid(0, 0)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # as ipykernel_launcher does: the working directory (here the server's) leaves sys.path
        # while ipykernel starts, and ipykernel puts '' back in front
        if sys.path and (sys.path[0] == "" or pathlib.Path(sys.path[0]) == pathlib.Path(server_cwd)):
            del sys.path[0]
        args = list(request["args"])
        if os.environ.get("JPY_PARENT_PID"):
            # ipykernel read JPY_PARENT_PID when the server imported it; give the kernel its own
            args.append(f"--IPKernelApp.parent_handle={int(os.environ['JPY_PARENT_PID'])}")
        sys.argv = [LAUNCHER, *args]
        # (the server's objects stay frozen: a collection that walked them would copy every page they are on)
        from ipykernel import kernelapp

        _quiet_shutdown_race()
        kernelapp.launch_new_instance(argv=args)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _stop_with_parent() -> int:
    """Ask Linux for SIGTERM when the process that started the server dies (even by kill -9), so that neither the
    server nor its kernels outlive a run; returns the parent's pid, which the serving loop also watches."""
    parent = os.getppid()
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux/glibc: the loop's parent check still stops it
        pass
    return parent


def serve(path: str, *, warm: dict | None = None) -> int:
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    parent = _stop_with_parent()
    for name in PRELOAD:
        importlib.import_module(name)
    if warm:
        try:
            from kamsurvey.build.warm import warm as warm_up

            warm_up(**warm)
        except Exception:  # the chapters will load the wave themselves, and report its problems
            traceback.print_exc()
    release_memory()  # what the warm-up freed is not inherited by every kernel
    gc.freeze()  # the kernels' garbage collector leaves the server's objects (and their pages) alone
    can_fork = threading.active_count() == 1
    if not can_fork:
        print(f"kamsurvey.build.kernels: the server runs {threading.active_count()} Python threads; kernels are "
              "launched normally", file=sys.stderr, flush=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    listener.settimeout(0.05)
    print(READY, flush=True)
    os.dup2(2, 1)  # the kernels' stdout is the terminal's, not the pipe the ready line went through
    server_cwd = os.getcwd()
    children: dict[int, socket.socket] = {}
    while not stopping and os.getppid() == parent:  # a parent killed with -9 sends no signal
        _reap(children)
        try:
            connection, _ = listener.accept()
        except (socket.timeout, BlockingIOError, InterruptedError):
            continue
        request = _read_request(connection)
        if request is None or not can_fork:
            _send(connection, {"declined": "cannot fork a kernel here"})
            connection.close()
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _become_kernel(request, server_cwd, [listener, connection, *children.values()])
        try:
            os.setpgid(pid, pid)
        except OSError:  # the child did it first, or already exited
            pass
        children[pid] = connection
        _send(connection, {"pid": pid})
    listener.close()
    for pid in list(children):
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + 5
    while children and time.monotonic() < deadline:
        _reap(children)
        time.sleep(0.05)
    for pid in list(children):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    return 0


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        connection = children.pop(pid, None)
        if connection is not None:
            _send(connection, {"exit": os.waitstatus_to_exitcode(status)})
            connection.close()


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m kamsurvey.build.kernels", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser("serve", help="run a kernel server on a Unix socket")
    serve_parser.add_argument("socket", help="path of the Unix socket to listen on")
    serve_parser.add_argument("--warm", default=None, help="JSON arguments of kamsurvey.build.warm.warm")
    args = parser.parse_args(argv)
    return serve(args.socket, warm=json.loads(args.warm) if args.warm else None)


if __name__ == "__main__":
    sys.exit(main())
