"""The kernel server's warm-up: what every chapter will load, loaded once, before the server forks.

A kernel server (`kamsurvey.build.kernels`) calls `warm` after its imports: it loads the wave
and the wave it is compared with (validating them, or from the cache of validated waves), takes
the rows of each sector and evaluates the article's claims on the wave, and leaves all of it in
`kamsurvey.data.waves.PRELOADED`, the registry the lower layers read. The kernels forked
afterwards find it there (`load_wave`, `Chapter.subset`, `Chapter.claim_results`) instead of
doing it again, and share its memory copy-on-write, as long as the files are still the same
(everything is keyed by the wave's cache key, and the claims also by the ledger's bytes).
"""

from __future__ import annotations

from pathlib import Path

from kamsurvey.data.cache import wave_key
from kamsurvey.data.waves import PRELOADED, Wave, load_wave, wave_dir
from kamsurvey.report.chapter import Chapter
from kamsurvey.report.chapter_data import SECTOR


def preload_wave(data_dir: str | Path, loaded: Wave) -> Wave:
    """Keep `loaded` for every later `load_wave` of the same files in this process (and its forks)."""
    folder = wave_dir(data_dir, loaded.meta.wave).resolve()
    key = wave_key(folder, loaded.codebook)
    if key is None:
        return loaded
    preloaded = Wave(meta=loaded.meta, responses=loaded.responses, codebook=loaded.codebook, key=key)
    PRELOADED.waves[(str(folder), key)] = preloaded
    return preloaded


def warm(*, wave: str, data_dir: str, compare_with: str = "", cwd: str | None = None) -> None:
    """Preload the wave, the wave it is compared with, the rows of each sector and the claim results.

    `data_dir` is as the chapters see it, relative to `cwd` (their folder).
    """
    data = Path(cwd or ".") / data_dir
    current = preload_wave(data, load_wave(data, wave))
    previous = preload_wave(data, load_wave(data, compare_with, current.codebook)) if compare_with else None
    if current.key is None:
        return
    chapter = Chapter(wave=current, previous=previous, data_dir=data)
    if chapter.asked(SECTOR):
        for code in chapter.question(SECTOR).codes(current.meta.wave):
            chapter.subset({SECTOR: code})
    key = chapter.claims_key()
    if key is not None:
        PRELOADED.claim_results[key] = dict(chapter.computed_claim_results())  # takes the rows of each claim's filter too
    for filters, rows in chapter.subsets_taken().items():
        PRELOADED.subsets[(current.key, filters)] = rows
