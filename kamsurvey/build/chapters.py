#!/usr/bin/env python
"""Execute the book's chapters with papermill for one survey wave.

Chapters run in parallel (one kernel per core). Outputs are written to a
temporary folder first and moved into place only when every chapter succeeded,
so a failing chapter never leaves the committed notebooks half-overwritten.
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
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml

from kamsurvey.data.editions import current_edition, load_editions

CELL_TIMESTAMP_KEYS = ("start_time", "end_time", "duration", "status", "exception")


def toc_notebooks(book: Path) -> list[Path]:
    """Notebooks listed in _toc.yml, in reading order."""
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
    return [book / f"{name}.ipynb" for name in files if (book / f"{name}.ipynb").exists()]


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
    import papermill

    started = time.perf_counter()
    papermill.execute_notebook(
        source,
        target,
        parameters=parameters,
        cwd=str(Path(source).parent),
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        # forks the kernel from the kernel server when there is one (KAM_KERNEL_SERVER), else launches it
        kernel_manager_class="kamsurvey.build.kernels.ForkedKernelManager",
    )
    clean_notebook(Path(target))
    return source, time.perf_counter() - started


class ChapterFailed(RuntimeError):
    pass


def run(book: Path, out: Path, *, wave: str, compare_with: str, data_dir: str, jobs: int,
        only: list[str] | None = None, kernel_server: bool = True) -> list[Path]:
    """Execute every chapter of `book` into `out`; raise ChapterFailed naming each failure."""
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
    staging = Path(tempfile.mkdtemp(prefix="kam-chapters-"))
    failures: list[str] = []
    server = KernelServer(warm=warm, cwd=book) if kernel_server and notebooks else None
    try:
        if server is not None:
            server.__enter__()
        jobs_by_future = {}
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
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
        written = []
        for notebook in notebooks:
            relative = notebook.relative_to(book)
            destination = out / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(staging / relative, destination)  # a rename (replacing it) on one file system, else a copy
            written.append(destination)
        return written
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
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{len(written)} chapters executed for wave {wave} in {time.perf_counter() - started:.1f} s")
    return 0
