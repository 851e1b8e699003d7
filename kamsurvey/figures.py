"""A figure as the notebook stores it, and as the website shows it.

The notebook output of a figure is semantic, not presentational: the Vega-Lite
spec, the aggregate numbers behind it, generated alt text and the wave it belongs
to, under one JSON mime type. It is identical on every machine (no fonts, no ids,
no timestamps), which is what strict nbval needs. The Sphinx extension turns it
into the page's figure at build time: static SVG (shown without JavaScript and in
print), the interactive chart, a data table, downloads and citation text.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .policy import SUPPRESSED_MARK

FIGURE_MIME = "application/vnd.kamsurvey.figure+json"
PAYLOAD_VERSION = 1

DISPLAY_COLUMNS = {
    "group_label": "Group",
    "row": "Group",
    "label": "Option",
    "count": "Count",
    "base": "Base (n)",
    "share": "Percentage",
    "ci_low": "95% interval: low",
    "ci_high": "95% interval: high",
    "mention_share": "Share of mentions",
}
PERCENT_COLUMNS = {"share", "ci_low", "ci_high", "mention_share"}


def _cell(column: str, value: Any, suppressed: bool) -> Any:
    if suppressed and column in {"count", "share", "ci_low", "ci_high"}:
        return SUPPRESSED_MARK
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if column in PERCENT_COLUMNS:
        return f"{float(value) * 100:.1f}%"
    if column in {"count", "base"}:
        return int(value)
    return str(value)


def display_table(table: pd.DataFrame) -> dict:
    """The numbers behind a chart, as readers see them in the data table and the CSV.

    Aggregates only: a figure never carries respondent rows. Suppressed cells
    (small-base policy) are blanked here as well as on the chart.
    """
    columns = [c for c in DISPLAY_COLUMNS if c in table.columns]
    if "group_label" in columns and "row" in columns:
        columns.remove("row")
    suppressed = table["suppressed"].astype(bool) if "suppressed" in table.columns else pd.Series(False, index=table.index)
    rows = [
        [_cell(column, row[column], bool(is_suppressed)) for column in columns]
        for (_, row), is_suppressed in zip(table.iterrows(), suppressed)
    ]
    return {"columns": [DISPLAY_COLUMNS[c] for c in columns], "rows": rows}


def describe(kind: str, title: str, base: int | None, table: pd.DataFrame, *, top: int = 3) -> str:
    """Alt text from the data: what the chart is, its question and base, the leading options."""
    parts = [f"{kind}: {title}"]
    if base is not None:
        parts.append(f"Base: {base} respondents.")
    if {"label", "share"} <= set(table.columns) and "group_label" not in table.columns and len(table):
        ranked = table.dropna(subset=["share"]).sort_values("share", ascending=False, kind="stable").head(top)
        leaders = ", ".join(f"{row.label} {row.share * 100:.0f}%" for row in ranked.itertuples())
        parts.append(f"Largest: {leaders}.")
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


def table_html(table: dict) -> str:
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in table["columns"])
    body = "".join(
        "<tr>" + "".join(
            (f'<th scope="row">{html.escape(str(v))}</th>' if i == 0 else f"<td>{html.escape(str(v))}</td>")
            for i, v in enumerate(row)
        ) + "</tr>"
        for row in table["rows"]
    )
    return f'<table class="kam-data-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def script_json(value: Any) -> str:
    """JSON safe to place inside a <script> element (no '</script>' can close it early)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def cite_text(*, book_title: str, author: str, figure_label: str, title: str, wave_title: str,
              url: str, published: str | None) -> str:
    date = f" Published {published}." if published else ""
    return f"{author}. {book_title}, {wave_title}. {figure_label}: {title} {url}.{date}"


def figure_html(payload: dict, *, svg: str, downloads: dict[str, str], cite: str, figure_label: str) -> str:
    """The figure block on the page. Every string that comes from data is escaped."""
    fid = html.escape(payload["id"])
    alt = html.escape(payload["alt"])
    links = " · ".join(
        f'<a class="kam-download" href="{html.escape(href)}" download>{html.escape(label)}</a>'
        for label, href in downloads.items()
    )
    return (
        f'<div class="kam-figure" data-kam-figure="{fid}">'
        f'<div class="kam-chart" role="img" aria-label="{alt}">'
        f'<div class="kam-static" aria-hidden="true">{svg}</div>'
        f'<div class="kam-interactive" aria-hidden="true"></div>'
        f"</div>"
        f'<script type="application/json" class="kam-spec">{script_json(payload["spec"])}</script>'
        f'<details class="kam-details"><summary>Data table: the numbers behind {html.escape(figure_label)}</summary>'
        f"{table_html(payload['table'])}</details>"
        f'<p class="kam-downloads">Download: {links}</p>'
        f'<details class="kam-details kam-cite"><summary>Cite this figure</summary>'
        f'<p class="kam-cite-text">{html.escape(cite)}</p></details>'
        f"</div>"
    )
