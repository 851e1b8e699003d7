"""Build the website: every edition at its own address, the latest at the site root.

    _build/site/ -> _build/.versions/site-…     (a symbolic link, switched in one rename)
        index.html, chapters/, _static/, ...    a copy of the current edition
        editions.js                             the editions index kam.js reads (banner, editions page)
        editions/<wave>/                        each edition, at its permanent address

    kam site                     # build the current edition into _build/html, then assemble the site
    kam site --html _build/html  # the current edition is already built there (kam book)

The current edition (the last in data/editions.yml) is built from the committed chapters. Every
earlier edition comes from its archive, editions/<wave>.tar.gz, checked against its manifest
(kamsurvey.build.archive): it is never re-executed or rebuilt with today's code, so a cited page
never changes. An earlier edition from before archives, kept in the previous _build/site/, is kept as
it is; one that is in neither place is an error, not a rebuild. If the current edition is archived
too (published by `kam wave`), the site serves the archive, and says whether today's build of it is
byte for byte the archived one (it should be: a difference means the code changes published pages).

Nothing readers see changes until the end: the current edition is built in a copy of the book under
_build/.staging/, the new site is assembled in a new folder under _build/.versions/ (files shared
with the build and the previous site as hard links), checked (every page of the table of contents,
the edition it names), and only then do _build/html and _build/site switch to them
(kamsurvey.build.journal). `kam wave` (kamsurvey.build.publish) uses the same pieces.
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

from kamsurvey.build import archive, chapters
from kamsurvey.build.console import fail, say
from kamsurvey.build.journal import (JOURNAL, STAGING, VERSIONS, Edited, Transaction, Unrecoverable, changed_since,
                                     digests, tidy)
from kamsurvey.data.editions import Edition, current_edition, load_editions
from kamsurvey.site.editions_index import EDITIONS_JS, editions_js
from kamsurvey.site.render import FIGURE_CACHE

SITE = Path("_build") / "site"
HTML = Path("_build") / "html"
EDITIONS_DIR = "editions"
# never copied into a staging copy of the book: environments, builds, caches, VCS
NOT_SOURCES = (".git", ".venv*", "_build", "node_modules", "__pycache__", ".pytest_cache", "*.egg-info",
               ".ipynb_checkpoints", ".staging")
WAVE_CACHE = ".wave-cache"  # kamsurvey.data.cache
EDITION_META = re.compile(r'<meta name="kam-edition" content="([^"]+)"')


class StepFailed(RuntimeError):
    """A step of building or publishing failed; the message says which and why."""

    def __init__(self, step: str, reason: str):
        self.step = step
        self.reason = reason
        super().__init__(f"{step}: {reason}")


# --------------------------------------------------------------------------- a book in a temporary place


def copy_sources(book: Path, dest: Path) -> Path:
    """A copy of the book's sources (no environment, builds, VCS or edition archives), with its caches if any."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        ignored = shutil.ignore_patterns(*NOT_SOURCES)(folder, names)
        if Path(folder) == book:  # the archives are read from the repository itself (kamsurvey.build.archive)
            ignored |= {archive.ARCHIVES} & set(names)
        return ignored

    shutil.copytree(book, dest, ignore=ignore, symlinks=True)
    # rendered SVG/PNG keyed by spec, validated waves keyed by their files: reusing them only saves time
    for name in (FIGURE_CACHE, WAVE_CACHE):
        cache = book / "_build" / name
        if cache.is_dir():
            link_tree(cache, dest / "_build" / name, ignore=(".*.tmp",))
    return dest


def source_digests(copy: Path) -> dict[str, str | None]:
    """SHA-256 of every source file of a staging copy, as it was copied: what the run is built from."""
    return digests(copy, sorted(p for p in copy.rglob("*") if p.is_file() and p.relative_to(copy).parts[0] != "_build"))


def check_unchanged(root: Path, recorded: dict[str, str | None], what: str) -> None:
    """StepFailed('publish') naming the sources edited in the repository since the run copied them."""
    changed = changed_since(root, recorded)
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise StepFailed("publish", f"{shown} changed while {what} ran (it was built from the earlier version): "
                         "nothing was replaced and the edit is kept; run it again to include the edit")


def merge_caches(copy: Path, book: Path) -> None:
    """What a staging copy added to the figure and wave caches, linked into the book's (saves the next run)."""
    for name in (FIGURE_CACHE, WAVE_CACHE):
        source, dest = copy / "_build" / name, book / "_build" / name
        if not source.is_dir():
            continue
        for path in sorted(source.rglob("*")):
            target = dest / path.relative_to(source)
            if path.is_file() and not path.name.endswith(".tmp") and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(path, target)


