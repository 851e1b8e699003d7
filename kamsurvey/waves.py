"""A survey wave: its metadata (`wave.yml`) and its validated responses (`responses.csv`).

Chapters never read a CSV themselves: they call `load_wave`, which validates the
file against the codebook first, so a chapter can only ever compute from data
that passed every check (and a bad file stops with the list of its problems).
A wave whose files already passed is read from the cache of validated waves
(`kamsurvey.wavecache`): validated once, not once per chapter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .codebook import Codebook, load_codebook



def _month_range(start: dt.date, end: dt.date) -> str:
    if (start.year, start.month) == (end.year, end.month):
        return f"{start:%B %Y}"
    if start.year == end.year:
        return f"{start:%B}–{end:%B %Y}"
    return f"{start:%B %Y}–{end:%B %Y}"


@dataclass(frozen=True)
class WaveMeta:
    wave: str
    title: str
    fieldwork_start: dt.date
    fieldwork_end: dt.date
    population: str
    n: int
    source: str
    provenance: str
    provenance_note: str
    published: dt.date | None = None

    @property
    def reconstructed(self) -> bool:
        return self.provenance == "reconstructed"

    @property
    def fieldwork(self) -> str:
        """'July–September 2022': how the article dates its fieldwork."""
        return _month_range(self.fieldwork_start, self.fieldwork_end)

    def source_line(self, base: int | None = None) -> str:
        """The line under every chart: survey, fieldwork, base, and whether the data is reconstructed."""
        parts = [f"Source: {self.source}, {self.fieldwork}"]
        if base is not None:
            parts[0] += f" (n = {base})"
        parts[0] += "."
        if self.reconstructed:
            parts.append("Respondent-level data reconstructed from the published article.")
        return " ".join(parts)


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def meta_from_mapping(raw: dict) -> WaveMeta:
    """Build WaveMeta from a wave.yml that validation has already checked."""
    fieldwork = raw["fieldwork"]
    return WaveMeta(
        wave=str(raw["wave"]),
        title=str(raw["title"]),
        fieldwork_start=_as_date(fieldwork["start"]),
        fieldwork_end=_as_date(fieldwork["end"]),
        population=str(raw["population"]).strip(),
        n=int(raw["n"]),
        source=str(raw["source"]).strip(),
        provenance=str(raw["provenance"]),
        provenance_note=" ".join(str(raw.get("provenance_note", "")).split()),
        published=_as_date(raw["published"]) if raw.get("published") else None,
    )


@dataclass(frozen=True)
class Wave:
    meta: WaveMeta
    responses: pd.DataFrame
    codebook: Codebook
    # the wave's cache key (kamsurvey.wavecache) when it came from the shared waves of a kernel server
    key: str | None = field(default=None, compare=False, repr=False)

    @property
    def n(self) -> int:
        return len(self.responses)


def wave_dir(data_dir: str | Path, wave: str) -> Path:
    return Path(data_dir) / "waves" / str(wave)


def read_meta(data_dir: str | Path, wave: str) -> WaveMeta:
    """The metadata of a published wave, without loading (or validating) its responses."""
    import yaml

    from .validate import WAVE_FILE

    return meta_from_mapping(yaml.safe_load((wave_dir(data_dir, wave) / WAVE_FILE).read_text(encoding="utf-8")))


# Waves loaded before a kernel server forks its kernels (`share_wave`), by folder and cache key.
_SHARED: dict[tuple[str, str], Wave] = {}


def share_wave(data_dir: str | Path, loaded: Wave) -> Wave:
    """Keep `loaded` for every later `load_wave` of the same files in this process (and its forks)."""
    from .wavecache import wave_key

    folder = wave_dir(data_dir, loaded.meta.wave).resolve()
    key = wave_key(folder, loaded.codebook)
    if key is None:
        return loaded
    shared = Wave(meta=loaded.meta, responses=loaded.responses, codebook=loaded.codebook, key=key)
    _SHARED[(str(folder), key)] = shared
    return shared


def load_wave(data_dir: str | Path, wave: str, codebook: Codebook | None = None, *, cache: bool = True) -> Wave:
    """Validated responses and metadata of one wave; raises WaveValidationError listing every problem.

    The first load of a wave's files validates them and caches the typed frame; later loads of
    the same files (same bytes, codebook and validation code) read the cache instead of
    validating again (`kamsurvey.wavecache`; `cache=False` or KAM_WAVE_CACHE=off always validates).
    In a kernel forked by a kernel server (`kamsurvey.kernels`), a wave the server loaded
    (`share_wave`) is not even read again: its frame is shared, if the files are still the ones
    it loaded (same cache key); each load gets its own copy (copy-on-write, so nothing a chapter
    does to its frame reaches another).
    """
    from .wavecache import cache_dir, read_wave_cached, wave_key  # validation owns parsing and the file contract

    data_dir = Path(data_dir)
    codebook = codebook or load_codebook(data_dir / "codebook.yml")
    if _SHARED and cache:
        folder = wave_dir(data_dir, wave).resolve()
        key = wave_key(folder, codebook)
        shared = _SHARED.get((str(folder), key)) if key else None
        if shared is not None:
            return Wave(meta=shared.meta, responses=shared.responses.copy(deep=False), codebook=codebook, key=key)
    raw_meta, responses = read_wave_cached(wave_dir(data_dir, wave), codebook,
                                           folder=cache_dir(data_dir) if cache else None)
    return Wave(meta=meta_from_mapping(raw_meta), responses=responses, codebook=codebook)
