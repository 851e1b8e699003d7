"""Build the website: every edition at its own address, the latest at the site root.

    _build/site/
        index.html, chapters/, _static/, ...   a copy of the latest edition
        editions.js                             the editions index kam.js reads (banner, editions page)
        editions/<wave>/                        each edition, at its permanent address

`make site` (this script) builds the current edition (the last in data/editions.yml)
from the committed chapters and copies it to `editions/<wave>/` and to the root. An
earlier edition that is already in `_build/site/editions/` is left exactly as it is:
its pages were published and are cited, and the banner pointing to the latest comes
from the site's editions.js, not from the pages. An earlier edition that is missing
(a clean clone) is rebuilt: its chapters are executed with papermill for its wave in
a temporary copy of the book, which is then built for that edition.

    kam site                     # build the current edition, then assemble
    kam site --html _build/html  # the current edition is already built there (kam book)

`kam wave` (kamsurvey.build.publish) uses the same pieces to publish a new wave.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kamsurvey.build import chapters
from kamsurvey.data.editions import Edition, current_edition, load_editions
from kamsurvey.site.editions_index import EDITIONS_JS, editions_js
from kamsurvey.site.render import FIGURE_CACHE

SITE = Path("_build") / "site"
EDITIONS_DIR = "editions"
# never copied into a staging copy of the book: environments, builds, caches, VCS
NOT_SOURCES = (".git", ".venv", "_build", "node_modules", "__pycache__", ".pytest_cache", "*.egg-info",
               ".ipynb_checkpoints", ".staging")
WAVE_CACHE = ".wave-cache"  # kamsurvey.data.cache


class StepFailed(RuntimeError):
    """A step of building or publishing failed; the message says which and why."""

    def __init__(self, step: str, reason: str):
        self.step = step
        self.reason = reason
        super().__init__(f"{step}: {reason}")


def say(message: str) -> None:
    print(message, flush=True)


# --------------------------------------------------------------------------- a book in a temporary place


def copy_sources(book: Path, dest: Path) -> Path:
    """A copy of the book's sources (no environment, builds or VCS), with the figure and wave caches if any."""
    shutil.copytree(book, dest, ignore=shutil.ignore_patterns(*NOT_SOURCES), symlinks=True)
    # rendered SVG/PNG keyed by spec, validated waves keyed by their files: reusing them only saves time
    for name in (FIGURE_CACHE, WAVE_CACHE):
        cache = book / "_build" / name
        if cache.is_dir():
            shutil.copytree(cache, dest / "_build" / name, ignore=shutil.ignore_patterns(".*.tmp"))
    return dest




WARNING_LINE = re.compile(r"(WARNING|ERROR|CRITICAL|Exception|Error:)")


def build_book(book: Path, *, edition: str) -> Path:
    """`jupyter-book build -W -n --keep-going` of `book` for `edition`; its HTML folder, or StepFailed with the warnings."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    env = dict(os.environ, KAM_EDITION=str(edition))
    started = time.perf_counter()
    result = subprocess.run([str(jupyter_book), "build", str(book), "-W", "-n", "--keep-going"],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        log = (result.stdout + "\n" + result.stderr).replace(str(book) + os.sep, "")
        lines = [line.strip() for line in log.splitlines() if WARNING_LINE.search(line)]
        shown = "\n  ".join(dict.fromkeys(lines)) or log.strip()[-3000:]
        raise StepFailed("build", f"jupyter-book build of the {edition} edition failed (warnings are errors):\n  {shown}")
    say(f"      built the {edition} edition in {time.perf_counter() - started:.1f} s")
    return book / "_build" / "html"


def execute_chapters(book: Path, *, wave: str, compare_with: str, jobs: int) -> None:
    """Every chapter of `book` executed with papermill for `wave`, in place (run_chapters: all or nothing)."""
    try:
        written = chapters.run(book, book, wave=wave, compare_with=compare_with or "", data_dir="../data", jobs=jobs)
    except chapters.ChapterFailed as failure:
        raise StepFailed("execute", str(failure)) from None
    say(f"      {len(written)} chapters executed for wave {wave}" + (f", compared with {compare_with}" if compare_with else ""))


def build_earlier_edition(book: Path, edition: Edition, work: Path, *, jobs: int) -> Path:
    """An earlier edition rebuilt from today's chapters, executed for its wave in a copy of the book."""
    copy = copy_sources(book, work / f"edition-{edition.wave}")
    say(f"      executing the chapters for the {edition.wave} edition (not in the site yet)")
    execute_chapters(copy, wave=edition.wave, compare_with=edition.compare_with or "", jobs=jobs)
    return build_book(copy, edition=edition.wave)


# --------------------------------------------------------------------------- the site


def copy_tree(source: Path, dest: Path) -> None:
    shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns(".buildinfo", ".doctrees"))


