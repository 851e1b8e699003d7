"""Editions are immutable (kamsurvey.build.archive): an edition's pages kept byte for byte in editions/<wave>.tar.gz
with a SHA-256 manifest; the same pages give the same archive; any change to an archive, its manifest or a file in it
is found (`kam archive --check`, run by make test and CI); every archive in this repository matches its manifest."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from book import ROOT
from kamsurvey.build import archive


def built_edition(folder: Path, wave: str) -> Path:
    for name, text in {"index.html": f'<meta name="kam-edition" content="{wave}">', "chapters/a.html": "a",
                       "_static/kam.css": "body {}", "figures/fig-a.png": "\x89PNG", ".buildinfo": "sphinx",
                       "a name with spaces and a very long name " + "x" * 120 + ".html": "long"}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def kam(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kamsurvey", "archive", *args], capture_output=True, text=True, timeout=120)


def test_the_same_pages_give_the_same_archive_and_a_manifest_sha256sum_reads(tmp_path):
    tree = built_edition(tmp_path / "html", "2023")
    first = archive.write_archive(tree, "2023", dt.date(2024, 2, 1), tmp_path / "one")
    copy = shutil.copytree(tree, tmp_path / "elsewhere" / "html")  # another path, other file times
    second = archive.write_archive(copy, "2023", dt.date(2024, 2, 1), tmp_path / "two")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    manifest = first[1].read_text().splitlines()
    assert manifest[0].endswith("  2023.tar.gz") and "2023/chapters/a.html" in "\n".join(manifest)
    assert not any(".buildinfo" in line for line in manifest)
    if shutil.which("sha256sum"):
        checked = subprocess.run(["sha256sum", "-c", "--ignore-missing", "2023.sha256"], cwd=tmp_path / "one",
                                 capture_output=True, text=True)
        assert checked.returncode == 0 and "2023.tar.gz: OK" in checked.stdout


def test_an_archive_extracts_to_exactly_the_published_files(tmp_path):
    tree = built_edition(tmp_path / "html", "2023")
    archive.write_archive(tree, "2023", None, tmp_path / "book" / archive.ARCHIVES)
    archive.extract(tmp_path / "book", "2023", tmp_path / "site" / "2023")
    assert archive.tree_digests(tmp_path / "site" / "2023") == archive.tree_digests(tree)
    assert archive.differences(tmp_path / "book", "2023", tree) == []
    (tree / "chapters" / "a.html").write_text("changed")
    (tree / "chapters" / "b.html").write_text("added")
    assert archive.differences(tmp_path / "book", "2023", tree) == ["chapters/a.html", "chapters/b.html"]


@pytest.mark.parametrize("damage", ["archive byte", "manifest line", "archive gone", "manifest gone"])
def test_any_change_to_an_archived_edition_is_found(tmp_path, damage):
    book = tmp_path / "book"
    archive.write_archive(built_edition(tmp_path / "html", "2022"), "2022", None, book / archive.ARCHIVES)
    assert archive.check_all(book) == []
    tarball, manifest = archive.archive_path(book, "2022"), archive.manifest_path(book, "2022")
    if damage == "archive byte":
        data = bytearray(tarball.read_bytes())
        data[-20] ^= 0xFF
        tarball.write_bytes(bytes(data))
    elif damage == "manifest line":
        lines = manifest.read_text().splitlines()
        lines[1] = "0" * 64 + lines[1][64:]
        manifest.write_text("\n".join(lines) + "\n")
    elif damage == "archive gone":
        tarball.unlink()
    else:
        manifest.unlink()
    problems = archive.check_all(book)
    assert len(problems) == 1 and "2022" in problems[0]
    result = kam("--check", "--book", str(book))
    assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr


def test_every_archived_edition_of_this_book_matches_its_manifest():
    assert archive.check_all(ROOT) == []
    result = kam("--check", "--book", str(ROOT))
    assert result.returncode == 0 and "archived edition(s) match their manifests" in result.stdout, result.stderr


def test_archive_freezes_the_current_edition_once(tmp_path):
    book = tmp_path / "book"
    (book / "data").mkdir(parents=True)
    (book / "_toc.yml").write_text("format: jb-book\nroot: index\nchapters:\n  - file: chapters/a\n")
    (book / "data" / "editions.yml").write_text('editions:\n  - wave: "2023"\n    title: "2023 survey"\n    compare_with: null\n')
    built_edition(book / "_build" / "html", "2023")
    result = kam("--book", str(book))
    assert result.returncode == 0, result.stderr
    assert archive.check_all(book) == [] and archive.archived_waves(book) == ["2023"]
    again = kam("--book", str(book))
    assert again.returncode == 1 and "a published edition never changes" in again.stderr
