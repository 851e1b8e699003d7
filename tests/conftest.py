"""Shared fixtures: the repository's codebook and the 2022 wave, loaded once per session."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kamsurvey.codebook import Codebook, load_codebook
from kamsurvey.waves import Wave, load_wave, meta_from_mapping, wave_dir

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
ARTICLE = ROOT.parent / "shared" / "article" / "rewarding-kam-performance-2022.txt"


def typed(raw: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Strings as read from a CSV into analysis types: multi columns Int8, single/likert string, NA for ''."""
    frame = raw.copy()
    multi = {q.column(c) for q in codebook if q.is_multi for c in q.codes()}
    for column in frame.columns:
        values = frame[column].replace("", pd.NA)
        frame[column] = values.astype("Int8") if column in multi else values.astype("string")
    return frame


def read_wave_locally(data_dir: Path, wave: str, codebook: Codebook) -> Wave:
    """Stand-in for kamsurvey.validate.read_wave while that module does not exist (no validation)."""
    folder = wave_dir(data_dir, wave)
    raw_meta = yaml.safe_load((folder / "wave.yml").read_text(encoding="utf-8"))
    raw = pd.read_csv(folder / "responses.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    return Wave(meta=meta_from_mapping(raw_meta), responses=typed(raw, codebook), codebook=codebook)


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook(DATA / "codebook.yml")


@pytest.fixture(scope="session")
def wave_2022(codebook) -> Wave:
    """The 2022 wave through the validating reader the chapters use (kamsurvey.waves.load_wave)."""
    if importlib.util.find_spec("kamsurvey.validate") is None:
        return read_wave_locally(DATA, "2022", codebook)
    return load_wave(DATA, "2022", codebook)
