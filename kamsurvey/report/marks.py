"""How a number's class shows on a figure: published by the article, or chosen by the reconstruction.

The class and range of every cell come from the one mechanism of the data model (the class columns
of `PublishedTable.cells`, `kamsurvey.analysis.published.CLASS_COLUMNS`, carried by every view); this
module only reads them, and says them the same way in the chart (style, legend, tooltip), the data
table, the CSV and the alt text. A wave of original answers has empty class columns, and nothing here
adds a mark to its figures.

A share has an interval only when the article publishes the share, its count AND its base (`has_interval`):
an interval around one of many values that fit the article, or around a published share of a base the
reconstruction chose (a sector's size), would present the reconstruction's choice as known. Otherwise
(`NO_INTERVAL`) the chart draws none, and the tooltip, the data table and the CSV give none. The base's class
is the view's `BASE_CLASS` column (`with_base_class`, from `Group.base_known`).

A row shows a count and a share. The share is what the bar draws, so the row's style follows the
share's class; the words say when the count is not published although the share is (a share of
mentions the article prints, of a number of mentions it does not).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kamsurvey.analysis import policy, published
from kamsurvey.report.phrasing import number_words, share_range

PUBLISHED = published.PUBLISHED
RECONSTRUCTED = published.RECONSTRUCTED

#: the data table's and the CSV's column, and the tooltip's field, for a wave whose numbers have a class
TABLE_HEADER = "In the article"
LEGEND_WORDS = {PUBLISHED: "Published by the article",
                RECONSTRUCTED: ("Exact value not published by the article (the reconstruction's, within what the "
                                "article allows): pale, its number in italics")}
#: the column of a view giving the class of its base (a sector's size in a reconstructed wave is not published)
BASE_CLASS = "base_provenance"
#: what a chart's tooltip, the data table and the CSV give as the interval of a share whose share, count or base
#: the article did not publish: an interval around the reconstruction's choice would present it as known
NO_INTERVAL = "none: not published"
NOT_A_FINDING = "Not a finding: the article publishes no number here; every value shown is the reconstruction's choice."
#: the alt text's sentence, before the numbers, when none of them is published exactly
NONE_PUBLISHED = ("None of these numbers is published by the article: each is the reconstruction's choice, drawn pale "
                  "(the data table gives the range of each that fits the article).")
#: the same, where the article gives some of them in words ("two thirds", "a quarter")
NONE_EXACT = ("The exact values are not published by the article, which gives some only in words: the values shown "
              "are the reconstruction's, within what the article's words allow, drawn pale (the data table gives "
              "the range of each that fits the article).")
#: what `policy.SUPPRESSED_MARK` stands for, in plain words, wherever a reader meets it outside the chart
WITHHELD_WORDS = (f"withheld because fewer than {number_words(policy.MIN_CELL)} people gave that answer, "
                  "or because it would reveal such a group")


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


def has_interval(row: Any) -> bool:
    """May an interval be drawn around the row's share? Only when the article publishes the share, its count and
    its base (a wave of original answers: always)."""
    return not any(published.is_marked(_class(_get(row, column)))
                   for column in ("provenance", "count_provenance", BASE_CLASS))


def with_base_class(table: pd.DataFrame, base_class: Any) -> pd.DataFrame:
    """The view with its base's class (`BASE_CLASS`): `base_class(group_code)` gives a `Known`'s class."""
    shown = table.copy()
    groups = (list(shown["group_code"]) if "group_code" in shown.columns
              else [table.attrs.get("group", published.ALL)] * len(shown))
    shown[BASE_CLASS] = [_class(base_class(group)) or published.ORIGINAL_COLUMN_VALUE for group in groups]
    shown.attrs.update(table.attrs)
    return shown


def unpublished_sentence(*, all_marked: bool, in_words: bool, names: list[str]) -> str:
    """The alt text's sentence naming what the article does not publish exactly (`in_words`: it gives some of
    them in words, so saying it published nothing would be false)."""
    if all_marked:
        return NONE_EXACT if in_words else NONE_PUBLISHED
    return ("Not published exactly by the article, and drawn pale (each is the reconstruction's choice; the data "
            f"table gives the range that fits the article): {'; '.join(names)}.")


def range_words(low: Any, high: Any) -> str:
    """'exact value not published; any value from 4% to 31% fits the article' (the range as `phrasing.share_range`
    says it): 'exact', because the article may give the number in words ("two thirds")."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return "exact value not published by the article"
    return f"exact value not published; {share_range(low, high)} fits the article"


def class_words(row: Any) -> str | None:
    """What the table, the CSV and the tooltip say of a row: 'published', or the share's range; None without classes."""
    cls = cell_class(row)
    if cls is None:
        return None
    if published.is_marked(cls):
        return range_words(_get(row, "range_low"), _get(row, "range_high"))
    if published.is_marked(_class(_get(row, BASE_CLASS))):
        return BASE_NOT_PUBLISHED
    if published.is_marked(_class(_get(row, "count_provenance"))):
        return COUNT_NOT_PUBLISHED
    return "published"


#: a share the article prints, of a number of mentions it does not
COUNT_NOT_PUBLISHED = "percentage published; the count is not"
#: a share the article prints, of a base it does not (a sector's size): no interval can be known
BASE_NOT_PUBLISHED = "percentage published; the base is not"
#: what `class_words` says of a row whose share is published
PUBLISHED_WORDS = ("published", COUNT_NOT_PUBLISHED, BASE_NOT_PUBLISHED)
