"""Validated waves cached on disk: a wave is validated once, then loaded typed in a fraction of the time.

Every chapter loads its wave (`kamsurvey.data.waves.load_wave`). Validating a wave re-reads and
re-checks the CSV: 0.1 s for the 112 respondents of 2022, 2.5 s and about a gigabyte of memory
for a million, in each of the book's twelve kernels. So the first load of a wave (the
`validate` step of `make wave`, or the first chapter to run) validates it and stores the typed
frame; every later load of the same files reads that frame back (0.1 s for a million rows).

What makes an entry valid (the key, SHA-256 of all of it):
  - the bytes of `responses.csv` and `wave.yml`, and the wave's folder name (validation checks it);
  - the codebook, as parsed (its `repr`: every question, option, rule and wording);
  - the source of the modules that read, check and type a wave (validate, waves, codebook, this
    one) and the versions of pandas, pyarrow and numpy, so a change of the checks or of the
    typed frame's layout never meets an entry written by the old code.
A changed file, codebook or validation code gives a new key: a stale entry is never read. An entry
is written only for a wave that passed validation, and only if the files hashed the same before and
after validating (a file edited while it was being checked is not cached).

Where: `$KAM_WAVE_CACHE` if set (`off` disables the cache), else `_build/.wave-cache/` beside the
data folder (`<data_dir>/../_build/.wave-cache/`), which git ignores. One file per entry,
`<wave>-<key>.arrow` (Arrow IPC, the typed frame with pandas' dtypes in its metadata), written to a
temporary file in the same folder and renamed into place, so a reader never sees half an entry.
Writing an entry removes the wave's older entries. An entry that cannot be read is ignored (and
rewritten); a cache folder that cannot be written only means the wave is validated each time.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

import pandas as pd

CACHE_ENV = "KAM_WAVE_CACHE"
CACHE_DIR = Path("_build") / ".wave-cache"
FORMAT = "kam-wave-cache 1"
# modules whose code decides what a validated, typed wave is
_SOURCES = ("problems.py", "readers.py", "validate.py", "wavemeta.py", "waves.py", "codebook.py", "yamlfile.py", "dates.py",
            "cache.py")
_code_key: str | None = None


def cache_dir(data_dir: str | Path) -> Path | None:
    """The cache folder for waves under `data_dir`, or None when caching is off."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured.lower() in ("off", "0", "no", "false"):
        return None
    if configured:
        return Path(configured)
    return Path(data_dir).resolve().parent / CACHE_DIR


def code_key() -> str:
    """Hash of the code and library versions that produce a typed wave."""
    global _code_key
    if _code_key is None:
        import numpy
        import pyarrow

        digest = hashlib.sha256(FORMAT.encode())
        here = Path(__file__).resolve().parent
        for name in _SOURCES:
            digest.update(b"\0" + name.encode() + b"\0" + (here / name).read_bytes())
        for module in (pd, pyarrow, numpy):
            digest.update(f"\0{module.__name__} {module.__version__}".encode())
        _code_key = digest.hexdigest()
    return _code_key


def wave_key(wave_dir: str | Path, codebook) -> str | None:
    """The entry key of a wave's files as they are now; None if a file is missing (validation reports it)."""
    from kamsurvey.data.validate import RESPONSES_FILE
    from kamsurvey.data.wavemeta import WAVE_FILE

    wave_dir = Path(wave_dir)
    digest = hashlib.sha256(code_key().encode())
    digest.update(b"\0codebook\0" + repr(codebook).encode("utf-8"))
    digest.update(b"\0wave\0" + wave_dir.name.encode("utf-8"))
    for name in (WAVE_FILE, RESPONSES_FILE):
        try:
            with (wave_dir / name).open("rb") as handle:  # streamed: a large CSV is never held in memory
                file_digest = hashlib.file_digest(handle, "sha256").digest()
        except OSError:
            return None
        digest.update(f"\0{name}\0".encode() + file_digest)
    return digest.hexdigest()[:40]


def entry_path(folder: Path, wave: str, key: str) -> Path:
    return folder / f"{wave}-{key}.arrow"


def _is_entry_of(name: str, wave: str) -> bool:
    return re.fullmatch(re.escape(wave) + r"-[0-9a-f]{40}\.arrow", name) is not None


def read_entry(path: Path) -> pd.DataFrame | None:
    """The typed frame stored at `path`, or None if there is none (or it cannot be read)."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    try:
        with pa.memory_map(str(path)) as source:
            table = ipc.open_file(source).read_all()
        return table.to_pandas()
    except (OSError, pa.ArrowException, ValueError, KeyError, TypeError):
        return None


def write_entry(folder: Path, wave: str, key: str, frame: pd.DataFrame) -> bool:
    """Store `frame` as the wave's entry for `key` atomically and drop the wave's older entries.

    False if it could not be written (the caller then simply has no cache).
    """
    import pyarrow as pa
    import pyarrow.ipc as ipc

    path = entry_path(folder, wave, key)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=folder)
        os.close(handle)
        try:
            with pa.OSFile(temporary, "wb") as sink, ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except (OSError, pa.ArrowException, ValueError, TypeError):
        return False
    for older in folder.iterdir():
        if older.name != path.name and _is_entry_of(older.name, wave):
            try:
                older.unlink()
            except OSError:
                pass
    return True


def read_wave_cached(wave_dir: str | Path, codebook, *, folder: Path | None) -> tuple[dict, pd.DataFrame]:
    """`validate.read_wave`, through the cache in `folder` (None: no cache).

    Returns the same raw metadata and the same typed frame as `read_wave`, and raises the same
    WaveValidationError for a wave that does not validate (an invalid wave is never cached).
    """
    from kamsurvey.data.validate import read_wave
    from kamsurvey.data.wavemeta import WAVE_FILE, read_meta_file

    wave_dir = Path(wave_dir)
    if folder is None:
        return read_wave(wave_dir, codebook)
    key = wave_key(wave_dir, codebook)
    if key is not None:
        path = entry_path(folder, wave_dir.name, key)
        frame = read_entry(path) if path.is_file() else None
        if frame is not None:
            raw_meta, problems, _ = read_meta_file(wave_dir / WAVE_FILE)
            if not problems and isinstance(raw_meta, dict):
                return dict(raw_meta), frame
    raw_meta, frame = read_wave(wave_dir, codebook)
    if key is not None and wave_key(wave_dir, codebook) == key:
        write_entry(folder, wave_dir.name, key, frame)
    return raw_meta, frame
