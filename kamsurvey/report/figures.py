"""A figure as the notebook stores it, and as the website shows it.

The notebook output of a figure is semantic, not presentational: the Vega-Lite
spec, the aggregate numbers behind it, generated alt text and the wave it belongs
to, under one JSON mime type. It is identical on every machine (no fonts, no ids,
no timestamps), which is what strict nbval needs. The Sphinx extension turns it
into the page's figure at build time: static SVG (shown without JavaScript and in
print), the interactive chart, a data table, downloads and citation text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pandas as pd

from kamsurvey.report.literal import html, script_json
from kamsurvey.report.phrasing import percent
from kamsurvey.analysis.policy import SUPPRESSED_MARK
from kamsurvey.analysis.stats import CONFIDENCE
from kamsurvey.analysis.tabulate import MENTIONS

FIGURE_MIME = "application/vnd.kamsurvey.figure+json"
PAYLOAD_VERSION = 1

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
}
PERCENT_COLUMNS = {"share", "ci_low", "ci_high", "mention_share"}
# Option groups of an agreement scale, in the order alt text reads them.
AGREEMENT_GROUPS = {"agree": "agree", "neutral": "neither agree nor disagree", "disagree": "disagree"}


def _cell(column: str, value: Any, suppressed: bool) -> Any:
    if suppressed and column in {"count", "share", "ci_low", "ci_high"}:
        return SUPPRESSED_MARK
    if pd.isna(value):
        return ""
    if column in PERCENT_COLUMNS:
        return percent(value, 1)  # the one rounding: half up on the decimal value, as in the prose and charts
    if column in {"count", "base"}:
        return int(value)
    return str(value)


def _is_mentions(table: pd.DataFrame) -> bool:
    return table.attrs.get("percent_of") == MENTIONS


def display_table(table: pd.DataFrame) -> dict:
    """The numbers behind a chart, as readers see them in the data table and the CSV.

    Aggregates only: a figure never carries respondent rows. Withheld cells
    (small-base policy) read `SUPPRESSED_MARK` here as on the chart. Percentages to one
    decimal, rounded by `phrasing.percent` as everywhere else. For a share of mentions the
    base is the number of mentions, and no interval is given (one respondent's mentions are
    not independent; the chart draws none either).
    """
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
    return {"columns": [names[c] for c in columns], "rows": rows}


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


def _leaders(table: pd.DataFrame, top: int) -> str:
    """'Sales 80%, Customer feedback 46%': the largest shares, as far as no withheld cell could be among them.

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
    named = []
    for row in ranked.itertuples():
        if len(named) == top or int(row.count) <= ceiling:
            break
        named.append(f"{row.label} {_pct(row.count, row.base)}")
    return ", ".join(named) if named else SUPPRESSED_MARK


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


def describe(kind: str, title: str, base: int | None, table: pd.DataFrame, *, top: int = 3) -> str:
    """Alt text from the data: what the chart is, its question and base, and what it shows.

    - bars: the `top` largest options with their shares (of respondents, or of mentions);
    - a chart by group (e.g. sector): each group's base and its leading options;
    - an agreement scale by row: each row's base and its agree / neither / disagree totals;
    - a diagram: the labels it connects.
    Withheld cells (small-base policy) are never named with a number, nor added into one, nor
    ranked; the text then says what the mark stands for.
    """
    parts = [f"{kind}: {_sentence(title)}"]
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
        parts.append(f"Largest: {_leaders(table, top)}.")
    else:
        summaries = []
        for name, rows in table.groupby(by, sort=False):
            n = _base_of(rows)
            label = str(name) if f"n = {n}" in str(name) or n is None else f"{name} (n = {n})"
            net = _net_agreement(rows)
            summaries.append(f"{label}: {net if net else _leaders(rows, min(top, 2))}")
        parts.append("; ".join(summaries) + ".")
    if _withheld(table).any():
        parts.append(f"{SUPPRESSED_MARK}: withheld under the small-base policy.")
    return " ".join(parts)


