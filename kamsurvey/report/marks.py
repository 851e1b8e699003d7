"""How a number's class shows on a figure: published by the article, or chosen by the reconstruction.

The class and range of every cell come from the one mechanism of the data model (the class columns
of `PublishedTable.cells`, `kamsurvey.analysis.published.CLASS_COLUMNS`, carried by every view); this
module only reads them, and says them the same way in the chart (style, legend, tooltip), the data
table, the CSV and the alt text. A wave of original answers has empty class columns, and nothing here
adds a mark to its figures.

A number the article did not publish has no interval (`NO_INTERVAL`): the chart draws none around it, and
the tooltip, the data table and the CSV give none.

A row shows a count and a share. The share is what the bar draws, so the row's style follows the
share's class; the words say when the count is not published although the share is (a share of
mentions the article prints, of a number of mentions it does not).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kamsurvey.analysis import published
from kamsurvey.report.phrasing import share_range

PUBLISHED = published.PUBLISHED
RECONSTRUCTED = published.RECONSTRUCTED

#: the data table's and the CSV's column, and the tooltip's field, for a wave whose numbers have a class
TABLE_HEADER = "In the article"
LEGEND_WORDS = {PUBLISHED: "Published by the article",
                RECONSTRUCTED: "Not published by the article (reconstructed): pale, its number in italics"}
#: what a chart's tooltip, the data table and the CSV give as the interval of a number the article did not publish:
#: an interval around one of many values that fit the article would present it as a finding
NO_INTERVAL = "none: not published"
NOT_A_FINDING = "Not a finding: the article publishes no number here; every value shown is the reconstruction's choice."


def _get(row: Any, column: str) -> Any:
    return row.get(column) if isinstance(row, dict) else getattr(row, column, None)


def _class(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value)
    return None if text in ("", published.ORIGINAL_COLUMN_VALUE, published.ORIGINAL) else text


def has_classes(table: pd.DataFrame) -> bool:
    """Does this table's wave say, for each number, whether the article published it?"""
    return "provenance" in table.columns and any(_class(v) is not None for v in table["provenance"])


def cell_class(row: Any) -> str | None:
    """The class of the share a row shows ('published' or 'reconstructed'); None in a wave of original answers."""
    return _class(_get(row, "provenance"))


def is_marked(row: Any) -> bool:
    return published.is_marked(cell_class(row))


def range_words(low: Any, high: Any) -> str:
    """'not published; any value from 4% to 31% fits the article' (the range as `phrasing.share_range` says it)."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return "not published by the article"
    return f"not published; {share_range(low, high)} fits the article"


def class_words(row: Any) -> str | None:
    """What the table, the CSV and the tooltip say of a row: 'published', or the share's range; None without classes."""
    cls = cell_class(row)
    if cls is None:
        return None
    if published.is_marked(cls):
        return range_words(_get(row, "range_low"), _get(row, "range_high"))
    if published.is_marked(_class(_get(row, "count_provenance"))):
        return "percentage published; the count is not"
    return "published"
