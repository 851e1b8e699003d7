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
    # the wave's cache key (kamsurvey.data.cache) when it came from the waves a kernel server preloaded
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


@dataclass
class Preloaded:
    """What this process computed once for the processes it forks: empty unless the build layer filled it.

    A kernel server (`kamsurvey.build.kernels`) loads the wave, takes the rows of each sector and
    evaluates the article's claims before it forks a kernel per chapter (`kamsurvey.build.warm`
    fills this registry); `load_wave` and the chapter (`Chapter.subset`, `Chapter.claim_results`)
    look here first. Everything is keyed by a wave's cache key (its files' bytes, the codebook and
    the validation code, `kamsurvey.data.cache.wave_key`), so a kernel whose files changed since
    finds nothing and computes afresh.
    """

    # (wave folder, cache key) -> the wave, its `key` set
    waves: dict[tuple[str, str], Wave] = field(default_factory=dict)
    # (cache key, filters as ((question, option), ...)) -> the rows of the respondents who gave them
    subsets: dict[tuple[str, tuple], pd.DataFrame] = field(default_factory=dict)
    # (cache key, claims ledger path, the ledger's SHA-256) -> {claim id: result}
    claim_results: dict[tuple, dict] = field(default_factory=dict)

    def clear(self) -> None:
        self.waves.clear()
        self.subsets.clear()
        self.claim_results.clear()


PRELOADED = Preloaded()


def load_wave(data_dir: str | Path, wave: str, codebook: Codebook | None = None, *, cache: bool = True) -> Wave:
    """Validated responses and metadata of one wave; raises WaveValidationError listing every problem.

    The first load of a wave's files validates them and caches the typed frame; later loads of
    the same files (same bytes, codebook and validation code) read the cache instead of
    validating again (`kamsurvey.data.cache`; `cache=False` or KAM_WAVE_CACHE=off always validates).
    In a kernel forked by a kernel server (`kamsurvey.build.kernels`), a wave the server loaded
    (`PRELOADED`) is not even read again: its frame is shared, if the files are still the ones
    it loaded (same cache key); each load gets its own copy (copy-on-write, so nothing a chapter
    does to its frame reaches another).
    """
    from kamsurvey.data.cache import cache_dir, read_wave_cached, wave_key  # validation owns parsing and the file contract

    data_dir = Path(data_dir)
    codebook = codebook or load_codebook(data_dir / "codebook.yml")
    if PRELOADED.waves and cache:
        folder = wave_dir(data_dir, wave).resolve()
        key = wave_key(folder, codebook)
        shared = PRELOADED.waves.get((str(folder), key)) if key else None
        if shared is not None:
            return Wave(meta=shared.meta, responses=shared.responses.copy(deep=False), codebook=codebook, key=key)
    raw_meta, responses = read_wave_cached(wave_dir(data_dir, wave), codebook,
                                           folder=cache_dir(data_dir) if cache else None)
    return Wave(meta=meta_from_mapping(raw_meta), responses=responses, codebook=codebook)
