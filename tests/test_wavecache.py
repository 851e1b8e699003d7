"""The cache of validated waves: loading from it gives exactly what validating gives, and a stale or bad
entry is never used (a changed CSV, wave.yml, codebook or validation code means validating again)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from kamsurvey.data import cache as wavecache, validate
from kamsurvey.data.codebook import load_codebook
from kamsurvey.data.problems import WaveValidationError
from kamsurvey.data.validate import read_wave
from kamsurvey.data.waves import load_wave, wave_dir
from wavekit import data_dir, write_synthetic_wave


@pytest.fixture()
def data(tmp_path, monkeypatch):
    """A copy of data/ with a synthetic 2023 wave (some cells empty: skips); the cache beside it, in _build/."""
    monkeypatch.delenv(wavecache.CACHE_ENV, raising=False)
    folder = data_dir(tmp_path)
    write_synthetic_wave(folder, "2023", n=300, seed=8, skip_rate=0.1)
    return folder


def entries(data) -> list:
    folder = data.parent / wavecache.CACHE_DIR
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def no_validation(monkeypatch):
    """Make validating fail loudly: a load that still succeeds came from the cache."""
    def refuse(*args, **kwargs):
        raise AssertionError("validated again")

    monkeypatch.setattr(validate, "read_wave", refuse)


def test_the_cached_wave_is_exactly_the_validated_one(data, monkeypatch):
    fresh = load_wave(data, "2023", cache=False)
    first = load_wave(data, "2023")  # validates and writes the entry
    assert len(entries(data)) == 1 and entries(data)[0].startswith("2023-")
    no_validation(monkeypatch)
    cached = load_wave(data, "2023")
    for loaded in (first, cached):
        pd.testing.assert_frame_equal(loaded.responses, fresh.responses, check_exact=True)
        assert list(loaded.responses.dtypes) == list(fresh.responses.dtypes)
        assert loaded.meta == fresh.meta
    assert fresh.responses.isna().any().any()  # the comparison covered empty cells


def test_the_2022_wave_through_the_cache_is_the_validated_one(tmp_path, monkeypatch):
    monkeypatch.delenv(wavecache.CACHE_ENV, raising=False)
    data = data_dir(tmp_path)
    fresh = load_wave(data, "2022", cache=False)
    load_wave(data, "2022")
    no_validation(monkeypatch)
    pd.testing.assert_frame_equal(load_wave(data, "2022").responses, fresh.responses, check_exact=True)


def test_a_changed_csv_is_validated_again_and_its_old_entry_dropped(data):
    load_wave(data, "2023")
    old = entries(data)
    csv = wave_dir(data, "2023") / "responses.csv"
    lines = csv.read_text(encoding="utf-8").splitlines(keepends=True)
    csv.write_text("".join(lines[:-1]), encoding="utf-8")  # one respondent fewer (wave.yml's n now disagrees)
    with pytest.raises(WaveValidationError):  # the cached (valid) wave is not used for the changed file
        load_wave(data, "2023")
    assert entries(data) == old  # an invalid wave is never cached
    meta = wave_dir(data, "2023") / "wave.yml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("n: 300", "n: 299"), encoding="utf-8")
    assert len(load_wave(data, "2023").responses) == 299
    assert len(entries(data)) == 1 and entries(data) != old


def test_a_changed_answer_gives_the_new_answer(data):
    before = load_wave(data, "2023").responses
    csv = wave_dir(data, "2023") / "responses.csv"
    header, first, *rest = csv.read_text(encoding="utf-8").splitlines(keepends=True)
    columns = header.strip().split(",")
    cells = first.rstrip("\n").split(",")
    position = columns.index("sector")
    cells[position] = "other" if cells[position] == "pharma" else "pharma"
    csv.write_text(header + ",".join(cells) + "\n" + "".join(rest), encoding="utf-8")
    after = load_wave(data, "2023").responses
    assert after.loc[0, "sector"] == cells[position] != before.loc[0, "sector"]


def test_the_key_covers_codebook_metadata_and_code(data, monkeypatch):
    codebook = load_codebook(data / "codebook.yml")
    folder = wave_dir(data, "2023")
    key = wavecache.wave_key(folder, codebook)
    assert wavecache.wave_key(folder, codebook) == key
    changed = load_codebook(data / "codebook.yml")
    object.__setattr__(changed.questions[0], "wording", changed.questions[0].wording + " (reworded)")
    assert wavecache.wave_key(folder, changed) != key
    meta = folder / "wave.yml"
    meta.write_text(meta.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert wavecache.wave_key(folder, codebook) != key
    key = wavecache.wave_key(folder, codebook)
    monkeypatch.setattr(wavecache, "_code_key", "validation code of another version")
    assert wavecache.wave_key(folder, codebook) != key


def test_a_corrupt_entry_is_ignored_and_rewritten(data):
    fresh = load_wave(data, "2023", cache=False).responses
    load_wave(data, "2023")
    (entry,) = (data.parent / wavecache.CACHE_DIR).iterdir()
    entry.write_bytes(b"not an arrow file")
    pd.testing.assert_frame_equal(load_wave(data, "2023").responses, fresh, check_exact=True)
    assert entry.read_bytes()[:6] == b"ARROW1"


def test_the_cache_can_be_turned_off_or_moved(data, tmp_path, monkeypatch):
    monkeypatch.setenv(wavecache.CACHE_ENV, "off")
    load_wave(data, "2023")
    assert entries(data) == []
    monkeypatch.setenv(wavecache.CACHE_ENV, str(tmp_path / "elsewhere"))
    load_wave(data, "2023")
    assert entries(data) == [] and len(list((tmp_path / "elsewhere").glob("2023-*.arrow"))) == 1


def test_entries_are_written_whole_and_left_alone_when_unwritable(data, monkeypatch):
    load_wave(data, "2023")
    folder = data.parent / wavecache.CACHE_DIR
    assert not [p for p in folder.iterdir() if p.suffix == ".tmp"]
    monkeypatch.setattr(wavecache, "cache_dir", lambda _: data / "responses-is-not-a-folder" / "x")
    (data / "responses-is-not-a-folder").write_text("", encoding="utf-8")
    assert len(load_wave(data, "2023").responses) == 300  # no cache, still loads


def test_a_wave_edited_while_it_is_validated_is_not_cached(data, monkeypatch):
    csv = wave_dir(data, "2023") / "responses.csv"
    real = read_wave

    def edit_meanwhile(folder, codebook):
        result = real(folder, codebook)
        os.utime(csv)
        csv.write_text(csv.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # a trailing blank line
        return result

    monkeypatch.setattr(validate, "read_wave", edit_meanwhile)
    load_wave(data, "2023")
    assert entries(data) == []
