"""A figure as the notebook stores it: its specs, the numbers behind it, its alt text, its wave.

The notebook output of a figure is semantic, not presentational: the Vega-Lite
specs (one drawn for a desktop page and the downloads, one for a phone), the
aggregate numbers behind them in the order the chart shows them, generated alt
text and the wave it belongs to, under one JSON mime type. It is identical on
every machine (no fonts, no ids, no timestamps), which is what strict nbval needs.
The site layer (`kamsurvey.site.figureblock`) turns it into the page's figure at
build time: static SVG (shown without JavaScript and in print), the interactive
chart, a data table, downloads and citation text.

In a wave whose numbers have a class (`kamsurvey.report.marks`), the data table and
the CSV have a column saying whether the article published each number, or what
range of it fits the article, and the alt text names the numbers it did not publish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pandas as pd

from kamsurvey.report import marks
from kamsurvey.report.phrasing import percent
from kamsurvey.analysis.policy import SUPPRESSED_MARK
from kamsurvey.analysis.stats import CONFIDENCE
from kamsurvey.analysis.tabulate import MENTIONS

FIGURE_MIME = "application/vnd.kamsurvey.figure+json"
PAYLOAD_VERSION = 2
DIAGRAM = "diagram"  # a figure's `kind` when it draws the article's argument, not survey data: no numbers behind it

DISPLAY_COLUMNS = {
    "group_label": "Group",
    "row": "Group",
    "label": "Option",
    "count": "Count",
    "base": "Base (n)",
    "share": "Percentage",
    "ci_low": f"{percent(CONFIDENCE)} interval: low",
    "ci_high": f"{percent(CONFIDENCE)} interval: high",
    "mention_share": "Share of mentions",
    "article": marks.TABLE_HEADER,
}
PERCENT_COLUMNS = {"share", "ci_low", "ci_high", "mention_share"}
# Option groups of an agreement scale, in the order alt text reads them.
AGREEMENT_GROUPS = {"agree": "agree", "neutral": "neither agree nor disagree", "disagree": "disagree"}
#: what a table with intervals says of them (as the chart does): they assume a random sample, and this one is not
INTERVAL_NOTE = (f"The {percent(CONFIDENCE)} intervals assume a random sample; this sample is self-selected, "
                 "so they understate the uncertainty.")
#: the same, where the numbers the article did not publish have none (`marks.NO_INTERVAL`)
INTERVAL_NOTE_PUBLISHED_ONLY = (f"The {percent(CONFIDENCE)} intervals (given only where the article publishes the "
                                "number and its base) assume a random sample; this sample is self-selected, so they "
                                "understate the uncertainty.")


def _cell(column: str, value: Any, suppressed: bool) -> Any:
    if suppressed and column in {"count", "share", "ci_low", "ci_high", "article"}:
        return SUPPRESSED_MARK
    if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column in PERCENT_COLUMNS:
        return percent(value, 1)  # the one rounding: half up on the decimal value, as in the prose and charts
    if column in {"count", "base"}:
        return int(value)
    return str(value)


def _is_mentions(table: pd.DataFrame) -> bool:
    return table.attrs.get("percent_of") == MENTIONS


def in_chart_order(table: pd.DataFrame, codes: list[str], *, by: str | None = None,
                   groups: list[str] | None = None) -> pd.DataFrame:
    """The table's rows in the order the chart shows them: `codes` top down (within each of `groups` of
    column `by`, or each group within each code when the chart pairs them: see `by_code`)."""
    rank = {code: i for i, code in enumerate(codes)}
    ordered = table[table["code"].isin(rank)].copy()
    ordered["_option"] = ordered["code"].map(rank)
    keys = ["_option"]
    if by is not None:
        order = {g: i for i, g in enumerate(groups or list(dict.fromkeys(table[by])))}
        ordered["_group"] = ordered[by].map(order)
        keys = ["_group", "_option"]
    ordered = ordered.sort_values(keys, kind="stable").drop(columns=[c for c in ("_option", "_group") if c in ordered])
    ordered.attrs.update(table.attrs)
    return ordered.reset_index(drop=True)


def by_code(table: pd.DataFrame, codes: list[str], by: str, groups: list[str]) -> pd.DataFrame:
    """Rows option by option, and within an option group by group (a chart that pairs the groups' bars)."""
    rank = {code: i for i, code in enumerate(codes)}
    order = {g: i for i, g in enumerate(groups)}
    ordered = table[table["code"].isin(rank)].copy()
    ordered["_option"], ordered["_group"] = ordered["code"].map(rank), ordered[by].map(order)
    ordered = ordered.sort_values(["_option", "_group"], kind="stable").drop(columns=["_option", "_group"])
    ordered.attrs.update(table.attrs)
    return ordered.reset_index(drop=True)


def display_table(table: pd.DataFrame) -> dict:
    """The numbers behind a chart, as readers see them in the data table and the CSV, in the table's row order
    (the caller gives them in the chart's order: `in_chart_order`).

    Aggregates only: a figure never carries respondent rows. Withheld cells
    (small-base policy) read `SUPPRESSED_MARK` here as on the chart. Percentages to one
    decimal, rounded by `phrasing.percent` as everywhere else. For a share of mentions the
    base is the number of mentions, and no interval is given (one respondent's mentions are
    not independent; the chart draws none either). In a wave whose numbers have a class, a last
    column says whether the article published each row's numbers, or the range that fits it.
    `notes` says what the intervals assume, when there are any.
    """
    table = table.copy()
    marked = pd.Series(False, index=table.index)
    if marks.has_classes(table):
        table["article"] = [marks.class_words(row) for row in table.itertuples(index=False)]
        marked = pd.Series([not marks.has_interval(row) for row in table.itertuples(index=False)], index=table.index)
        for column in ("ci_low", "ci_high"):
            if column in table.columns:  # no interval unless the share, its count and its base are published
                table[column] = table[column].astype(object).where(~marked, None)
    columns = [c for c in DISPLAY_COLUMNS if c in table.columns]
    if "group_label" in columns and "row" in columns:
        columns.remove("row")
    names = dict(DISPLAY_COLUMNS)
    if _is_mentions(table):
        columns = [c for c in columns if c not in {"ci_low", "ci_high"}]
        names.update(base="Mentions (all options)", share="Share of mentions")
    suppressed = table["suppressed"].astype(bool) if "suppressed" in table.columns else pd.Series(False, index=table.index)
    rows = [
        [_cell(column, row[column], bool(is_suppressed)) for column in columns]
        for (_, row), is_suppressed in zip(table.iterrows(), suppressed)
    ]
    shown = {"columns": [names[c] for c in columns], "rows": rows}
    if "ci_low" in columns and not marked[~suppressed].all():
        shown["notes"] = [INTERVAL_NOTE_PUBLISHED_ONLY if marked.any() else INTERVAL_NOTE]
    elif "ci_low" in columns:  # no interval at all: the columns go
        shown["columns"] = [names[c] for c in columns if c not in {"ci_low", "ci_high"}]
        keep = [i for i, c in enumerate(columns) if c not in {"ci_low", "ci_high"}]
        shown["rows"] = [[row[i] for i in keep] for row in rows]
    return shown


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "?", "!")) else text + "."


