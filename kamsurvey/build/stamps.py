"""Run a step of `kam book` only when its inputs changed since it last succeeded.

    kam book                    # chapters, html, site: each only if its inputs changed
    kam book html site          # those steps only
    kam book --check chapters   # exit 0 if up to date, 1 if the step would run

Each step has a list of inputs (STEPS: file patterns, and environment variables). After the
command succeeds, a SHA-256 of every input file's path and bytes (and of the command line) is
written to `_build/.stamps/<step>`. Next time, if the inputs hash the same and the step's
outputs exist, the command is not run: rerunning `make book` on unchanged inputs re-executes
no notebook and rebuilds nothing. Any change to an input (a chapter, a data file, the
codebook, the package's source, the lock...) gives a different hash, and the step runs.

The chapters step rewrites its own inputs (the notebooks get their outputs): its stamp hashes
the notebooks as the run left them, so editing a notebook afterwards runs it again. A step
whose other inputs changed while it ran, or that did not leave its outputs (for html and site:
a page for every document the table of contents lists), is not stamped (it runs again next time).
A failed step removes its stamp; a stamp that cannot be read counts as missing. To force a step,
remove its stamp (or `make clean`).

The steps run as child processes holding this command's writer lock (kamsurvey.build.lock).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kamsurvey.build import lock
from kamsurvey.site import printed

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
    # folders that must hold a page for every document of the table of contents
    pages: tuple[str, ...] = ()
    # (what, function): tools of the machine the output depends on, found by the function (e.g. the Chromium
    # that prints the edition's PDF: installing it later makes the step run again)
    tools: tuple[tuple[str, Callable[[], str | None]], ...] = ()
    description: str = field(default="", compare=False)


LOCK = ("requirements.txt", "pyproject.toml")
STEPS: dict[str, Step] = {
    "chapters": Step(
        inputs=("_toc.yml", "chapters/**/*.ipynb", "data/**/*", "kamsurvey/**/*", *LOCK),
        rewritten=("chapters/**/*.ipynb",),
        env=("PYTHONHASHSEED",),
        description="every chapter executed with papermill",
    ),
    "html": Step(
        inputs=("_config.yml", "_toc.yml", "*.md", "*.bib", "CITATION.cff", "_static/**/*", "chapters/**/*.ipynb",
                "kamsurvey/**/*", "data/editions.yml", "data/waves/*/wave.yml", *LOCK),
        outputs=("_build/html/index.html",),
        pages=("_build/html",),
        env=("KAM_EDITION",),
        tools=(("print browser", printed.find_chromium),),  # the briefing kit's PDF is printed with it, if found
        description="the current edition built by jupyter-book",
    ),
    "site": Step(
        inputs=("_build/html/**/*", "data/**/*", "chapters/**/*.ipynb", "kamsurvey/**/*", "editions/*", *LOCK),
        # which editions the site holds (a missing one is rebuilt); the step adds the current one itself
        present=("_build/site/editions/*/index.html",),
        rewritten=("_build/site/editions/*/index.html",),
        outputs=("_build/site/index.html", "_build/site/editions.js"),
        pages=("_build/site",),
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
    for what, find in step.tools:
        digest.update(f"tool {what}={find() or ''}\0".encode())
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


def outputs_complete(root: Path, step: Step) -> bool:
    """The step's outputs exist, and a page for every document of the table of contents (a page deleted from
    _build/html since is not 'up to date')."""
    if not all((root / output).exists() for output in step.outputs):
        return False
    if step.pages:
        from kamsurvey.build.chapters import toc_documents

        try:
            pages = [f"{name}.html" for name in toc_documents(root)]
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return False  # no readable table of contents: nothing to vouch for
        return all((root / folder / page).is_file() for folder in step.pages for page in pages)
    return True


def read_stamp(stamp: Path) -> str | None:
    """The hash a stamp holds; None if there is none or it cannot be read (then the step simply runs)."""
    try:
        return stamp.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def up_to_date(root: Path, name: str, command: list[str]) -> bool:
    step = STEPS[name]
    recorded = read_stamp(stamp_path(root, name))
    if recorded is None or not outputs_complete(root, step):
        return False
    return recorded == fingerprint(root, step, command)


def remove_stamp(stamp: Path) -> None:
    if stamp.is_dir() and not stamp.is_symlink():
        shutil.rmtree(stamp)
    else:
        stamp.unlink(missing_ok=True)


def run_step(root: Path, name: str, command: list[str]) -> int:
    step = STEPS[name]
    if up_to_date(root, name, command):
        print(f"{name}: up to date ({step.description}; inputs unchanged since the last run; "
              f"remove {STAMPS / name} to force)", flush=True)
        return 0
    stamp = stamp_path(root, name)
    remove_stamp(stamp)
    before = fingerprint(root, step, command, leave_out=step.rewritten)
    result = subprocess.run(command, cwd=root, **lock.child_options())
    if result.returncode != 0:
        return result.returncode
    after = fingerprint(root, step, command, leave_out=step.rewritten)
    if after != before:
        print(f"{name}: inputs changed while the step ran; it will run again next time", flush=True)
        return 0
    if not outputs_complete(root, step):
        print(f"{name}: the step did not leave every page of the table of contents; not stamped", flush=True)
        return 0  # it did not make what it should have: nothing to vouch for
    stamp.parent.mkdir(parents=True, exist_ok=True)
    temporary = stamp.with_suffix(".tmp")
    # with nothing rewritten, `after` already hashes every input
    temporary.write_text((fingerprint(root, step, command) if step.rewritten else after) + "\n", encoding="utf-8")
    os.replace(temporary, stamp)
    return 0


def step_command(name: str) -> list[str]:
    """The command a step runs: `python -m kamsurvey <step>` (this environment)."""
    if name == "site":
        return [sys.executable, "-m", "kamsurvey", "site", "--html", "_build/html"]
    return [sys.executable, "-m", "kamsurvey", name]



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("steps", nargs="*", metavar="STEP",
                        help=f"steps to bring up to date, in order (default: all: {', '.join(STEPS)})")
    parser.add_argument("--check", action="store_true", help="only say whether the steps are up to date (exit 0) or not (1)")
    parser.add_argument("--book", type=Path, default=Path("."), help="the book's folder (default: here)")


def command(args: argparse.Namespace) -> int:
    root = args.book.resolve()
    unknown = [s for s in args.steps if s not in STEPS]
    if unknown:
        print(f"kam book: no step {', '.join(unknown)}; the steps are {', '.join(STEPS)}", file=sys.stderr)
        return 2
    steps = [s for s in STEPS if s in (args.steps or STEPS)]
    if args.check:
        return 0 if all(up_to_date(root, s, step_command(s)) for s in steps) else 1
    for name in steps:
        code = run_step(root, name, step_command(name))
        if code:
            return code
        if name == "html":
            print("Open _build/html/index.html", flush=True)
    return 0
