"""Shared fixtures: the repository's codebook and the 2022 wave, and the built book (`site`)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kamsurvey.data.codebook import Codebook, load_codebook
from kamsurvey.data.waves import Wave, load_wave

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
# Where the article text may be (first found wins): the folder $KAM_ARTICLE, and ../shared/article beside the project.
ARTICLE = tuple(Path(folder) / "rewarding-kam-performance-2022.txt"
                for folder in (os.environ.get("KAM_ARTICLE"), ROOT.parent / "shared" / "article") if folder)


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook(DATA / "codebook.yml")


@pytest.fixture(scope="session")
def wave_2022(codebook) -> Wave:
    """The 2022 wave through the validating reader the chapters use."""
    return load_wave(DATA, "2022", codebook)


# -- the built book, shared by the build tests and the browser tests ------------------------------------------

TEST_BOOKS = ROOT / "_build" / "test-book"
# Everything a build reads: sources, configuration, the extension and its static files, the editions register
# and wave metadata (citations, edition of the build), and the lock (package versions).
BOOK_INPUTS = ("_config.yml", "_toc.yml", "*.md", "*.bib", "CITATION.cff", "chapters/*.ipynb", "kamsurvey/**/*",
               "data/editions.yml", "data/waves/*/wave.yml", "requirements.txt", "pyproject.toml")


def book_fingerprint(root: Path = ROOT) -> str:
    """A hash of every input of the book build: equal fingerprints, identical sites."""
    digest = hashlib.sha256()
    files = sorted({p for pattern in BOOK_INPUTS for p in root.glob(pattern)
                    if p.is_file() and "__pycache__" not in p.parts})
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(str(sorted(os.environ.get(k, "") for k in ("KAM_EDITION",))).encode())
    return digest.hexdigest()[:16]


def build_book(out: Path) -> Path:
    """`jupyter-book build -W -n --keep-going` into `out`; the HTML folder, or the build log as the failure."""
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return out / "_build" / "html"


@pytest.fixture(scope="session")
def site() -> Path:
    """The book built once for its current inputs, shared by every test session that needs it.

    `make test` runs the build tests and the browser tests in separate pytest runs; both
    use the build under `_build/test-book/<fingerprint>/`. Any change to an input (a
    chapter, the Sphinx extension, the lock...) gives a new fingerprint and so a fresh
    build into a new folder: a site is never reused across a change to what made it.
    """
    key = book_fingerprint()
    out = TEST_BOOKS / key
    done = out / "BUILD-OK"
    if not done.exists():
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        build_book(out)
        done.write_text(key + "\n")
    for stale in TEST_BOOKS.iterdir():
        if stale.is_dir() and stale.name != key:
            shutil.rmtree(stale, ignore_errors=True)
    return out / "_build" / "html"