def stage_site(site: Path, work: Path, editions: list[Edition], current_html: Path, *,
               build_missing=None) -> dict[str, Path]:
    """Everything the site needs that it does not have yet, staged under `work` (nothing in `site` is touched).

    Returns what to move into the site: 'editions/<wave>' for the current edition and each
    earlier edition missing from `site` (built with `build_missing(edition)`), 'root' (a copy
    of the current edition) and 'editions.js'.
    """
    current = current_edition(editions)
    staged: dict[str, Path] = {}
    for edition in editions[:-1]:
        if (site / EDITIONS_DIR / edition.wave / "index.html").is_file():
            continue
        if build_missing is None:
            raise StepFailed("site", f"the {edition.wave} edition is not in {site} and cannot be built here")
        html = build_missing(edition)
        copy_tree(html, work / "site" / EDITIONS_DIR / edition.wave)
        staged[f"{EDITIONS_DIR}/{edition.wave}"] = work / "site" / EDITIONS_DIR / edition.wave
    copy_tree(current_html, work / "site" / EDITIONS_DIR / current.wave)
    staged[f"{EDITIONS_DIR}/{current.wave}"] = work / "site" / EDITIONS_DIR / current.wave
    copy_tree(current_html, work / "site-root")
    staged["root"] = work / "site-root"
    (work / EDITIONS_JS).write_text(editions_js(editions), encoding="utf-8")
    staged[EDITIONS_JS] = work / EDITIONS_JS
    return staged


class Swap:
    """Moves staged files into place; on failure, `undo` puts every replaced path back."""

    def __init__(self, trash: Path):
        self.trash = trash
        self.done: list[tuple[Path, Path | None]] = []

    def put(self, staged: Path, dest: Path) -> None:
        """Replace `dest` (file or folder) by `staged`; a rename when both are on one file system."""
        backup = None
        if dest.exists() or dest.is_symlink():
            backup = self.trash / f"{len(self.done)}-{dest.name}"
            backup.parent.mkdir(parents=True, exist_ok=True)
            os.replace(dest, backup)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self.done.append((dest, backup))
        shutil.move(str(staged), str(dest))

    def remove(self, dest: Path) -> None:
        if dest.exists():
            backup = self.trash / f"{len(self.done)}-{dest.name}"
            backup.parent.mkdir(parents=True, exist_ok=True)
            os.replace(dest, backup)
            self.done.append((dest, backup))

    def undo(self) -> None:
        for dest, backup in reversed(self.done):
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest, ignore_errors=True)
            elif dest.exists():
                dest.unlink()
            if backup is not None:
                os.replace(backup, dest)
        self.done.clear()


def publish_site(site: Path, staged: dict[str, Path], swap: Swap) -> None:
    """Move the staged editions, root copy and editions.js into `site`; earlier editions are not touched."""
    site.mkdir(parents=True, exist_ok=True)
    for key, path in staged.items():
        if key.startswith(f"{EDITIONS_DIR}/"):
            swap.put(path, site / key)
    root = staged["root"]
    for entry in sorted(site.iterdir()):
        if entry.name not in (EDITIONS_DIR,) and not (root / entry.name).exists():
            swap.remove(entry)
    for entry in sorted(root.iterdir()):
        if entry.name == EDITIONS_DIR:
            continue
        swap.put(entry, site / entry.name)
    swap.put(staged[EDITIONS_JS], site / EDITIONS_JS)
    nojekyll = root.parent / ".nojekyll"
    nojekyll.write_text("")
    swap.put(nojekyll, site / ".nojekyll")  # GitHub Pages: serve _static/ and other underscore folders


def build_site(book: Path, *, html: Path | None = None, jobs: int | None = None) -> Path:
    editions = load_editions(book / "data")
    current = current_edition(editions)
    site = book / SITE
    staging_root = book / "_build" / ".staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="site-", dir=staging_root))
    swap = Swap(work / "replaced")
    try:
        if html is None:
            say(f"[site] building the current edition ({current.wave}) from the committed chapters")
            html = build_book(book, edition=current.wave)
        staged = stage_site(site, work, editions, html,
                            build_missing=lambda e: build_earlier_edition(book, e, work, jobs=jobs or os.cpu_count() or 1))
        try:
            publish_site(site, staged, swap)
        except BaseException:
            swap.undo()
            raise
        kept = [e.wave for e in editions[:-1] if f"{EDITIONS_DIR}/{e.wave}" not in staged]
        built = [k.split("/", 1)[1] for k in staged if k.startswith(f"{EDITIONS_DIR}/")]
        say(f"[site] {site}: latest {current.wave} at the root; editions built: {', '.join(built)}"
            + (f"; kept as published: {', '.join(kept)}" if kept else ""))
        return site
    finally:
        shutil.rmtree(work, ignore_errors=True)
        remove_if_empty(staging_root)


def remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty (another run is using it) or already gone
        pass


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--html", type=Path, default=None,
                        help="the current edition is already built in this folder (e.g. _build/html): use it")
    parser.add_argument("--jobs", type=int, default=None, help="chapters executed at once for a missing edition")
    parser.add_argument("--book", type=Path, default=Path("."), help="the book's folder (default: here)")


def command(args: argparse.Namespace) -> int:
    try:
        build_site(args.book.resolve(), html=args.html.resolve() if args.html else None, jobs=args.jobs)
    except StepFailed as failure:
        print(f"error: {failure.step} failed: {failure.reason}", file=sys.stderr)
        return 1
    return 0
