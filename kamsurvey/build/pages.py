"""Build the current edition's pages into _build/html, afresh, switched in whole.

    kam html          # what `make html` (kam book html) runs when the book's inputs changed

The current edition (the last in data/editions.yml) is built by jupyter-book (warnings are errors)
from a copy of the book's sources under _build/.staging/, so that the build neither sees an edit
made while it runs nor depends on an earlier build (an edition's bytes are the same however often it
is rebuilt). The new pages go to a new folder under _build/.versions/ and _build/html, a symbolic link,
switches to them in one rename once every page of the table of contents is there and no source was
edited meanwhile: whoever reads _build/html (`kam serve`, `kam site`, the briefing) sees the old
build or the new one, never half of each.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kamsurvey.build import website
from kamsurvey.build.console import fail



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--book", type=Path, default=Path("."), help="the book's folder (default: here)")


def command(args: argparse.Namespace) -> int:
    try:
        website.publish_html(args.book.resolve())
    except website.StepFailed as failure:
        fail(f"error: {failure.step} failed: {failure.reason}")
        return 1
    return 0
