"""Shared fixtures: the repository's codebook and the 2022 wave, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from kamsurvey.codebook import Codebook, load_codebook
from kamsurvey.waves import Wave, load_wave

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
ARTICLE = ROOT.parent / "shared" / "article" / "rewarding-kam-performance-2022.txt"


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook(DATA / "codebook.yml")


@pytest.fixture(scope="session")
def wave_2022(codebook) -> Wave:
    """The 2022 wave through the validating reader the chapters use."""
    return load_wave(DATA, "2022", codebook)