def _pct(count: Any, base: Any) -> str:
    """A share as the reader sees it everywhere: exact from its counts, rounded half up (`phrasing.percent`)."""
    return percent(Fraction(int(count), int(base)))


def _withheld(table: pd.DataFrame) -> pd.Series:
    if "suppressed" in table.columns:
        return table["suppressed"].astype(bool)
    return pd.Series(False, index=table.index)


def _leaders(table: pd.DataFrame, top: int) -> tuple[str, list[Any]]:
    """'Sales 80%, Customer feedback 46%': the largest shares, as far as no withheld cell could be among them;
    and the rows named.

    A withheld cell is never named; a visible option is named only while its count exceeds the
    largest value the published numbers allow any withheld cell (`bound_high`), so that "largest"
    says nothing about a withheld cell.
    """
    withheld = _withheld(table)
    ceiling = -1
    if withheld.any():
        bounds = table.loc[withheld, "bound_high"] if "bound_high" in table.columns else pd.Series(dtype="Int64")
        ceiling = int(bounds.max()) if len(bounds.dropna()) else int(table["base"].max())
    shown = table[~withheld].dropna(subset=["share"])
    ranked = shown[shown["count"] > 0].sort_values("count", ascending=False, kind="stable")
    named, rows = [], []
    for row in ranked.itertuples():
        if len(named) == top or int(row.count) <= ceiling:
            break
        named.append(f"{row.label} {_pct(row.count, row.base)}")
        rows.append(row)
    return (", ".join(named) if named else SUPPRESSED_MARK), rows


def _base_of(table: pd.DataFrame) -> int | None:
    return int(table["base"].max()) if "base" in table.columns and len(table) else None


def _net_agreement(table: pd.DataFrame) -> str | None:
    """'50% agree, 17% neither, 33% disagree' for an agreement scale (option groups agree/neutral/disagree).

    A total that would add up a withheld cell reads `SUPPRESSED_MARK` instead.
    """
    if "group" not in table.columns or not set(table["group"]) <= set(AGREEMENT_GROUPS) or "share" not in table.columns:
        return None
    withheld = _withheld(table)
    parts = []
    for group, words in AGREEMENT_GROUPS.items():
        rows = table["group"] == group
        if not rows.any():
            continue
        if withheld[rows].any():
            parts.append(f"{SUPPRESSED_MARK} {words}")
        else:
            parts.append(f"{_pct(table.loc[rows, 'count'].sum(), table['base'].max())} {words}")
    return ", ".join(parts)


