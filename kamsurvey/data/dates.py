"""Dates, read one way everywhere: ISO 8601 calendar dates (YYYY-MM-DD), and the house style to write them.

wave.yml, CITATION.cff, the editions register and the command line all give dates as ISO
text (YAML may already have turned it into a `datetime.date`). A date-time is not a date:
a timestamp where a day is expected is refused rather than silently cut to its day.
"""

from __future__ import annotations

import datetime as dt
import re

ISO_DATE = "an ISO date (YYYY-MM-DD)"
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: object) -> dt.date:
    """`value` as a date: a `datetime.date` as it is, or ISO text; ValueError saying what was expected."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"expected {ISO_DATE}, got a date and time: {value.isoformat()}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:  # 2022-13-01
            pass
    raise ValueError(f"expected {ISO_DATE}, got {value!r}")


def long_date(day: dt.date) -> str:
    """'26 November 2026': how the book writes a date in prose and citations."""
    return f"{day.day} {day:%B %Y}"
