"""Helpers for tests of new waves: data folders holding synthetic waves."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def add_option(codebook_text: str, after: str, option: str) -> str:
    """Codebook YAML with `option` (one flow mapping line) inserted after the line `after`."""
    assert after in codebook_text, after
    indent = after[: len(after) - len(after.lstrip())]
    return codebook_text.replace(after + "\n", f"{after}\n{indent}{option}\n", 1)


def data_dir(tmp: Path, *, codebook_text: str | None = None) -> Path:
    """A copy of data/ (codebook, claims, register, the 2022 wave) to add synthetic waves to."""
    data = tmp / "data"
    shutil.copytree(ROOT / "data", data)
    if codebook_text is not None:
        (data / "codebook.yml").write_text(codebook_text, encoding="utf-8")
    return data


def write_synthetic_wave(data: Path, wave: str, *, n: int, seed: int, **options) -> Path:
    """A valid synthetic wave (kamsurvey.data.synth) written into data/waves/<wave>/."""
    from kamsurvey.data.codebook import load_codebook

    from kamsurvey.data import synth

    codebook = load_codebook(data / "codebook.yml")
    frame = synth.generate(codebook, n, seed=seed, wave=wave, **options)
    return synth.write_wave(data / "waves" / wave, frame, wave=wave, seed=seed, codebook=codebook)