@dataclass(frozen=True)
class Figure:
    """What a chapter displays (or glues) for a numbered figure."""

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
    extra: dict = field(default_factory=dict)

    def payload(self) -> dict:
        return {
            "version": PAYLOAD_VERSION,
            "id": self.id,
            "question": self.question,
            "title": self.title,
            "alt": self.alt,
            "wave": self.wave,
            "wave_title": self.wave_title,
            "published": self.published,
            "reconstructed": self.reconstructed,
            "table": self.table,
            "spec": self.spec,
            **self.extra,
        }

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return {FIGURE_MIME: self.payload(), "text/plain": f"[{self.id}] {self.alt}"}


# ---------------------------------------------------------------------------
# Presentation: used by the Sphinx extension at build time (pure functions).
# ---------------------------------------------------------------------------


def table_csv(table: dict) -> str:
    frame = pd.DataFrame(table["rows"], columns=table["columns"])
    return frame.to_csv(index=False, lineterminator="\n")


def table_html(table: dict, caption: str | None = None) -> str:
    head = "".join(f'<th scope="col">{html(str(c))}</th>' for c in table["columns"])
    body = "".join(
        "<tr>" + "".join(
            (f'<th scope="row">{html(str(v))}</th>' if i == 0 else f"<td>{html(str(v))}</td>")
            for i, v in enumerate(row)
        ) + "</tr>"
        for row in table["rows"]
    )
    caption_html = f"<caption>{html(caption)}</caption>" if caption else ""
    return f'<table class="kam-data-table">{caption_html}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def long_date(iso: str | None) -> str | None:
    """'2026-11-26' -> '26 November 2026'."""
    if not iso:
        return None
    day = dt.date.fromisoformat(str(iso))
    return f"{day.day} {day:%B %Y}"


def cite_text(*, authors: str, book_title: str, edition: str, figure_label: str, title: str, url: str,
              published: str | None) -> str:
    """'Cite this figure': who, when, which figure (number and title), which edition, where.

    `url` is the figure's stable address in its edition (…/editions/<wave>/<page>#fig-…);
    `published` the edition's publication date (ISO), also giving the year.
    """
    year = f" ({published[:4]})" if published else ""
    when = f" Published {long_date(published)}." if published else ""
    return f"{authors}{year}. {figure_label}: {_sentence(title)} In {book_title}, {edition}.{when} {url}"


def figure_html(payload: dict, *, svg: str, downloads: dict[str, str], cite: str, figure_label: str) -> str:
    """The figure block on the page. Every string that comes from data is escaped.

    The chart is one image to assistive technology (`role="img"`, the alt text as
    its label); the data table and the downloads give the numbers in full.
    """
    fid = html(payload["id"])
    alt = html(payload["alt"])
    label = html(figure_label)
    links = " · ".join(
        f'<a class="kam-download" href="{html(href)}" download>{html(text)}</a>'
        for text, href in downloads.items()
    )
    caption = f"The numbers behind {figure_label}: {payload['title']}"
    return (
        f'<div class="kam-figure" data-kam-figure="{fid}">'
        f'<div class="kam-chart" role="img" aria-label="{alt}">'
        f'<div class="kam-static" aria-hidden="true">{svg}</div>'
        f'<div class="kam-interactive" aria-hidden="true"></div>'
        f"</div>"
        f'<script type="application/json" class="kam-spec">{script_json(payload["spec"])}</script>'
        f'<details class="kam-details kam-data"><summary>Data table: the numbers behind {label}</summary>'
        f'<div class="kam-table-wrap" tabindex="0" role="region" aria-label="Data table of {label}">'
        f"{table_html(payload['table'], caption)}</div></details>"
        f'<p class="kam-downloads">Download {label}: {links}</p>'
        f'<details class="kam-details kam-cite"><summary>Cite this figure</summary>'
        f'<p class="kam-cite-text">{html(cite)}</p></details>'
        f"</div>"
    )
