"""Take the member briefing kit out of the built edition: the slides, the print edition, every figure, the key findings.

    kam briefing                      # from _build/html into _build/briefing
    kam briefing --site _build/html --out /tmp/briefing

The kit is made by the build of the edition itself (kamsurvey.site.kit), so that it is part of
the edition's pages on the website, and of its archive; this command copies it out, for whoever
prepares a briefing from the repository:

    <book>_<wave>_slides.pptx        the slide deck (16:9)
    <book>_<wave>.pdf                the print edition (when the build had Chromium)
    <book>_<wave>_figures.zip        every figure: data (CSV), a note on the numbers (TXT), chart (SVG), slide image (PNG)
    <book>_<wave>_key-findings.html  the landing page's key findings on one page, and .md

Nothing is made here, so nothing can differ from what the website offers: on unchanged inputs
`make briefing` gives the same bytes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from kamsurvey.site.kit import KINDS, KIT_DIR

EDITION_META = re.compile(r'<meta name="kam-edition" content="([^"]+)"')


class BriefingError(RuntimeError):
    """The built site lacks something the briefing needs."""


def site_edition(site: Path) -> str:
    match = EDITION_META.search((site / "index.html").read_text(encoding="utf-8"))
    if not match:
        raise BriefingError(f"{site / 'index.html'} names no edition (meta kam-edition): is it a build of this book?")
    return match.group(1)


def kit_of(site: Path) -> dict[str, Path]:
    """kind -> file of the kit in the built edition `site` (the print edition only if the build made it)."""
    if not (site / "index.html").exists():
        raise BriefingError(f"no built site at {site}: run `make html` first")
    wave = site_edition(site)
    folder = site / KIT_DIR
    found = {}
    for kind, (suffix, _) in KINDS.items():
        matches = sorted(p for p in folder.glob(f"*_{wave}{suffix}") if p.is_file()) if folder.is_dir() else []
        if matches:
            found[kind] = matches[0]
    missing = [KINDS[kind][1] for kind in KINDS if kind != "print" and kind not in found]
    if missing:
        raise BriefingError(f"the built {wave} edition has no briefing kit ({site / KIT_DIR}: no {', '.join(missing)}): "
                            "run `make html`")
    return found


NAMES = {"deck": "deck", "print": "pdf", "figures": "figures", "findings": "html", "findings_md": "markdown"}


def write_briefing(book: Path, site: Path, out: Path) -> dict[str, Path]:
    """Copy the kit of the built edition `site` into `out`, replacing what a previous run wrote there only once the
    copy is complete (a failure leaves the previous one as it was); its files: deck, pdf (if made), figures, html,
    markdown."""
    kit = kit_of(site)
    out.parent.mkdir(parents=True, exist_ok=True)
    pack = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    try:
        for path in kit.values():
            shutil.copyfile(path, pack / path.name)
        pack.chmod(0o755)
        replace_folder(pack, out)
    except BaseException:
        shutil.rmtree(pack, ignore_errors=True)
        raise
    return {NAMES[kind]: out / path.name for kind, path in kit.items()}


def replace_folder(new: Path, dest: Path) -> None:
    """`dest` becomes the folder `new`: two renames, the previous one removed after."""
    old = dest.with_name(f".{dest.name}-old-{os.getpid()}")
    if dest.exists():
        os.rename(dest, old)
    os.rename(new, dest)
    shutil.rmtree(old, ignore_errors=True)



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--book", type=Path, default=Path("."), help="the book's folder (where _build/ is)")
    parser.add_argument("--site", type=Path, default=None, help="the built edition (default: <book>/_build/html)")
    parser.add_argument("--out", type=Path, default=None, help="where to write it (default: <book>/_build/briefing)")


def command(args: argparse.Namespace) -> int:
    book = args.book.resolve()
    site = args.site or book / "_build" / "html"
    out = args.out or book / "_build" / "briefing"
    try:
        files = write_briefing(book, site, out)
    except BriefingError as error:
        print(f"briefing: {error}", file=sys.stderr)
        return 1
    listed = ", ".join(path.name for path in files.values())
    print(f"Briefing kit written to {out}: {listed}")
    if "pdf" not in files:
        print("briefing: the print edition (PDF) is not in this build: it is printed with Chromium, which the build "
              "did not find (Debian: apt-get install chromium; or set CHROMIUM); then `make html`", file=sys.stderr)
    return 0
