#!/usr/bin/env python
"""Execute the book's chapters with papermill for one survey wave.

Chapters run in parallel (one kernel per core). Outputs are written to a
temporary folder first (_build/.staging/) and moved into place only when every
chapter succeeded, all together (kamsurvey.build.journal: a run killed while moving
them is completed by the next command), so a failing chapter never leaves the
committed notebooks half-overwritten. A chapter edited while the run worked is
not overwritten: the run stops, names it and replaces nothing.
Papermill's timestamps and machine-specific paths are stripped and the injected
parameters cell gets a fixed id, so rerunning on unchanged inputs leaves git clean.

What is shared between the chapters (each still runs in its own fresh kernel):
  - a kernel server (kamsurvey.build.kernels) imports the chapters' modules once, loads the
    wave and the wave it is compared with once and evaluates the article's claims once,
    then forks a kernel per chapter (`--no-kernel-server`: every kernel starts from scratch);
  - the wave is validated once and cached (kamsurvey.data.cache);
  - with several chapters at once, each kernel's numerical libraries use one thread
    (OpenBLAS' busy-waiting threads on two cores made two chapters slower than one).

    kam chapters                                  # current wave, in place
    kam chapters --wave 2023 --compare-with 2022 --out /tmp/book
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml

from kamsurvey.build import lock
from kamsurvey.build.console import printable
from kamsurvey.build.journal import STAGING, Edited, Transaction, changed_since, digests, tidy
from kamsurvey.data.editions import current_edition, load_editions

CELL_TIMESTAMP_KEYS = ("start_time", "end_time", "duration", "status", "exception")


def toc_notebooks(book: Path) -> list[Path]:
    """Notebooks listed in _toc.yml, in reading order."""
    return [book / f"{name}.ipynb" for name in toc_documents(book) if (book / f"{name}.ipynb").exists()]


def toc_documents(book: Path) -> list[str]:
    """Every document _toc.yml lists (notebooks and pages), as paths without extension, in reading order."""
    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            for part in entry.get("parts", []) if isinstance(entry, dict) else []:
                walk(part.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def clean_notebook(path: Path) -> None:
    """Remove what changes between runs on unchanged inputs (timestamps, paths, random ids)."""
    nb = nbformat.read(path, as_version=4)
    papermill = nb.metadata.get("papermill", {})
    nb.metadata["papermill"] = {"parameters": papermill.get("parameters", {})}
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        meta = cell.metadata.get("papermill")
        if meta is not None:
            for key in CELL_TIMESTAMP_KEYS:
                meta.pop(key, None)
            if not meta:
                cell.metadata.pop("papermill")
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            cell["id"] = "injected-parameters"
            if "remove-cell" not in tags:
                cell.metadata["tags"] = tags + ["remove-cell"]
    nbformat.write(nb, path)


# one thread per kernel for the numerical libraries when chapters run side by side
THREAD_LIMITS = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def execute_one(source: str, target: str, parameters: dict) -> tuple[str, float]:
    sockets = tempfile.mkdtemp(prefix=IPC_PREFIX)
    try:
        return _execute(source, target, parameters, sockets)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)


def _execute(source: str, target: str, parameters: dict, sockets: str) -> tuple[str, float]:
    import papermill

    register_quiet_engine()
    started = time.perf_counter()
    papermill.execute_notebook(
        source,
        target,
        engine_name=QUIET_ENGINE,
        config=ipc_config(sockets),
        parameters=parameters,
        cwd=str(Path(source).parent),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        # jupyter_client's own kernel manager: while a kernel server runs, its default provisioner forks the kernel
        # from the server (kamsurvey.build.kernels.ForkedKernelProvisioner), else it launches it
    )
    clean_notebook(Path(target))
    return source, time.perf_counter() - started


# Kernels and papermill talk over Unix sockets in a private folder, not TCP on localhost (which any local
# user can connect to, and about which every kernel printed a warning); short paths: a socket's is limited.
IPC_PREFIX = "kam-ipc-"


def ipc_config(folder: str):
    from traitlets.config import Config

    return Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(folder, "kernel")}})


QUIET_ENGINE = "kam"


def register_quiet_engine() -> None:
    """papermill's nbclient engine, but the kernel is asked to exit before the client cleans up.

    jupyter_client's shutdown_kernel interrupts the kernel (SIGINT) before asking it to exit, and a kernel
    still answering the last message then logs 'KeyboardInterrupt caught in kernel' on a run that succeeded.
    Asked to exit first, the kernel is gone when nbclient cleans up, which then has nothing to interrupt."""
    from nbclient.util import ensure_async, run_sync
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, logger, papermill_engines
    from papermill.utils import remove_args

    class ExitFirstClient(PapermillNotebookClient):
        async def _async_cleanup_kernel(self) -> None:
            km = self.km
            if km is not None and km.has_kernel and await ensure_async(km.is_alive()):
                await ensure_async(km.request_shutdown())
                await ensure_async(km.finish_shutdown())
            await super()._async_cleanup_kernel()

        _cleanup_kernel = run_sync(_async_cleanup_kernel)  # what nbclient's setup_kernel calls

    class ExitFirstEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                     start_timeout=60, execution_timeout=None, **kwargs):
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            return ExitFirstClient(nb_man, kernel_name=kernel_name, log=logger, log_output=log_output,
                                   stdout_file=stdout_file, stderr_file=stderr_file, startup_timeout=start_timeout,
                                   timeout=execution_timeout, **kwargs).execute()

    papermill_engines.register(QUIET_ENGINE, ExitFirstEngine)


class ChapterFailed(RuntimeError):
    pass


def worker_started(parent: int) -> None:
    """A pool worker dies with the run that forked it (killed, it would wait forever for work), and holds none of
    its writer lock (kamsurvey.build.lock): a run killed with kill -9 leaves neither a process nor a lock behind."""
    lock.forget_in_child()
    try:
        import ctypes

        set_parent_death_signal = 1  # prctl(PR_SET_PDEATHSIG): Linux
        ctypes.CDLL(None, use_errno=True).prctl(set_parent_death_signal, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the run died before the worker asked to die with it
        os._exit(1)


def put_in_place(book: Path, out: Path, staging: Path, recorded: dict[str, str | None], *, private: bool) -> list[Path]:
    """Move the executed chapters from `staging` into `out`: all of them or none."""
    written = [out / relative for relative in recorded]
    if private or out != book:
        for relative, destination in zip(recorded, written):
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staging / relative, destination)
        return written
    transaction = Transaction(book, "kam chapters")
    for relative, destination in zip(recorded, written):
        transaction.replace(staging / relative, destination, expect=recorded[relative])
    try:
        transaction.commit()
    except Edited as edited:
        raise ChapterFailed(str(edited)) from None
    return written


def run(book: Path, out: Path, *, wave: str, compare_with: str, data_dir: str, jobs: int,
        only: list[str] | None = None, kernel_server: bool = True, private: bool = False) -> list[Path]:
    """Execute every chapter of `book` into `out`; raise ChapterFailed naming each failure (nothing replaced).

    In place (`out` is `book`), the executed chapters replace the committed ones in one journaled
    transaction, unless one was edited meanwhile; `private`: `book` is a staging copy no one else reads,
    where they are simply moved."""
    from kamsurvey.build.kernels import KernelServer

    saved_env = {name: os.environ.get(name) for name in ("PATH",)}  # restored when run() ends
    notebooks = toc_notebooks(book)
    if only:
        notebooks = [nb for nb in notebooks if nb.stem in only or str(nb.relative_to(book)) in only]
    # kernels are this environment's python (the kernel spec names `python`)
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    limits = {k: v for k, v in THREAD_LIMITS.items() if k not in os.environ} if jobs > 1 and len(notebooks) > 1 else {}
    os.environ.update(limits)
    parameters = {"wave": str(wave), "data_dir": data_dir, "compare_with": compare_with or ""}
    folders = sorted({str(nb.parent) for nb in notebooks})
    warm = {**parameters, "cwd": folders[0]} if len(folders) == 1 else None
    recorded = digests(book, notebooks)  # each chapter as the run found it: an edit made meanwhile is not overwritten
    (out / STAGING).mkdir(parents=True, exist_ok=True)  # beside the chapters: moving them into place is a rename
    staging = Path(tempfile.mkdtemp(prefix="chapters-", dir=out / STAGING))
    failures: list[str] = []
    server = KernelServer(warm=warm, cwd=book) if kernel_server and notebooks else None
    try:
        if server is not None:
            server.__enter__()
        jobs_by_future = {}
        with ProcessPoolExecutor(max_workers=max(1, jobs), initializer=worker_started, initargs=(os.getpid(),)) as pool:
            for notebook in notebooks:
                relative = notebook.relative_to(book)
                # executed in the book's own folder so relative paths resolve as under nbval and the book
                target = notebook.with_name(f".{notebook.stem}.executing.ipynb")
                future = pool.submit(execute_one, str(notebook), str(target), parameters)
                jobs_by_future[future] = (relative, target)
            for done, future in enumerate(as_completed(jobs_by_future), start=1):
                relative, target = jobs_by_future[future]
                try:
                    _, seconds = future.result()
                except Exception as exc:  # papermill raises PapermillExecutionError with the cell's error
                    failures.append(f"{relative}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else exc!r}")
                    print(f"[{done}/{len(notebooks)}] {relative} FAILED", flush=True)
                    continue
                staged = staging / relative
                staged.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(target), staged)
                print(f"[{done}/{len(notebooks)}] {relative} executed in {seconds:.1f} s", flush=True)
        if failures:
            raise ChapterFailed("chapter execution failed; nothing was replaced:\n  " + "\n  ".join(failures))
        edited = changed_since(book, recorded)
        if edited:
            raise ChapterFailed(f"{', '.join(edited)} changed while the chapters ran: nothing was replaced and the "
                                "edit is kept; run again to execute it")
        return put_in_place(book, out, staging, recorded, private=private)
    finally:
        if server is not None:
            server.__exit__(None, None, None)
        for name in limits:
            os.environ.pop(name, None)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for notebook in notebooks:
            notebook.with_name(f".{notebook.stem}.executing.ipynb").unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        tidy(out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wave", default=None, help="survey wave to compute (default: the current edition's)")
    parser.add_argument("--compare-with", default=None, help="earlier wave to compare with (default: from data/editions.yml)")
    parser.add_argument("--data-dir", default="../data", help="data folder as seen from a chapter's folder")
    parser.add_argument("--book", type=Path, default=Path("."), help="book folder holding _toc.yml (default: here)")
    parser.add_argument("--out", default=None, help="write executed notebooks here (default: in place)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="chapters executed at once")
    parser.add_argument("--no-kernel-server", action="store_true",
                        help="start every kernel from scratch instead of forking it from a warm kernel server")
    parser.add_argument("chapters", nargs="*", help="only these chapters (file stems)")



def command(args: argparse.Namespace) -> int:
    book = args.book.resolve()
    editions = load_editions(book / "data")
    wave = args.wave or current_edition(editions).wave
    compare_with = args.compare_with
    if compare_with is None:
        compare_with = next((e.compare_with or "" for e in editions if e.wave == wave), "")
    out = Path(args.out).resolve() if args.out else book
    started = time.perf_counter()
    try:
        written = run(book, out, wave=wave, compare_with=compare_with, data_dir=args.data_dir,
                      jobs=args.jobs, only=args.chapters, kernel_server=not args.no_kernel_server)
    except ChapterFailed as exc:
        print(printable(f"error: {exc}"), file=sys.stderr)
        return 1
    print(f"{len(written)} chapters executed for wave {wave} in {time.perf_counter() - started:.1f} s")
    return 0
