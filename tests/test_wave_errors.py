"""`kam wave` (make wave) refuses what it cannot publish with one line, not a traceback or pages of noise: an overlong
or multi-line wave id, `--compare-with ..`, a workbook named .csv; and no byte from a file or an option reaches the
terminal raw (escape sequences in a header, a cell, a file name are shown escaped)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from book import ROOT
from kamsurvey.build import website

ESCAPES = "\x1b]0;owned\x07\x1b[2J"


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    return website.copy_sources(ROOT, tmp_path_factory.mktemp("errors") / "book")


@pytest.fixture(scope="module")
def export(book, tmp_path_factory) -> Path:
    from kamsurvey.data import synth
    from kamsurvey.data.codebook import load_codebook
    from kamsurvey.data.importer import write_responses

    frame = synth.generate(load_codebook(book / "data" / "codebook.yml"), 30, seed=2, wave="2023")
    return write_responses(frame, tmp_path_factory.mktemp("exports") / "export.csv")


def wave(book: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kamsurvey", "wave", "--book", str(book), "--fieldwork-start",
                           "2023-03-01", "--fieldwork-end", "2023-05-31", *args], capture_output=True, text=True,
                          timeout=300)


def assert_one_line_and_nothing_changed(result: subprocess.CompletedProcess, book: Path, expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # the error (and "step ... failed")
    assert not (book / "data" / "waves" / "2023").exists()


@pytest.mark.parametrize("wave_id, expected", [
    ("a" * 300, "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'... is not a wave id: expected 1 to 40 letters"),
    ("2023\n", "'2023\\n' is not a wave id"),
    ("../2023", "'../2023' is not a wave id"),
    ("-2023", "'-2023' is not a wave id"),
    ("", "'' is not a wave id"),
])
def test_a_wave_id_is_checked_whole(wave_id, expected):
    import argparse

    from kamsurvey.build import publish

    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(expected)):
        publish.wave_id(wave_id)
    with pytest.raises(argparse.ArgumentTypeError):
        publish.earlier_wave(wave_id or "..")
    assert publish.wave_id("a" * 40) and publish.wave_id("2023.2_b-3") and publish.earlier_wave("") == ""


def test_a_wave_id_that_is_not_one_is_refused_in_one_line(book, export):
    result = wave(book, "--wave=2023\n", "--data", str(export))
    assert result.returncode == 2
    assert_one_line_and_nothing_changed(result, book, "kam wave: error: argument --wave: '2023\\n' is not a wave id")


@pytest.mark.parametrize("earlier, expected", [
    ("..", "argument --compare-with: '..' is not a wave id"),
    ("2019", "--compare-with 2019: no such edition in data/editions.yml"),
])
def test_compare_with_must_name_an_edition(book, export, earlier, expected):
    assert_one_line_and_nothing_changed(wave(book, "--wave", "2023", "--data", str(export), "--compare-with", earlier),
                                        book, expected)


def test_a_workbook_named_csv_is_named_for_what_it_is(book, export, tmp_path):
    from kamsurvey.data.codebook import load_codebook
    from kamsurvey.data.importer import export_labels, write_table
    from kamsurvey.data import synth

    frame = synth.generate(load_codebook(book / "data" / "codebook.yml"), 20, seed=3, wave="2023")
    workbook = write_table(export_labels(frame, load_codebook(book / "data" / "codebook.yml"), "2023",
                                         multi="joined", headers="wording"), tmp_path / "export.xlsx")
    misnamed = workbook.rename(tmp_path / "export.csv")
    result = wave(book, "--wave", "2023", "--data", str(misnamed))
    assert_one_line_and_nothing_changed(result, book, "export.csv is a ZIP archive, such as an Excel workbook (.xlsx), "
                                                      "not a CSV file")
    assert len(result.stderr) < 400 and result.stdout == ""


def test_escape_sequences_from_a_file_are_shown_escaped_never_sent_to_the_terminal(book, export, tmp_path):
    lines = export.read_text(encoding="utf-8").splitlines()
    lines[0] = lines[0].replace("sector", f"sector{ESCAPES}", 1)
    lines[1] = lines[1].replace("R001", f"R001{ESCAPES}", 1)
    bad = tmp_path / f"export{ESCAPES}.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = wave(book, "--wave", "2023", "--data", str(bad))
    assert result.returncode == 1 and "step 'import' failed" in result.stderr, result.stderr
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\x07" not in stream
    assert "\\x1b]0;owned\\x07\\x1b[2J" in result.stderr + result.stdout
    assert not (book / "data" / "waves" / "2023").exists()