def _link_or_copy(source, dest) -> None:
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def link_tree(source: Path, dest: Path, *, ignore: tuple[str, ...] = archive.NOT_PUBLISHED) -> None:
    """`dest` holds the files of `source`: hard links where possible (no bytes copied; files of a build are
    never changed in place, only replaced), copies elsewhere."""
    shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns(*ignore), copy_function=_link_or_copy)


def new_version(root: Path, kind: str) -> Path:
    """A new folder under _build/.versions/ for a site or an html build (readable by a web server)."""
    (root / VERSIONS).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=root / VERSIONS))
    folder.chmod(0o755)
    return folder


def staging_folder(root: Path, prefix: str) -> Path:
    (root / STAGING).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root / STAGING))


WARNING_LINE = re.compile(r"(WARNING|ERROR|CRITICAL|Exception|Error:)")


def build_book(book: Path, *, edition: str) -> Path:
    """`jupyter-book build -W -n --keep-going` of `book` for `edition`; its HTML folder, or StepFailed with the warnings.

    `book` is a fresh copy (no earlier _build/html): a build into an existing folder differs from a fresh one
    (Sphinx adds `?v=<checksum>` to a stylesheet myst-nb writes only at the end of a build), and an edition's
    bytes must not depend on what was built before."""
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


def toc_pages(book: Path) -> list[str]:
    """The page of every document the table of contents lists (chapters/introduction.html, ...)."""
    return [f"{name}.html" for name in chapters.toc_documents(book)]


