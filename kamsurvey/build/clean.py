"""`make clean`: remove everything built (_build/), under the writer lock, so that no run loses its files.

The lock file itself stays: removing it while a command holds it would let the next command lock a new
file beside it (kamsurvey.build.lock).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from kamsurvey.build.console import say
from kamsurvey.build.lock import LOCK_FILE



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--book", type=Path, default=Path("."), help="the book's folder (default: here)")


def command(args: argparse.Namespace) -> int:
    build = args.book.resolve() / LOCK_FILE.parent
    if not build.is_dir():
        return 0
    for entry in sorted(build.iterdir()):
        if entry.name == LOCK_FILE.name:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    say(f"Removed everything built in {build} (the writer lock file {LOCK_FILE} stays)")
    return 0