def _unpublished(table: pd.DataFrame, in_words: bool) -> str | None:
    """The sentence naming what the article did not publish, for a wave whose numbers have a class.

    It stands before the numbers (each one it names is marked there), so that a reader hears
    which are the reconstruction's before hearing them. `in_words`: the article says something of
    them in words (`marks.unpublished_sentence`).
    """
    if not marks.has_classes(table):
        return None
    shown = table[~_withheld(table)]
    marked = [row for row in shown.itertuples(index=False) if marks.is_marked(row)]
    if not marked:
        return "Every number in this chart is published by the article."
    by = "group_label" if "group_label" in table.columns else "row" if "row" in table.columns else None
    names = []
    for row in marked:
        name = str(row.label) if by is None else f"{row.label} ({getattr(row, by)})"
        if name not in names:
            names.append(name)
    return marks.unpublished_sentence(all_marked=len(marked) == len(shown), in_words=in_words, names=names)


def describe(kind: str, title: str, base: int | None, table: pd.DataFrame, *, top: int = 3,
             question: str | None = None, notes: tuple[str, ...] = (), in_words: bool = False) -> str:
    """Alt text from the data: what the chart is, its finding, its question and base, and what it shows.

    - bars: the `top` largest options with their shares (of respondents, or of mentions);
    - a chart by group (e.g. sector): each group's base and its leading options;
    - an agreement scale by row: each row's base and its agree / neither / disagree totals;
    - a diagram: the labels it connects.
    Withheld cells (small-base policy) are never named with a number, nor added into one, nor
    ranked; the text then says what the mark stands for. In a wave whose numbers have a class, a
    sentence before the base names the numbers the article did not publish (`notes` adds others,
    e.g. that a breakdown is not a finding; `in_words`: the article gives some of the numbers in words).
    """
    parts = [f"{kind}: {_sentence(title)}"]
    if question:
        parts.append(f"Question: {_sentence(question)}")
    parts += [_sentence(note) for note in notes]
    if (unpublished := _unpublished(table, in_words)) is not None:
        parts.append(unpublished)
    mentions = _is_mentions(table)
    if base is not None:
        if mentions:
            parts.append(f"Base: {base} respondents, {_base_of(table)} mentions; percentages are shares of all mentions.")
        else:
            parts.append(f"Base: {base} respondents.")
    if not len(table) or "label" not in table.columns:
        return " ".join(parts)
    if "share" not in table.columns:
        parts.append("Shows: " + "; ".join(str(label) for label in table["label"]) + ".")
        return " ".join(parts)
    by = "group_label" if "group_label" in table.columns else "row" if "row" in table.columns else None
    if by is None:
        parts.append(f"Largest: {_leaders(table, top)[0]}.")
    else:
        summaries = []
        for name, rows in table.groupby(by, sort=False):
            n = _base_of(rows)
            label = str(name) if f"n = {n}" in str(name) or n is None else f"{name} (n = {n})"
            net = _net_agreement(rows)
            summaries.append(f"{label}: {net if net else _leaders(rows, min(top, 2))[0]}")
        parts.append("; ".join(summaries) + ".")
    if _withheld(table).any():
        parts.append(f"{SUPPRESSED_MARK}: {marks.WITHHELD_WORDS}.")
    return " ".join(parts)


@dataclass(frozen=True)
class Figure:
    """What a chapter displays (or glues) for a numbered figure.

    `title` is the chart's finding (what the figure is cited by), `question` the codebook id and
    `wording` its words (the chart's subtitle); `spec` is drawn for a desktop page and the downloads,
    `spec_narrow` for a phone. A diagram (`kind` `DIAGRAM`) has no numbers behind it: its table is empty.
    """

    id: str
    title: str
    spec: dict
    table: dict
    alt: str
    wave: str
    wave_title: str
    published: str | None
    reconstructed: bool
    question: str | None = None
    spec_narrow: dict | None = None
    wording: str | None = None
    kind: str = "chart"
    extra: dict = field(default_factory=dict)

    def payload(self) -> dict:
        return {
            "version": PAYLOAD_VERSION,
            "id": self.id,
            "kind": self.kind,
            "question": self.question,
            "title": self.title,
            "wording": self.wording,
            "alt": self.alt,
            "wave": self.wave,
            "wave_title": self.wave_title,
            "published": self.published,
            "reconstructed": self.reconstructed,
            "table": self.table,
            "spec": self.spec,
            "spec_narrow": self.spec_narrow if self.spec_narrow is not None else self.spec,
            **self.extra,
        }

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {FIGURE_MIME: self.payload(), "text/plain": f"[{self.id}] {self.alt}"}


def has_data_table(payload: dict) -> bool:
    """A diagram, or a figure with nothing behind it, offers no data table and no CSV."""
    return payload.get("kind") != DIAGRAM and bool(payload.get("table", {}).get("rows"))


# ---------------------------------------------------------------------------
# Presentation helpers used by the site layer at build time (pure functions).
# ---------------------------------------------------------------------------


def table_csv(table: dict) -> str:
    frame = pd.DataFrame(table["rows"], columns=table["columns"])
    return frame.to_csv(index=False, lineterminator="\n")
