"""Kernels forked from a warm kernel server (kamsurvey.build.kernels): a chapter's outputs are byte for byte those
of a kernel started from scratch; the server's wave is shared only while its files are unchanged; a failing
chapter still fails; no kernel outlives its run; the forking is jupyter_client's own kernel manager with our
provisioner, registered as an entry point and chosen as the default provisioner only while a server runs."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from kamsurvey.build import kernels
from kamsurvey.build import chapters as run_chapters
from wavekit import data_dir, write_synthetic_wave

pytestmark = pytest.mark.slow


PARAMETERS = 'wave = "2022"\ndata_dir = "../data"\ncompare_with = ""'
PROBE = """\
import os, sys
print("cwd", os.path.basename(os.getcwd()))
print("env", os.environ.get("KAM_TEST_MARK"))
print("path", repr(sys.path))
print("pid", os.getpid())
"""
CHAPTER = """\
from IPython.display import Markdown, display
from kamsurvey.report.chapter import Chapter
ch = Chapter.load(wave=wave, data_dir=data_dir, compare_with=compare_with)
display(Markdown(f"**{ch.meta.n}** respondents"))
ch.glue("n_respondents", ch.meta.n)
ch.share("sector", ["pharma"])
"""


def notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(source) for source in cells]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def book(tmp_path: Path, chapters: dict[str, tuple[str, ...]]) -> Path:
    root = tmp_path / "book"
    data_dir(root)
    toc = {"format": "jb-book", "root": "index", "chapters": [{"file": f"chapters/{name}"} for name in chapters]}
    (root / "_toc.yml").write_text(json.dumps(toc), encoding="utf-8")
    for name, cells in chapters.items():
        notebook(root / "chapters" / f"{name}.ipynb", *cells)
    return root


def outputs(path: Path) -> list:
    return [cell.get("outputs") for cell in nbformat.read(path, as_version=4).cells]


def _execute(source: str, target: str) -> None:
    import papermill

    papermill.execute_notebook(source, target, cwd=str(Path(source).parent), kernel_name="python3", progress_bar=False)


def execute(source: Path, target: Path) -> None:
    """papermill with jupyter_client's kernel manager, in a forked process as run_chapters runs it (this process
    stays free of ZeroMQ, which a later fork by run_chapters could not inherit)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        pool.submit(_execute, str(source), str(target)).result()


def stdout_lines(path: Path) -> dict[str, str]:
    text = "".join(o.get("text", "") for cell in nbformat.read(path, as_version=4).cells for o in cell.get("outputs", [])
                   if o.get("name") == "stdout")
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


@pytest.fixture()
def environment(monkeypatch):
    monkeypatch.setenv("KAM_TEST_MARK", "from the parent")
    monkeypatch.delenv(kernels.SERVER_ENV, raising=False)
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "PATH")}
    yield
    for key, value in saved.items():  # run_chapters points PYTHONPATH at the book it runs
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_forked_kernels_give_the_outputs_of_fresh_ones(tmp_path, environment):
    root = book(tmp_path, {"probe": (PROBE,), "chapter": (CHAPTER,)})
    forked = run_chapters.run(root, tmp_path / "forked", wave="2022", compare_with="", data_dir="../data", jobs=2)
    fresh = run_chapters.run(root, tmp_path / "fresh", wave="2022", compare_with="", data_dir="../data", jobs=2,
                             kernel_server=False)
    assert [p.name for p in forked] == [p.name for p in fresh] == ["probe.ipynb", "chapter.ipynb"]
    a, b = stdout_lines(forked[0]), stdout_lines(fresh[0])
    assert a["cwd"] == b["cwd"] == "chapters" and a["env"] == b["env"] == "from the parent"
    assert a["path"] == b["path"]  # the same sys.path, in the same order, as `python -m ipykernel_launcher` gives
    assert forked[1].read_bytes() == fresh[1].read_bytes()  # the chapter: byte for byte


def test_a_forked_kernel_starts_with_the_servers_imports(tmp_path, environment):
    path = notebook(tmp_path / "chapters" / "imports.ipynb", 'import sys\nprint("preloaded", "kamsurvey.report.chapter" in sys.modules)')
    execute(path, tmp_path / "plain.ipynb")  # no server: launched as usual
    assert stdout_lines(tmp_path / "plain.ipynb")["preloaded"] == "False"
    with kernels.KernelServer(cwd=tmp_path) as server:
        assert server.running and os.environ[kernels.SERVER_ENV]
        execute(path, tmp_path / "forked.ipynb")
    assert kernels.SERVER_ENV not in os.environ
    assert stdout_lines(tmp_path / "forked.ipynb")["preloaded"] == "True"


def test_the_servers_wave_is_shared_only_while_its_files_are_unchanged(tmp_path, environment):
    root = tmp_path / "book"
    data = data_dir(root)
    write_synthetic_wave(data, "2023", n=500, seed=3)
    probe = ('from kamsurvey import Chapter\nch = Chapter.load(wave="2023", data_dir="../data")\n'
             'print("shared", ch.wave.key is not None)\nprint("n", len(ch.frame))')
    path = notebook(root / "chapters" / "wave.ipynb", probe)
    warm = {"wave": "2023", "data_dir": "../data", "compare_with": "", "cwd": str(path.parent)}
    with kernels.KernelServer(warm=warm, cwd=root):
        execute(path, tmp_path / "before.ipynb")
        assert stdout_lines(tmp_path / "before.ipynb") == {"shared": "True", "n": "500"}
        csv = data / "waves" / "2023" / "responses.csv"
        lines = csv.read_text(encoding="utf-8").splitlines(keepends=True)
        csv.write_text("".join(lines[:-1]), encoding="utf-8")
        meta = data / "waves" / "2023" / "wave.yml"
        meta.write_text(meta.read_text(encoding="utf-8").replace("n: 500", "n: 499"), encoding="utf-8")
        execute(path, tmp_path / "after.ipynb")
        assert stdout_lines(tmp_path / "after.ipynb") == {"shared": "False", "n": "499"}


