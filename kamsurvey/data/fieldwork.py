"""Fieldwork dates from the export's own timestamps: the first and the last kept response, never guessed.

Survey tools write a response's timestamps in their own ways: Qualtrics `2022-07-04
09:12:33`, SurveyMonkey's CSV `07/04/2022 09:12:33 AM`, Google Forms `7/4/2022 9:12:33` (in
the sheet's locale: day or month first), workbooks a date cell. ISO dates are read as they
are; a date with slashes is read month-first or day-first only when the file itself settles
it (some value has a first part over 12, or a second part over 12, and none contradicts it).
When nothing settles it, the dates are not known: the caller must be given them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?\s*$")
SLASHED = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*$")


class Unreadable(ValueError):
    """A timestamp the importer cannot read; `.index` is its position (the value is never kept)."""

    def __init__(self, index: int):
        self.index = index
        super().__init__(f"timestamp {index} cannot be read")


@dataclass(frozen=True)
class Fieldwork:
    """First and last day of fieldwork, and where they were read."""

    start: dt.date
    end: dt.date
    source: str  # e.g. "the earliest StartDate and the latest EndDate of the 112 responses kept (Qualtrics)"


def _year(text: str) -> int:
    year = int(text)
    return year + 2000 if len(text) == 2 else year


def _slash_order(parsed: Sequence[re.Match]) -> str | None:
    """'mdy' or 'dmy' when the values settle it, None when they do not (or contradict each other)."""
    month_first_possible = all(int(m.group(1)) <= 12 for m in parsed)
    day_first_possible = all(int(m.group(2)) <= 12 for m in parsed)
    if month_first_possible and not day_first_possible:
        return "mdy"
    if day_first_possible and not month_first_possible:
        return "dmy"
    if month_first_possible and day_first_possible and all(m.group(1) == m.group(2) for m in parsed):
        return "mdy"  # every date reads the same either way
    return None


def read_days(values: Iterable[str]) -> tuple[list[dt.date | None], str | None]:
    """The calendar day of each timestamp (None where empty), and why they cannot be known, if so.

    Raises Unreadable (naming the position, never the value) for a value that is no timestamp.
    """
    values = list(values)
    days: list[dt.date | None] = [None] * len(values)
    slashed: list[tuple[int, re.Match]] = []
    for i, value in enumerate(values):
        text = str(value).strip()
        if not text:
            continue
        iso = ISO.match(text)
        if iso:
            try:
                days[i] = dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
            except ValueError:
                raise Unreadable(i) from None
            continue
        match = SLASHED.match(text)
        if not match:
            raise Unreadable(i)
        slashed.append((i, match))
    if not slashed:
        return days, None
    order = _slash_order([m for _, m in slashed])
    if order is None:
        return days, ("its dates are written with slashes (like 4/7/2022) and none of them shows whether the day "
                      "or the month comes first")
    for i, match in slashed:
        first, second, year = int(match.group(1)), int(match.group(2)), _year(match.group(3))
        month, day = (first, second) if order == "mdy" else (second, first)
        try:
            days[i] = dt.date(year, month, day)
        except ValueError:
            raise Unreadable(i) from None
    return days, None
