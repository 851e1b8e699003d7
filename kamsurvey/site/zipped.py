"""Zip files whose bytes depend only on what they hold: the kit's zip of every figure, the slide deck.

A zip records each member's modification time, and its host system and permissions; the same
files zipped an hour later would differ. Every member here is dated by the edition (its
publication date, else the earliest date a zip can hold), written in a fixed order with fixed
attributes, so that the same book gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable

EARLIEST = (1980, 1, 1, 0, 0, 0)  # the zip format's first representable date


def zip_date(day: dt.date | None) -> tuple[int, int, int, int, int, int]:
    return (day.year, day.month, day.day, 0, 0, 0) if day and day.year >= 1980 else EARLIEST


def fixed_zip(members: Iterable[tuple[str, bytes]], day: dt.date | None) -> bytes:
    """The members, in the order given, compressed, dated `day`, with the same attributes on every machine."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=zip_date(day))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix: the attributes below mean the same everywhere
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def refixed(data: bytes, day: dt.date | None) -> bytes:
    """A zip written by another library (python-pptx) rewritten as `fixed_zip` writes it, members in their order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    return fixed_zip(members, day)
