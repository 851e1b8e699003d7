"""Citation: CITATION.cff validates and names the current edition; BibTeX is generated for the book and each edition."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from book import ROOT
from kamsurvey.report import citation

def cffconvert() -> str:
    """The CITATION.cff validator, from its own environment (KAM_CFFCONVERT; .ci/run makes it from
    .ci/cffconvert.txt): cffconvert pins jsonschema 3, so it stays out of the book's lock. Required in CI."""
    tool = os.environ.get("KAM_CFFCONVERT", "")
    if not tool or not Path(tool).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"KAM_CFFCONVERT={tool!r}: no cffconvert to validate CITATION.cff with (.ci/run installs it)")
        pytest.skip("cffconvert is not installed here (set KAM_CFFCONVERT; .ci/run does)")
    return tool


def validate(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([cffconvert(), "--validate", "--infile", str(path)], capture_output=True, text=True)


def entries(bib: str) -> dict[str, str]:
    """key -> body of every @type{key, ...} entry, checking that braces balance."""
    found = {}
    for match in re.finditer(r"@(\w+)\{([^,]+),\n(.*?)\n\}\n", bib, re.S):
        body = match.group(3)
        assert body.count("{") == body.count("}"), match.group(2)
        found[match.group(2)] = body
    return found


def book_copy(tmp_path: Path, editions: list[dict]) -> Path:
    """A copy of what citations read (CITATION.cff, editions register, wave metadata) with other editions."""
    root = tmp_path / "book"
    (root / "data" / "waves").mkdir(parents=True)
    shutil.copy(ROOT / "CITATION.cff", root / "CITATION.cff")
    (root / "data" / "editions.yml").write_text(yaml.safe_dump({"editions": editions}), encoding="utf-8")
    for edition in editions:
        wave = edition["wave"]
        source = yaml.safe_load((ROOT / "data" / "waves" / "2022" / "wave.yml").read_text(encoding="utf-8"))
        if wave != "2022":
            source.update(wave=wave, title=f"AKAM survey {wave}", n=90, provenance="original", published=f"{wave}-12-01",
                          fieldwork={"start": f"{wave}-06-01", "end": f"{wave}-07-31"})
        (root / "data" / "waves" / wave).mkdir()
        (root / "data" / "waves" / wave / "wave.yml").write_text(yaml.safe_dump(source), encoding="utf-8")
    return root


def test_citation_cff_validates():
    result = validate(ROOT / "CITATION.cff")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validation_can_fail(tmp_path):
    broken = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    del broken["authors"]
    (tmp_path / "CITATION.cff").write_text(yaml.safe_dump(broken), encoding="utf-8")
    assert validate(tmp_path / "CITATION.cff").returncode != 0


def test_citation_cff_names_the_current_edition_and_the_site():
    book = citation.load_citation(ROOT)
    assert citation.cff_problems(book) == []
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert book.title == config["title"]
    assert book.url == config["html"]["baseurl"]


def test_bibtex_has_the_book_and_every_registered_edition():
    book = citation.load_citation(ROOT)
    found = entries(citation.bibtex(book))
    registered = yaml.safe_load((ROOT / "data" / "editions.yml").read_text(encoding="utf-8"))["editions"]
    assert list(found) == [citation.BOOK_KEY] + [f"{citation.BOOK_KEY}_{e['wave']}" for e in registered]
    for edition in book.editions:
        body = found[edition.key]
        assert f"url          = {{{edition.url}}}" in body
        assert f"edition      = {{{edition.wave} edition}}" in body
        assert "{AKAM --- Association for Key Account Management} and Woodburn, Diana" in body


def test_a_new_edition_gets_its_entry_and_the_cff_follows(tmp_path):
    root = book_copy(tmp_path, [{"wave": "2022", "title": "2022 survey"}, {"wave": "2024", "title": "2024 survey"}])
    book = citation.load_citation(root)
    found = entries(citation.bibtex(book))
    assert list(found) == [citation.BOOK_KEY, f"{citation.BOOK_KEY}_2022", f"{citation.BOOK_KEY}_2024"]
    assert "computed from the respondent-level survey data" in found[f"{citation.BOOK_KEY}_2024"]
    assert "editions 2022, 2024 (current)" in found[citation.BOOK_KEY]
    assert book.current.url.endswith("/editions/2024/")
    assert citation.cff_problems(book) != []  # CITATION.cff still names 2022
    assert citation.update_cff(root)
    updated = citation.load_citation(root)
    assert citation.cff_problems(updated) == []
    assert (updated.version, str(updated.date_released)) == ("2024", "2024-12-01")
    assert validate(root / "CITATION.cff").returncode == 0
    assert not citation.update_cff(root)  # already current: unchanged


def test_edition_reference_text():
    book = citation.load_citation(ROOT)
    edition = book.current
    text = citation.edition_text(book, edition)
    assert text.startswith(f"{book.author_text} ({edition.published.year}). {book.title}, {edition.wave} edition: ")
    assert f"n = {edition.n}" in text and text.endswith(edition.url)


@pytest.mark.parametrize("raw, escaped", [
    ("50% & more_{x}", r"50\% \& more\_\{x\}"),
    ("July–September — all", "July--September --- all"),
])
def test_bibtex_escapes_tex_specials(raw, escaped):
    assert citation.bibtex_escape(raw) == escaped


def test_cli_check_reports_the_register(tmp_path):
    result = subprocess.run([sys.executable, "-m", "kamsurvey", "cite", "--check", "--book", str(ROOT)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    stale = book_copy(tmp_path, [{"wave": "2022", "title": "2022"}, {"wave": "2025", "title": "2025"}])
    result = subprocess.run([sys.executable, "-m", "kamsurvey", "cite", "--check", "--book", str(stale)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1 and "current edition is '2025'" in result.stdout