def test_a_failing_chapter_fails_and_no_kernel_outlives_the_run(tmp_path, environment):
    root = book(tmp_path, {"fine": (PROBE,), "broken": ('raise RuntimeError("this chapter is broken")',)})
    with pytest.raises(run_chapters.ChapterFailed, match="broken.ipynb: .RuntimeError: this chapter is broken"):
        run_chapters.run(root, root, wave="2022", compare_with="", data_dir="../data", jobs=2)
    assert nbformat.read(root / "chapters" / "fine.ipynb", as_version=4).cells[1].outputs == []  # nothing replaced
    written = run_chapters.run(root, tmp_path / "out", wave="2022", compare_with="", data_dir="../data", jobs=1,
                               only=["fine"])
    pid = int(stdout_lines(written[0])["pid"])
    deadline = time.monotonic() + 10
    while psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_only_this_pythons_ipykernel_is_forked():
    assert kernels.is_ipykernel_command([sys.executable, "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not kernels.is_ipykernel_command(["/usr/bin/other-python", "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not kernels.is_ipykernel_command([sys.executable, "-m", "some_other_kernel", "-f", "k.json"])


def _provisioner_of_a_new_kernel_manager() -> str:
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import KernelProvisionerFactory

    manager = AsyncKernelManager(kernel_name="python3")
    provisioner = KernelProvisionerFactory.instance().create_provisioner_instance("probe", manager.kernel_spec, manager)
    return type(provisioner).__name__


def provisioner_of_a_new_kernel_manager() -> str:
    """The provisioner jupyter_client gives a plain kernel manager, asked in a fresh fork (its factory a new one)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        return pool.submit(_provisioner_of_a_new_kernel_manager).result()


def test_the_provisioner_is_registered_and_chosen_only_while_a_server_runs(tmp_path, environment, monkeypatch):
    from importlib.metadata import entry_points

    monkeypatch.delenv(kernels.DEFAULT_PROVISIONER_ENV, raising=False)
    registered = entry_points(group="jupyter_client.kernel_provisioners", name=kernels.PROVISIONER)
    assert [ep.load() for ep in registered] == [kernels.ForkedKernelProvisioner]
    assert provisioner_of_a_new_kernel_manager() == "LocalProvisioner"
    with kernels.KernelServer(cwd=tmp_path) as server:
        assert server.running
        assert provisioner_of_a_new_kernel_manager() == "ForkedKernelProvisioner"
    assert kernels.DEFAULT_PROVISIONER_ENV not in os.environ
    assert provisioner_of_a_new_kernel_manager() == "LocalProvisioner"


def test_the_default_provisioner_is_set_on_a_factory_made_before_and_put_back(monkeypatch):
    from jupyter_client.provisioning import KernelProvisionerFactory

    monkeypatch.setattr(KernelProvisionerFactory, "_instance", None)  # this process's singleton, made afresh
    monkeypatch.setenv(kernels.DEFAULT_PROVISIONER_ENV, "local-provisioner")
    factory = KernelProvisionerFactory.instance()
    with kernels.DefaultProvisioner(kernels.PROVISIONER):
        assert factory.default_provisioner_name == kernels.PROVISIONER
        assert os.environ[kernels.DEFAULT_PROVISIONER_ENV] == kernels.PROVISIONER
    assert factory.default_provisioner_name == "local-provisioner"
    assert os.environ[kernels.DEFAULT_PROVISIONER_ENV] == "local-provisioner"


def test_the_server_does_not_outlive_a_run_killed_with_sigkill(tmp_path):
    """kill -9 of the command that started a kernel server sends it nothing; the server stops by itself (Linux's
    parent-death signal, and its loop watching its parent) instead of running forever."""
    import signal
    import subprocess

    starter = (
        "import sys, time\n"
        "from kamsurvey.build import kernels\n"
        "server = kernels.KernelServer()\n"
        "server.__enter__()\n"
        "print(server.process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    try:
        server_pid = int(process.stdout.readline())
        assert psutil.pid_exists(server_pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if not psutil.pid_exists(server_pid) or psutil.Process(server_pid).status() == psutil.STATUS_ZOMBIE:
                break
            time.sleep(0.1)
        else:
            psutil.Process(server_pid).kill()
            pytest.fail("the kernel server outlived the run that started it")
    finally:
        if process.poll() is None:
            process.kill()


def test_only_the_shutdown_race_of_ipykernel_is_kept_off_the_terminal():
    import logging

    import zmq

    def record(error):
        try:
            raise error
        except Exception:
            return logging.LogRecord("tornado.general", logging.ERROR, __file__, 1,
                                     "Uncaught exception in ZMQStream callback", None, sys.exc_info())

    assert kernels._is_shutdown_race(record(zmq.ZMQError(zmq.ENOTSOCK)))
    assert not kernels._is_shutdown_race(record(zmq.ZMQError(zmq.EAGAIN)))
    assert not kernels._is_shutdown_race(record(ValueError("a real failure")))
    assert not kernels._is_shutdown_race(logging.LogRecord("x", logging.ERROR, __file__, 1, "no exception", None, None))