def built_edition(html: Path) -> str | None:
    """The edition a built book says it is (its index.html's kam-edition), if any."""
    try:
        match = EDITION_META.search((html / "index.html").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None
    return match.group(1) if match else None


def check_built_edition(book: Path, html: Path, wave: str) -> None:
    """StepFailed unless `html` has a page for every document of the table of contents and is the `wave` edition."""
    missing = [page for page in toc_pages(book) if not (html / page).is_file()]
    if missing:
        raise StepFailed("build", f"{html}: no {', '.join(missing)} (the table of contents lists it)")
    found = built_edition(html)
    if found != wave:
        raise StepFailed("build", f"{html}/index.html is the {found or 'unnamed'} edition, not the {wave} edition")


def execute_chapters(book: Path, *, wave: str, compare_with: str, jobs: int) -> None:
    """Every chapter of the staging copy `book` executed with papermill for `wave`, in place (all or nothing)."""
    try:
        written = chapters.run(book, book, wave=wave, compare_with=compare_with or "", data_dir="../data", jobs=jobs,
                               private=True)
    except chapters.ChapterFailed as failure:
        raise StepFailed("execute", str(failure)) from None
    say(f"      {len(written)} chapters executed for wave {wave}" + (f", compared with {compare_with}" if compare_with else ""))


# --------------------------------------------------------------------------- the current edition (_build/html)


def build_current(root: Path, edition: str) -> tuple[Path, dict[str, str | None]]:
    """The `edition` built from a copy of the book's sources, in a new folder under _build/.versions/; and the
    digests of the sources it was built from."""
    work = staging_folder(root, "html-")
    try:
        copy = copy_sources(root, work / "book")
        recorded = source_digests(copy)
        html = build_book(copy, edition=edition)
        check_built_edition(copy, html, edition)
        merge_caches(copy, root)
        version = new_version(root, "html")
        version.rmdir()
        os.rename(html, version)
        return version, recorded
    finally:
        shutil.rmtree(work, ignore_errors=True)
        tidy(root)


def publish_html(root: Path) -> Path:
    """Build the current edition and switch _build/html to it; unless a source changed meanwhile (StepFailed)."""
    edition = current_edition(load_editions(root / "data"))
    say(f"[html] building the current edition ({edition.wave}) from the committed chapters")
    version, recorded = build_current(root, edition.wave)
    try:
        check_unchanged(root, recorded, "kam html")
    except StepFailed:
        shutil.rmtree(version, ignore_errors=True)
        raise
    switch(root, {HTML: version}, f"kam html ({edition.wave} edition)")
    return root / HTML


def switch(root: Path, links: dict[Path, Path], what: str) -> None:
    """Point each link (_build/html, _build/site) at its new version, together (StepFailed if something was edited);
    a version not switched in is removed."""
    transaction = Transaction(root, what)
    for link, version in links.items():
        transaction.point(root / link, version)
    try:
        transaction.commit()
    except BaseException as error:
        if not (root / JOURNAL).exists():
            for version in links.values():
                shutil.rmtree(version, ignore_errors=True)
        if isinstance(error, (Edited, Unrecoverable)):
            raise StepFailed("publish", str(error)) from None
        raise


# --------------------------------------------------------------------------- the site


def assemble_site(root: Path, editions: list[Edition], current_html: Path, *,
                  being_archived: dict[str, Path] | None = None) -> tuple[Path, dict[str, str]]:
    """A new site in a new folder under _build/.versions/ (nothing served changes); and where each edition came from.

    Earlier editions come from their archives (checked), else from the site as it is (an edition from
    before archives), else from `being_archived` (editions `kam wave` is archiving now, built from the
    sources as committed); the current one from `current_html`, which must match its archive if it has one."""
    problems = archive.check_all(root)
    if problems:
        raise StepFailed("site", "\n  ".join(["an archived edition does not match its manifest:", *problems]))
    current = current_edition(editions)
    previous_site = root / SITE
    being_archived = being_archived or {}
    version = new_version(root, "site")
    sources: dict[str, str] = {}
    try:
        for edition in editions[:-1]:
            dest = version / EDITIONS_DIR / edition.wave
            dest.parent.mkdir(parents=True, exist_ok=True)
            if archive.is_archived(root, edition.wave):
                archive.extract(root, edition.wave, dest)
                sources[edition.wave] = "archive"
            elif edition.wave in being_archived:
                link_tree(being_archived[edition.wave], dest)
                sources[edition.wave] = "archived now"
            elif (previous_site / EDITIONS_DIR / edition.wave / "index.html").is_file():
                link_tree(previous_site / EDITIONS_DIR / edition.wave, dest)
                sources[edition.wave] = "kept (not archived)"
            else:
                raise StepFailed("site", f"the {edition.wave} edition is neither archived ({archive.ARCHIVES}/"
                                 f"{edition.wave}.tar.gz) nor in {SITE}/: an earlier edition is never rebuilt with "
                                 "today's code (its cited pages would change); restore its archive")
        check_built_edition(root, current_html, current.wave)
        edition_folder = version / EDITIONS_DIR / current.wave
        edition_folder.parent.mkdir(parents=True, exist_ok=True)
        if archive.is_archived(root, current.wave):
            # published (kam wave): the site serves the archive; today's build must be the same bytes
            archive.extract(root, current.wave, edition_folder)
            changed = archive.differences(root, current.wave, current_html)
            sources[current.wave] = "archive; today's build is identical" if not changed else (
                "archive; today's build differs in " + ", ".join(changed[:5])
                + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
                + " and is not published (a published edition never changes: publish a change as a new wave)")
        else:
            link_tree(current_html, edition_folder)
            sources[current.wave] = "built"
        for entry in sorted(edition_folder.iterdir()):
            if entry.name == EDITIONS_DIR:
                continue
            if entry.is_dir() and not entry.is_symlink():
                link_tree(entry, version / entry.name)
            else:
                _link_or_copy(entry, version / entry.name)
        _write_new(version / EDITIONS_JS, editions_js(editions))
        _write_new(version / ".nojekyll", "")  # GitHub Pages: serve _static/ and other underscore folders
        check_built_edition(root, version, current.wave)
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        raise
    return version, sources


def _write_new(path: Path, text: str) -> None:
    """Write a file afresh (never through a hard link shared with a build)."""
    path.unlink(missing_ok=True)
    path.write_text(text, encoding="utf-8")


def build_site(book: Path, *, html: Path | None = None) -> Path:
    editions = load_editions(book / "data")
    current = current_edition(editions)
    if html is None:
        html = publish_html(book)
    version, sources = assemble_site(book, editions, html.resolve())
    switch(book, {SITE: version}, f"kam site ({current.wave} edition)")
    described = "; ".join(f"{wave}: {source}" for wave, source in sources.items())
    say(f"[site] {book / SITE}: latest {current.wave} at the root; editions: {described}")
    return book / SITE



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--html", type=Path, default=None,
                        help="the current edition is already built in this folder (e.g. _build/html): use it")
    parser.add_argument("--book", type=Path, default=Path("."), help="the book's folder (default: here)")


def command(args: argparse.Namespace) -> int:
    try:
        build_site(args.book.resolve(), html=args.html.resolve() if args.html else None)
    except StepFailed as failure:
        fail(f"error: {failure.step} failed: {failure.reason}")
        return 1
    except archive.ArchiveProblem as problem:
        fail(f"error: site failed: {problem}")
        return 1
    return 0
