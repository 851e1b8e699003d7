"""A survey wave: its metadata (`wave.yml`) and its validated responses (`responses.csv`).

Chapters never read a CSV themselves: they call `load_wave`, which validates the
file against the codebook first, so a chapter can only ever compute from data
that passed every check (and a bad file stops with the list of its problems).
A wave whose files already passed is read from the cache of validated waves
(`kamsurvey.data.cache`): validated once, not once per chapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kamsurvey.data.codebook import Codebook, load_codebook
from kamsurvey.data.wavemeta import WAVE_FILE, WaveMeta, meta_from_mapping



@dataclass(frozen=True)
class Wave:
    meta: WaveMeta
    responses: pd.DataFrame
    codebook: Codebook
    # the wave's cache key (kamsurvey.data.cache) when it came from the shared waves of a kernel server
    key: str | None = field(default=None, compare=False, repr=False)

    @property
    def n(self) -> int:
        return len(self.responses)


def wave_dir(data_dir: str | Path, wave: str) -> Path:
    return Path(data_dir) / "waves" / str(wave)


def read_meta(data_dir: str | Path, wave: str) -> WaveMeta:
    """The metadata of a published wave, without loading (or validating) its responses."""
    import yaml

    return meta_from_mapping(yaml.safe_load((wave_dir(data_dir, wave) / WAVE_FILE).read_text(encoding="utf-8")))


# Waves loaded before a kernel server forks its kernels (`share_wave`), by folder and cache key.
_SHARED: dict[tuple[str, str], Wave] = {}


def share_wave(data_dir: str | Path, loaded: Wave) -> Wave:
    """Keep `loaded` for every later `load_wave` of the same files in this process (and its forks)."""
    from kamsurvey.data.cache import wave_key

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
    validating again (`kamsurvey.data.cache`; `cache=False` or KAM_WAVE_CACHE=off always validates).
    In a kernel forked by a kernel server (`kamsurvey.build.kernels`), a wave the server loaded
    (`share_wave`) is not even read again: its frame is shared, if the files are still the ones
    it loaded (same cache key); each load gets its own copy (copy-on-write, so nothing a chapter
    does to its frame reaches another).
    """
    from kamsurvey.data.cache import cache_dir, read_wave_cached, wave_key  # validation owns parsing and the file contract

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
