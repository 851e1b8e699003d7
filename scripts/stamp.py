#!/usr/bin/env python
"""Run a step of `make book` only when its inputs changed since it last succeeded.

    python scripts/stamp.py chapters -- python scripts/run_chapters.py
    python scripts/stamp.py html -- jupyter-book build . -W -n --keep-going
    python scripts/stamp.py site -- python scripts/build_site.py --html _build/html
    python scripts/stamp.py --check chapters        # exit 0 if up to date, 1 if the step would run

Each step has a list of inputs (STEPS: file patterns, and environment variables). After the
command succeeds, a SHA-256 of every input file's path and bytes (and of the command line) is
written to `_build/.stamps/<step>`. Next time, if the inputs hash the same and the step's
outputs exist, the command is not run: rerunning `make book` on unchanged inputs re-executes
no notebook and rebuilds nothing. Any change to an input (a chapter, a data file, the
codebook, the package's source, the lock...) gives a different hash, and the step runs.

The chapters step rewrites its own inputs (the notebooks get their outputs): its stamp hashes
the notebooks as the run left them, so editing a notebook afterwards runs it again. A step
whose other inputs changed while it ran, or that did not leave its outputs, is not stamped
(it runs again next time). A failed step removes its stamp. To force a step, remove its stamp (or `make clean`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STAMPS = Path("_build") / ".stamps"
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class Step:
    inputs: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    # files whose presence (not content) is an input
    present: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    # inputs the step itself rewrites: hashed as the step left them, left out of the "did the
    # inputs change while it ran?" check
    rewritten: tuple[str, ...] = ()
    description: str = field(default="", compare=False)


LOCK = ("requirements.txt", "pyproject.toml")
STEPS: dict[str, Step] = {
    "chapters": Step(
        inputs=("_toc.yml", "chapters/**/*.ipynb", "data/**/*", "kamsurvey/**/*", "scripts/run_chapters.py", *LOCK),
        rewritten=("chapters/**/*.ipynb",),
        env=("PYTHONHASHSEED",),
        description="every chapter executed with papermill",
    ),
    "html": Step(
        inputs=("_config.yml", "_toc.yml", "*.md", "*.bib", "CITATION.cff", "_static/**/*", "chapters/**/*.ipynb",
                "kamsurvey/**/*", "data/editions.yml", "data/waves/*/wave.yml", *LOCK),
        outputs=("_build/html/index.html",),
        env=("KAM_EDITION",),
        description="the current edition built by jupyter-book",
    ),
    "site": Step(
        inputs=("_build/html/**/*", "data/**/*", "chapters/**/*.ipynb", "kamsurvey/**/*", "scripts/build_site.py",
                "scripts/run_chapters.py", *LOCK),
        # which editions the site holds (a missing one is rebuilt); the step adds the current one itself
        present=("_build/site/editions/*/index.html",),
        rewritten=("_build/site/editions/*/index.html",),
        outputs=("_build/site/index.html", "_build/site/editions.js"),
        description="the website of every edition",
    ),
}


def input_files(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    files = {p for pattern in patterns for p in root.glob(pattern)
             if p.is_file() and not SKIPPED_PARTS.intersection(p.relative_to(root).parts)}
    return sorted(files)


def fingerprint(root: Path, step: Step, command: list[str], *, leave_out: tuple[str, ...] = ()) -> str:
    """SHA-256 of the step's input files (path and bytes), its environment variables and its command."""
    left_out = set(input_files(root, leave_out)) if leave_out else set()
    digest = hashlib.sha256()
    digest.update(("\0".join(command) + "\0\0").encode())
    for name in step.env:
        digest.update(f"{name}={os.environ.get(name, '')}\0".encode())
    for path in input_files(root, step.present):
        if path not in left_out:
            digest.update(b"present\0" + str(path.relative_to(root)).encode() + b"\0")
    for path in input_files(root, step.inputs):
        if path in left_out:
            continue
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def stamp_path(root: Path, name: str) -> Path:
    return root / STAMPS / name


def up_to_date(root: Path, name: str, command: list[str]) -> bool:
    step = STEPS[name]
    stamp = stamp_path(root, name)
    if not stamp.is_file() or not all((root / output).exists() for output in step.outputs):
        return False
    return stamp.read_text(encoding="utf-8").strip() == fingerprint(root, step, command)


def run_step(root: Path, name: str, command: list[str]) -> int:
    step = STEPS[name]
    if up_to_date(root, name, command):
        print(f"{name}: up to date ({step.description}; inputs unchanged since the last run; "
              f"remove {STAMPS / name} to force)", flush=True)
        return 0
    stamp = stamp_path(root, name)
    stamp.unlink(missing_ok=True)
    before = fingerprint(root, step, command, leave_out=step.rewritten)
    result = subprocess.run(command, cwd=root)
    if result.returncode != 0:
        return result.returncode
    after = fingerprint(root, step, command, leave_out=step.rewritten)
    if after != before:
        print(f"{name}: inputs changed while the step ran; it will run again next time", flush=True)
        return 0
    if not all((root / output).exists() for output in step.outputs):
        return 0  # it did not make what it should have: nothing to vouch for
    stamp.parent.mkdir(parents=True, exist_ok=True)
    temporary = stamp.with_suffix(".tmp")
    # with nothing rewritten, `after` already hashes every input
    temporary.write_text((fingerprint(root, step, command) if step.rewritten else after) + "\n", encoding="utf-8")
    os.replace(temporary, stamp)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     usage="stamp.py [--check] [--root DIR] STEP -- COMMAND...")
    parser.add_argument("step", choices=sorted(STEPS), help="which step of make book")
    parser.add_argument("--check", action="store_true", help="only say whether the step is up to date (exit 0) or not (1)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the book's folder (default: here)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.check:
        return 0 if up_to_date(root, args.step, command) else 1
    if not command:
        parser.error("give the step's command after --")
    return run_step(root, args.step, command)


if __name__ == "__main__":
    sys.exit(main())
