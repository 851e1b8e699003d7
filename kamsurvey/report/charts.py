"""Chart specifications: one function per kind of question, each returning an Altair chart.

A chart is a function of an aggregate table (never respondent rows), the question
from the codebook and the wave's metadata, so it can be tested by inspecting its
spec, and it looks the same for every question of its kind. Every chart states its
finding as its title (computed by the caller from the same numbers), gives the
question's wording, the base, what the percentage is of and what its intervals
assume as its subtitle, and ends with the source line (which says when the data is
reconstructed).

Each chart is drawn for a `Layout`: `WIDE` for a desktop page and the downloads,
`NARROW` for a phone (390 px wide), where it is drawn at the size it is shown so
that no text is scaled below 12 px. Labels sit above their bars and are wrapped to
the layout's width, never cut.

Colours have one meaning each across the book (`ANSWER`, `GROUP_COLOURS`,
`SECTOR_COLOURS`, `LIKERT_COLOURS`). A number the article did not publish (a wave
whose cells carry a class, `kamsurvey.report.marks`) is drawn pale with a dashed
outline and its number in italics, with a key entry (only for the classes a chart has);
its tooltip gives the range that fits the article, and no interval is drawn around it
(an interval around one of many values that fit the article would present it as a
finding). Every chart that draws intervals says that they assume a random sample and
that this sample is self-selected.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass
from typing import Sequence

import altair as alt
import pandas as pd

from kamsurvey.analysis.policy import MIN_BASE, SUPPRESSED_MARK, is_low_base
from kamsurvey.analysis.stats import CONFIDENCE
from kamsurvey.analysis.tabulate import MENTIONS, RESPONDENTS
from kamsurvey.data.codebook import Question
from kamsurvey.data.wavemeta import WaveMeta
from kamsurvey.report import marks
from kamsurvey.report.phrasing import date_span, percent

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
TEXT_COLOUR = "#1a1a1a"
MUTED_COLOUR = "#4d4d4d"
# the confidence level of every interval drawn, as the prose says it ('95%')
LEVEL = percent(CONFIDENCE)
INTERVAL_NOTE = f"Lines: {LEVEL} intervals, which assume a random sample; this sample is self-selected."
# the same, where some numbers are not published by the article and so have no interval drawn
INTERVAL_NOTE_PUBLISHED_ONLY = (f"Lines: {LEVEL} intervals, only where the article publishes the number and its "
                                "base; they assume a random sample, and this sample is self-selected.")

# Okabe & Ito (2008) colour-blind-safe palette (the names other modules use).
BLUE, ORANGE, SKY, GREEN, VERMILLION, PURPLE, GREY, YELLOW = (
    "#0072B2", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#8C8C8C", "#F0E442",
)
# One meaning per colour, across the book:
ANSWER = "#595959"  # the share choosing an answer, where colour codes nothing else (and 'other' answers)
GROUP_COLOURS = {"financial": VERMILLION, "within_control": BLUE}  # the article's own contrast
SECTOR_COLOURS = {"pharma": PURPLE, "other": YELLOW}  # yellow only with an outline (it is 1.3:1 on white)
# Brown (disagree) - grey (neither) - teal (agree), ordered strongly disagree -> strongly agree; the ends and
# the two inner colours at least 3:1 against white (WCAG 1.4.11).
LIKERT_COLOURS = ["#8C510A", "#BF812D", "#BDBDBD", "#35978F", "#01665E"]
OUTLINE = TEXT_COLOUR
PALE = 0.3  # fill opacity of a number the article did not publish


@dataclass(frozen=True)
class Layout:
    """Where a chart is shown: its drawn width and the characters a line of text may hold at each size.

    `em` is a generous average glyph width of DejaVu Sans in ems (measured 0.50 regular, 0.57 bold on
    English text), so that wrapped lines stay inside the width; wrapping by characters keeps the spec
    the same on every machine (no font file is read).
    """

    name: str
    width: int
    title_size: int = 16
    text_size: int = 12
    note_size: int = 12
    em: float = 0.6

    def chars(self, size: int, width: float | None = None, *, bold: bool = False) -> int:
        return max(12, int((width or self.width) / (size * (self.em + (0.06 if bold else 0)))))


WIDE = Layout("wide", 620)
NARROW = Layout("narrow", 320)
LAYOUTS = (WIDE, NARROW)

LINE = 15  # px per line of a 12 px label
BAR = 16  # px, one bar
PAIR_BAR = 13  # px, each of two bars side by side (by group)
GAP = 3  # px between a label and its bar, and between paired bars
ROW_GAP = 12  # px between one option's bars and the next option's label


def theme(layout: Layout = WIDE) -> dict:
    size = layout.text_size
    return {
        "font": FONT,
        "background": "white",
        "view": {"stroke": None},
        "title": {"font": FONT, "fontSize": layout.title_size, "color": TEXT_COLOUR, "anchor": "start",
                  "subtitleFontSize": layout.note_size, "subtitleColor": MUTED_COLOUR, "subtitlePadding": 6,
                  "offset": 12, "lineHeight": round(layout.title_size * 1.25), "subtitleLineHeight": 16},
        "axis": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": size, "titleFontSize": size,
                 "labelColor": TEXT_COLOUR, "titleColor": TEXT_COLOUR, "grid": False, "domainColor": "#888",
                 "tickColor": "#888"},
        "legend": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": size, "titleFontSize": size,
                   "orient": "bottom", "direction": "vertical", "labelColor": TEXT_COLOUR, "titleColor": TEXT_COLOUR,
                   "labelLimit": layout.width, "symbolSize": 140},
        "text": {"font": FONT, "fontSize": size, "color": TEXT_COLOUR},
    }


THEME = theme(WIDE)


# A base split across lines reads badly ("(n" / "= 82)"): "n = 82" is wrapped as one word.
_KEEP_TOGETHER = re.compile(r"\bn = (?=\d)")
_GLUE = "\x00"


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters; a word longer than that is broken, never cut off."""
    text = _KEEP_TOGETHER.sub(f"n{_GLUE}={_GLUE}", " ".join(str(text).split()))
    return [line.replace(_GLUE, " ") for line in textwrap.wrap(text, width=width, break_on_hyphens=False)] or [""]


def wrap_block(text: str, width: int) -> str:
    """Re-wrap a multi-line label to `width` for a text mark, keeping line breaks after a sentence."""
    sentences = re.split(r"(?<=[.!?])\s*\n", text)
    return "\n".join(line for part in sentences for line in wrap(part, width))


def percent_of_note(percent_of: str, multi: bool) -> str:
    if percent_of == MENTIONS:
        return "% of all mentions (options ticked); the bars add up to 100%."
    if multi:
        return "% of respondents; more than one answer allowed, so the bars add up to more than 100%."
    return "% of respondents; one answer each."


def base_note(base: int, who: str = "respondents") -> str:
    note = f"Base: {who} answering (n = {base})"
    return note + ("." if not is_low_base(base) else f": low base (under {MIN_BASE}), treat with caution.")


def question_note(wording: str) -> str:
    return f"Question: ‘{' '.join(str(wording).split())}’"


def _lines(notes: Sequence[str], layout: Layout) -> list[str]:
    return [line for note in notes for line in wrap(note, layout.chars(layout.note_size))]


def _finish(chart: alt.TopLevelMixin, title: str, notes: Sequence[str], source: str, layout: Layout) -> alt.TopLevelMixin:
    """The finding on top, the question and notes under it, the source line underneath, and the theme."""
    framed = alt.vconcat(chart, spacing=4).properties(
        title=alt.TitleParams(text=wrap(title, layout.chars(layout.title_size, bold=True)),
                              subtitle=_lines(notes, layout)),
    )
    source_line = alt.TitleParams(
        text=wrap(source, layout.chars(layout.note_size)), orient="bottom", anchor="start",
        fontSize=layout.note_size, fontWeight="normal", color=MUTED_COLOUR, offset=14, lineHeight=16,
    )
    return alt.vconcat(framed, spacing=0).properties(title=source_line).configure(**theme(layout))


# -- cells as a chart carries them ----------------------------------------------------------------------------


def _tooltip(*, with_interval: bool = True, percent_of: str = RESPONDENTS, classes: bool = False,
             first: Sequence[alt.Tooltip] = ()) -> list[alt.Tooltip]:
    """Option, count, percentage, base and interval: what a reader hovering a bar sees.

    Count and percentage are text fields of the data (`count_text`, `share_label`): rounded by
    `phrasing.percent`, as everywhere else, not by Vega's number format; a withheld cell reads
    `SUPPRESSED_MARK`. For a share of mentions the base is the number of mentions and there is
    no interval. A wave with classes adds whether the article published the number, or its range.
    """
    mentions = percent_of == MENTIONS
    tips = list(first) + [
        alt.Tooltip("label:N", title="Option"),
        alt.Tooltip("count_text:N", title="Count"),
        alt.Tooltip("share_label:N", title="Share of mentions" if mentions else "Percentage"),
        alt.Tooltip("base:Q", title="Mentions (all options)" if mentions else "Base (n)", format=","),
    ]
    if with_interval and not mentions:
        tips.append(alt.Tooltip("interval:N", title=f"{LEVEL} interval"))
    if classes:
        tips.append(alt.Tooltip("article:N", title=marks.TABLE_HEADER))
    return tips


def _interval_text(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return "n/a"
    return f"{percent(low)}–{percent(high)}"


def _is_withheld(row) -> bool:
    return bool(getattr(row, "suppressed", False)) or pd.isna(row.count)


def _cell_fields(row, *, intervals: bool) -> dict:
    """A cell's numbers as a chart carries them: nothing at all for a withheld cell (no count, share or interval).

    Shares of mentions (`intervals=False`) carry no interval fields. A cell of a wave with classes
    carries its class (`provenance`) and what the article says of it (`article`).
    """
    withheld = _is_withheld(row)
    share = None if withheld or pd.isna(row.share) else round(float(row.share), 6)
    fields = {
        "count": None if withheld else int(row.count),
        "count_text": SUPPRESSED_MARK if withheld else f"{int(row.count):,}",
        "base": int(row.base),
        "share": share,
        "share_label": SUPPRESSED_MARK if withheld else percent(row.share, 1),
        "share_text": SUPPRESSED_MARK if withheld else percent(row.share),
    }
    cls = marks.cell_class(row)
    if intervals:
        drawn = share is not None and marks.has_interval(row)  # none unless share, count and base are published
        fields.update(
            ci_low=round(float(row.ci_low), 6) if drawn else None,
            ci_high=round(float(row.ci_high), 6) if drawn else None,
            interval=(_interval_text(row.ci_low, row.ci_high) if drawn
                      else SUPPRESSED_MARK if withheld else marks.NO_INTERVAL),
        )
    fields["text_x"] = 0 if share is None else (fields.get("ci_high") or share)
    if cls is not None:
        fields["provenance"] = cls
        fields["article"] = SUPPRESSED_MARK if withheld else marks.class_words(row)
    return fields


def withheld_note(*, listed_after: bool = False) -> str:
    """What the mark stands for, under every chart that shows it (and, for sorted bars, where withheld ones go)."""
    note = f"{SUPPRESSED_MARK} = {marks.WITHHELD_WORDS}"
    return note + ("; withheld options are listed after the others." if listed_after else ".")


def source_line(meta: WaveMeta, base: int | None = None) -> str:
    """The line under every chart: survey, fieldwork dated as the prose dates it (`phrasing.date_span`), base, and
    whether the data is reconstructed."""
    line = f"Source: {meta.source}, answered {date_span(meta.fieldwork_start, meta.fieldwork_end)}"
    line += (f" (n = {base})." if base is not None else ".")
    if meta.reconstructed:
        line += " Respondent-level data reconstructed from the published article."
    return line


def bar_order(table: pd.DataFrame, *, sort: bool) -> list[str]:
    """Largest first when sorting; withheld options after the others, in questionnaire order (their place
    would tell their size); exclusive answers ('none') always at the bottom."""
    exclusive = table["exclusive"].astype(bool)
    withheld = table["suppressed"].astype(bool) if "suppressed" in table.columns else pd.Series(False, index=table.index)
    shown = table[~exclusive & ~withheld]
    if sort:
        shown = shown.sort_values("count", ascending=False, kind="stable")
        return shown["code"].tolist() + table[~exclusive & withheld]["code"].tolist() + table[exclusive]["code"].tolist()
    return table[~exclusive]["code"].tolist() + table[exclusive]["code"].tolist()


# -- styles shared by every chart ---------------------------------------------------------------------------------


def _class_encodings(classes: bool, *, outline: bool = False) -> dict:
    """Pale with a dashed outline for a number the article did not publish (`_class_key` explains it)."""
    if not classes:
        return {"stroke": alt.value(OUTLINE), "strokeWidth": alt.value(0.8)} if outline else {}
    return {
        "fillOpacity": alt.condition(RECONSTRUCTED_TEST, alt.value(PALE), alt.value(1)),
        "strokeDash": alt.condition(RECONSTRUCTED_TEST, alt.value([3, 2]), alt.value([1, 0])),
        "strokeWidth": alt.condition(RECONSTRUCTED_TEST, alt.value(1.2), alt.value(0.8 if outline else 0)),
        "stroke": alt.value(OUTLINE),
    }


RECONSTRUCTED_TEST = f"datum.provenance === {marks.RECONSTRUCTED!r}"
def shown_classes(rows) -> list[str]:
    """The classes of the numbers a chart shows (withheld cells show none), in the key's order."""
    found = {marks.cell_class(row) for row in rows if not _is_withheld(row)}
    return [cls for cls in (marks.PUBLISHED, marks.RECONSTRUCTED) if cls in found]


def _key_entries(classes: Sequence[str], layout: Layout) -> list[dict]:
    """The key's entries, top down: each class's swatch and its words, wrapped to the layout's width."""
    entries, y = [], 0
    for cls in classes:
        lines = wrap(marks.LEGEND_WORDS[cls], layout.chars(layout.text_size, layout.width - 22))
        entries.append({"provenance": cls, "text": "\n".join(lines), "y_top": y + 2, "y_bottom": y + 13,
                        "y_text": y + LINE - 3})
        y += LINE * len(lines)
    return entries


def key_height(classes: Sequence[str], layout: Layout) -> int:
    """The room the key to the classes takes above the bars (none in a wave of original answers)."""
    entries = _key_entries(classes, layout)
    return sum(LINE * (e["text"].count("\n") + 1) for e in entries) + 14 if entries else 0


def _class_key(classes: Sequence[str], total: int, layout: Layout) -> list[alt.Chart]:
    """A swatch with its words for each class the chart shows: solid, published by the article; pale and dashed,
    not published (a key to a style nothing in the chart has would only puzzle)."""
    if not classes:
        return []
    data = alt.Chart(alt.Data(values=_key_entries(classes, layout)))
    swatches = data.mark_rect(color=ANSWER).encode(
        x=alt.value(0), x2=alt.value(16), y=_y("y_top", total), y2="y_bottom:Q", **_class_encodings(True, outline=True))
    words = data.mark_text(align="left", baseline="alphabetic", lineBreak="\n", lineHeight=LINE, color=TEXT_COLOUR,
                           x=22).encode(y=_y("y_text", total), text="text:N")
    return [swatches, words]


def _label_expr(labels: dict[str, str]) -> str:
    """Vega expression mapping codes to labels in a legend (data keeps codes, readers see labels)."""
    cases = " : ".join(f"datum.label === {code!r} ? {label!r}" for code, label in labels.items())
    return f"{cases} : datum.label" if cases else "datum.label"


def _x_scale(records: Sequence[dict], *, headroom: float) -> alt.Scale:
    upper = max([r["text_x"] for r in records if r.get("text_x") is not None] + [0.05])
    return alt.Scale(domain=[0, min(1.0, math.ceil((upper + headroom) * 10) / 10)], nice=False)


def _rows_layout(records: list[dict], keys: Sequence[str], per_row: int, bar: int, layout: Layout, y0: int = 0) -> int:
    """Pixel positions, top down: each option's wrapped label, then its `per_row` bars; the drawing's height.

    Sets on each record `label_text` (the label wrapped to the layout's width), `y_label` (the
    label's first baseline), and `y_top`/`y_mid`/`y_bottom` of its bar; the rows start at `y0`.
    """
    y = y0
    label_chars = layout.chars(layout.text_size)
    by_key: dict[str, list[dict]] = {}
    for record in records:
        by_key.setdefault(record["code"], []).append(record)
    for key in keys:
        group = by_key.get(key, [])
        if not group:
            continue
        lines = wrap(group[0]["label"], label_chars)
        first_baseline = y + LINE - 3  # a text mark of several lines is placed by its first line
        y += LINE * len(lines) + GAP
        for i, record in enumerate(group[:per_row]):
            record["label_text"] = "\n".join(lines)
            record["y_label"] = first_baseline
            record["y_top"] = y
            record["y_mid"] = y + bar / 2
            record["y_bottom"] = y + bar
            y += bar + (GAP if i < per_row - 1 else 0)
        y += ROW_GAP
    return y - ROW_GAP + 2


def _y(field: str, height: int) -> alt.Y:
    """A pixel position from the top (domain reversed onto Vega's bottom-up range)."""
    return alt.Y(f"{field}:Q", scale=alt.Scale(domain=[height, 0], nice=False, zero=False), axis=None)


def _labels(base: alt.Chart, height: int) -> alt.Chart:
    """Each option's label above its bars, wrapped (one text mark per option: the first record of each)."""
    return base.transform_filter("datum.label_text != null && datum.first").mark_text(
        align="left", baseline="alphabetic", lineBreak="\n", lineHeight=LINE, color=TEXT_COLOUR, x=0,
    ).encode(y=_y("y_label", height), text="label_text:N")


def _bars(base: alt.Chart, x: alt.X, height: int, colour, tooltip, classes: bool, *, outline: bool = False) -> alt.Chart:
    return base.mark_rect().encode(
        x=x, x2=alt.datum(0), y=_y("y_top", height), y2="y_bottom:Q", color=colour, tooltip=tooltip,
        **_class_encodings(classes, outline=outline),
    )


def _whiskers(base: alt.Chart, height: int) -> alt.Chart:
    return base.transform_filter("datum.ci_low != null").mark_rule(color=TEXT_COLOUR, strokeWidth=1.2).encode(
        x="ci_low:Q", x2="ci_high:Q", y=_y("y_mid", height))


def _by_class(chart: alt.Chart, classes: bool, draw) -> list[alt.Chart]:
    """`draw(chart, style)` once, or, in a wave with classes, once for the numbers the article published and once,
    in italics, for those it did not (Vega-Lite has no font-style channel): `marks.LEGEND_WORDS`."""
    if not classes:
        return [draw(chart, {})]
    italic = f"{RECONSTRUCTED_TEST} && datum.count !== null"  # a number: the withheld mark stands upright
    return [draw(chart.transform_filter(f"!({italic})"), {}), draw(chart.transform_filter(italic), {"fontStyle": "italic"})]


def _values(base: alt.Chart, height: int, classes: bool = False) -> list[alt.Chart]:
    return _by_class(base, classes, lambda chart, style: chart.mark_text(
        align="left", baseline="middle", dx=4, color=TEXT_COLOUR, **style).encode(
        x="text_x:Q", y=_y("y_mid", height), text="share_text:N"))


def interval_notes(records: Sequence[dict]) -> list[str]:
    """What the lines drawn mean, under a chart that draws any: none where no interval is drawn (shares of
    mentions; a wave whose numbers are all the reconstruction's choice)."""
    if not any(r.get("ci_low") is not None for r in records):
        return []
    marked = any(r.get("interval") == marks.NO_INTERVAL for r in records)
    return [INTERVAL_NOTE_PUBLISHED_ONLY if marked else INTERVAL_NOTE]


def _notes_of(records: Sequence[dict], *, listed_after: bool = False) -> list[str]:
    return [withheld_note(listed_after=listed_after)] if any(r["count"] is None for r in records) else []


# -- the charts ---------------------------------------------------------------------------------------------------


def option_bars(
    table: pd.DataFrame,
    question: Question,
    meta: WaveMeta,
    *,
    title: str | None = None,
    sort: bool = True,
    groups: dict[str, str] | None = None,
    notes: Sequence[str] = (),
    layout: Layout = WIDE,
) -> alt.TopLevelMixin:
    """Horizontal bars, one per option, with intervals (`LEVEL`): serves single and multi questions.

    `table` is a view of a published table (`Chapter.table`); its `percent_of` attribute decides
    the subtitle. Intervals are drawn for shares of respondents only: mentions by one respondent
    are not independent, so a binomial interval for a share of mentions would be too narrow, and
    none is drawn, shown or carried in the chart's data. A withheld option has no bar, only the mark.
    `groups` colours the options of the groups that have a colour (`GROUP_COLOURS`); `notes` are
    further lines for the subtitle (that a breakdown is not a finding, say).
    """
    percent_of = table.attrs.get("percent_of", RESPONDENTS)
    show_interval = percent_of == RESPONDENTS
    order = bar_order(table, sort=sort)
    rows = table.set_index("code").loc[list(order)].reset_index()
    records = [{"code": row.code, "label": row.label, "group": row.group or "", "first": True,
                **_cell_fields(row, intervals=show_interval)} for row in rows.itertuples(index=False)]
    classes = marks.has_classes(table)
    key = shown_classes(rows.itertuples(index=False))
    height = _rows_layout(records, order, 1, BAR, layout, key_height(key, layout))
    base = alt.Chart(alt.Data(values=records))
    x = alt.X("share:Q", title=None, scale=_x_scale(records, headroom=0.12 if layout is NARROW else 0.08),
              axis=alt.Axis(format="%", tickCount=4, labelFontSize=layout.text_size))
    coloured = [g for g in (groups or {}) if g in GROUP_COLOURS and any(r["group"] == g for r in records)]
    if coloured:
        used = coloured + (["other"] if any(r["group"] not in coloured for r in records) else [])
        for record in records:
            record["colour_group"] = record["group"] if record["group"] in coloured else "other"
        names = {g: groups[g] for g in coloured} | {"other": "Other answers"}
        colour = alt.Color("colour_group:N", title=None,
                           scale=alt.Scale(domain=used, range=[GROUP_COLOURS.get(g, ANSWER) for g in used]),
                           legend=alt.Legend(labelExpr=_label_expr({g: names[g] for g in used})))
    else:
        colour = alt.value(ANSWER)
    tooltip = _tooltip(with_interval=show_interval, percent_of=percent_of, classes=classes)
    layers = [_labels(base, height), _bars(base, x, height, colour, tooltip, classes)]
    layers += _class_key(key, height, layout)
    if interval_notes(records):
        layers.append(_whiskers(base, height))
    layers += _values(base, height, classes)
    chart = alt.layer(*layers).properties(width=layout.width, height=height)
    base_n = int(table.attrs.get("respondents", records[0]["base"] if records else 0))
    lines = [question_note(question.wording_in(meta.wave)), base_note(base_n), percent_of_note(percent_of, question.is_multi)]
    if percent_of == MENTIONS:
        total = records[0]["base"] if records else 0
        lines[1] = base_note(base_n)[:-1] + f"; {total:,} mentions."
    lines += interval_notes(records) + _notes_of(records, listed_after=sort) + list(notes)
    return _finish(chart, title or question.wording, lines, source_line(meta, base_n), layout)


def likert_bars(
    tables: Sequence[tuple[str, pd.DataFrame]],
    question: Question,
    meta: WaveMeta,
    *,
    title: str | None = None,
    notes: Sequence[str] = (),
    totals: Sequence[dict] = (),
    layout: Layout = WIDE,
) -> alt.TopLevelMixin:
    """Diverging stacked bars for a five-point agreement scale, one row per group (e.g. all, by sector).

    Disagreement extends left of zero and agreement right; the neutral middle is split across
    zero so that the bars stay centred on the scale's midpoint. Every position comes from
    visible cells only: a withheld cell has no segment, the cells beyond it move in towards the
    middle (a row with a withheld neutral starts both sides at zero), and the row ends with the
    mark. No segment carries a label (a narrow one has no room for it): each row's disagree and
    agree totals stand at its ends, as `totals` gives them (one dict per row: `row`, `disagree`,
    `agree`, each a dict of `text` and, for a wave with classes, `provenance` and `article`).
    `notes` are further lines for the subtitle (why there are no rows by sector, say).
    """
    scale_codes = [o.code for o in sorted(question.options, key=lambda o: o.score or 0)]
    scale_labels = [question.label(code) for code in scale_codes]
    side = {o.code: o.group for o in question.options}
    records, row_records, ends = [], [], []
    classes = any(marks.has_classes(table) for _, table in tables)
    key = shown_classes([row for _, table in tables for row in table.itertuples(index=False)])
    label_chars = layout.chars(layout.text_size)
    sides_y = key_height(key, layout) + LINE
    y = sides_y + 6
    widest = 0.05
    totals_by_row = {t["row"]: t for t in totals}
    for row_label, table in tables:
        base_n = int(table.attrs.get("respondents", 0))
        label = f"{row_label} (n = {base_n})"
        by_code = {row.code: row for row in table.itertuples(index=False)}
        cells = {code: by_code[code] for code in scale_codes}
        withheld = {code for code, cell in cells.items() if _is_withheld(cell)}
        shares = {code: 0.0 if code in withheld or not base_n else float(cell.share) for code, cell in cells.items()}
        neutral = [c for c in scale_codes if side[c] == "neutral"]
        half = 0.0 if set(neutral) & withheld else sum(shares[c] for c in neutral) / 2
        position = {}
        left = -half
        for code in neutral:
            position[code] = (left, left + shares[code])
            left += shares[code]
        outward = {"disagree": -half, "agree": half}
        for code in reversed(scale_codes):  # disagreement: from the middle out to the left
            if side[code] == "disagree" and code not in withheld:
                position[code] = (outward["disagree"] - shares[code], outward["disagree"])
                outward["disagree"] -= shares[code]
        for code in scale_codes:  # agreement: from the middle out to the right
            if side[code] == "agree" and code not in withheld:
                position[code] = (outward["agree"], outward["agree"] + shares[code])
                outward["agree"] += shares[code]
        lines = wrap(label, label_chars)
        label_y = y + LINE - 3
        y += LINE * len(lines)
        top = y + GAP
        y = top + BAR + 4 + ROW_GAP
        row_records.append({"row": label, "label_text": "\n".join(lines), "y_label": label_y})
        for code in scale_codes:
            cell = cells[code]
            fields = _cell_fields(cell, intervals=False)  # no interval drawn, so none in the tooltip
            start, end = position.get(code, (None, None)) if code not in withheld else (None, None)
            records.append({
                "row": label, "code": code, "label": question.label(code), **fields,
                "start": None if start is None else round(start, 6), "end": None if end is None else round(end, 6),
                "share_text": "", "order": scale_codes.index(code),
                "y_top": top, "y_bottom": top + BAR + 4,
            })
        widest = max(widest, -outward["disagree"], outward["agree"])
        given = totals_by_row.get(row_label, {})
        for which, x, align in (("disagree", outward["disagree"], "right"), ("agree", outward["agree"], "left")):
            total = given.get(which) or {}
            text = total.get("text") or (SUPPRESSED_MARK if withheld & {c for c in scale_codes if side[c] == which} else "")
            if text:
                end = {"row": label, "x": round(x, 6), "text": text, "align": align, "y_mid": top + (BAR + 4) / 2,
                       "dx": -4 if align == "right" else 4}
                end.update({k: total[k] for k in ("provenance", "article") if k in total})
                ends.append(end)
    height = y - ROW_GAP
    reach = min(1.0, math.ceil((widest + (0.28 if layout is NARROW else 0.16)) * 10) / 10)
    x_scale = alt.Scale(domain=[-reach, reach], nice=False)
    base = alt.Chart(alt.Data(values=records))
    bars = base.transform_filter("datum.start != null").mark_rect().encode(
        y=_y("y_top", height), y2="y_bottom:Q",
        x=alt.X("start:Q", title=None, scale=x_scale, axis=None), x2="end:Q",
        color=alt.Color("label:N", title=None, sort=scale_labels,
                        scale=alt.Scale(domain=scale_labels, range=LIKERT_COLOURS),
                        legend=alt.Legend(symbolType="square", direction="vertical", orient="bottom")),
        order=alt.Order("order:Q"),
        tooltip=[alt.Tooltip("row:N", title="Group")] + _tooltip(with_interval=False, classes=classes),
        **_class_encodings(classes),
    )
    row_labels = alt.Chart(alt.Data(values=row_records)).mark_text(
        align="left", baseline="alphabetic", lineBreak="\n", lineHeight=LINE, color=TEXT_COLOUR,
    ).encode(x=alt.value(0), y=_y("y_label", height), text="label_text:N")
    zero = alt.Chart(alt.Data(values=[{"x": 0, "y": sides_y + 2, "y2": height}])).mark_rule(color=TEXT_COLOUR).encode(
        x=alt.X("x:Q", scale=x_scale), y=_y("y", height), y2="y2:Q")
    sides = alt.layer(*[
        alt.Chart(alt.Data(values=[{**item, "y": sides_y}])).mark_text(
            baseline="alphabetic", color=MUTED_COLOUR, fontWeight="bold", align=item["align"],
        ).encode(x=alt.X("x:Q", scale=x_scale), y=_y("y", height), text="text:N")
        for item in ({"x": -0.02, "text": "◂ Disagree", "align": "right"}, {"x": 0.02, "text": "Agree ▸", "align": "left"})
    ])
    layers = [row_labels, bars, zero, sides] + _class_key(key, height, layout)
    for align in ("right", "left"):
        chosen = [e for e in ends if e["align"] == align]
        if chosen:
            tip = [alt.Tooltip("row:N", title="Group"), alt.Tooltip("text:N", title="Disagree" if align == "right" else "Agree")]
            if classes and any("article" in e for e in chosen):
                tip.append(alt.Tooltip("article:N", title=marks.TABLE_HEADER))
            layers += _by_class(alt.Chart(alt.Data(values=chosen)), classes, lambda chart, style: chart.mark_text(
                align=align, baseline="middle", dx=-4 if align == "right" else 4, color=TEXT_COLOUR, fontWeight="bold",
                **style).encode(x=alt.X("x:Q", scale=x_scale), y=_y("y_mid", height), text="text:N", tooltip=tip))
    chart = alt.layer(*layers).properties(width=layout.width, height=height)
    total_base = int(tables[0][1].attrs.get("respondents", 0)) if tables else 0
    lines = [question_note(question.wording_in(meta.wave)), base_note(total_base),
             "% of respondents in each row; disagreement to the left, agreement to the right, each side's total at its end."]
    if any(r["count"] is None for r in records):
        lines.append(withheld_note()[:-1] + "; the row's other segments close up towards the middle.")
    lines += list(notes)
    return _finish(chart, title or question.wording, lines, source_line(meta, total_base), layout)


def group_comparison_bars(
    table: pd.DataFrame,
    question: Question,
    meta: WaveMeta,
    *,
    group_title: str,
    title: str | None = None,
    order: Sequence[str] | None = None,
    notes: Sequence[str] = (),
    layout: Layout = WIDE,
) -> alt.TopLevelMixin:
    """Bars per option for each group (e.g. pharma vs other sectors), one under the other, with intervals.

    `table` is a published breakdown (`Chapter.sector_breakdown`): a withheld cell carries no
    bar and no number, only the mark. Shares of mentions have no intervals. Rows follow `order`
    (the whole sample's bar order), and within an option the groups follow the table.
    """
    percent_of = table.attrs.get("percent_of", RESPONDENTS)
    intervals = percent_of != MENTIONS
    group_codes = list(dict.fromkeys(table["group_code"]))
    bases = {g: int(table.loc[table["group_code"] == g, "base"].max()) for g in group_codes}
    group_names = {
        g: f"{table.loc[table['group_code'] == g, 'group_label'].iloc[0]} (n = {bases[g]})" for g in group_codes
    }
    option_codes = list(order) if order else list(dict.fromkeys(table["code"]))
    classes = marks.has_classes(table)
    by_cell = {(row.code, row.group_code): row for row in table.itertuples(index=False)}
    records = []
    for code in option_codes:
        for i, group_code in enumerate(group_codes):
            row = by_cell.get((code, group_code))
            if row is None:
                continue
            records.append({"code": row.code, "label": row.label, "group": group_names[row.group_code],
                            "group_code": group_code, "first": i == 0, **_cell_fields(row, intervals=intervals)})
    key = shown_classes(table.itertuples(index=False))
    height = _rows_layout(records, option_codes, len(group_codes), PAIR_BAR, layout, key_height(key, layout))
    domain = [group_names[g] for g in group_codes]
    colour = alt.Color("group:N", title=group_title, sort=domain,
                       scale=alt.Scale(domain=domain, range=[SECTOR_COLOURS.get(g, ANSWER) for g in group_codes]),
                       legend=alt.Legend(symbolStrokeColor=OUTLINE, symbolStrokeWidth=0.8))
    base = alt.Chart(alt.Data(values=records))
    x = alt.X("share:Q", title=None, scale=_x_scale(records, headroom=0.14 if layout is NARROW else 0.1),
              axis=alt.Axis(format="%", tickCount=4))
    tooltip = _tooltip(percent_of=percent_of, with_interval=intervals, classes=classes,
                       first=[alt.Tooltip("group:N", title=group_title)])
    layers = [_labels(base, height), _bars(base, x, height, colour, tooltip, classes, outline=True)]
    layers += _class_key(key, height, layout)
    if interval_notes(records):
        layers.append(_whiskers(base, height))
    layers += _values(base, height, classes)
    chart = alt.layer(*layers).properties(width=layout.width, height=height)
    total = sum(bases.values())
    lines = [
        question_note(question.wording_in(meta.wave)),
        f"Base: respondents answering in each group (n = {total}; " + ", ".join(group_names.values()) + ").",
        percent_of_note(percent_of, question.is_multi),
    ]
    lines += interval_notes(records) + _notes_of(records) + list(notes)
    return _finish(chart, title or question.wording, lines, source_line(meta, total), layout)


def spectrum_diagram(ends: Sequence[dict], *, title: str, source: str, layout: Layout = WIDE) -> alt.TopLevelMixin:
    """The article's spectrum of KAM management: two labelled ends and each end's risks.

    A diagram of the article's argument, not of survey data: `ends` are dicts with
    `label`, `position` (0 or 1), `rewarded_on` and `risk` text taken from the article.
    Its colours code nothing (no colour of the book's charts is used).
    """
    half = layout.chars(layout.text_size, layout.width / 2 - 8)
    records = [
        {**end, **{key: wrap_block(str(end[key]), half) for key in ("label", "rewarded_on", "risk") if key in end}}
        for end in ends
    ]
    def lines(text: str) -> int:
        return str(text).count("\n") + 1

    label_lines = max(lines(r["label"]) for r in records)
    rewarded_lines = max(lines(r.get("rewarded_on", "")) for r in records)
    risk_lines = max(lines(r.get("risk", "")) for r in records)
    y_label = 58
    y_rewarded = y_label + label_lines * 18 + 8
    y_risk = y_rewarded + rewarded_lines * LINE + 10
    height = y_risk + risk_lines * LINE + 4
    x_scale = alt.Scale(domain=[0, 1], nice=False)
    axis = alt.Chart(alt.Data(values=[{"x": 0.02, "x2": 0.98}])).mark_rule(strokeWidth=3, color=MUTED_COLOUR).encode(
        x=alt.X("x:Q", axis=None, scale=x_scale), x2="x2:Q", y=alt.value(40)
    )
    middle = alt.Chart(alt.Data(values=[{"x": 0.5}])).mark_point(
        shape="triangle-down", size=160, filled=True, color=TEXT_COLOUR
    ).encode(x=alt.X("x:Q", scale=x_scale), y=alt.value(28))
    middle_text = alt.Chart(alt.Data(values=[{"x": 0.5, "text": "balance"}])).mark_text(
        color=TEXT_COLOUR, dy=-4
    ).encode(x=alt.X("x:Q", scale=x_scale), y=alt.value(12), text="text:N")
    dots = alt.Chart(alt.Data(values=[{"x": 0.02 + 0.96 * r["position"]} for r in records])).mark_circle(
        size=220, opacity=1, color=MUTED_COLOUR).encode(x=alt.X("x:Q", scale=x_scale), y=alt.value(40))

    def text_layer(field: str, y: int, **kwargs) -> list[alt.Chart]:
        return [
            alt.Chart(alt.Data(values=[{"x": float(end["position"]), "text": end.get(field, "")}])).mark_text(
                lineBreak="\n", baseline="top", align="left" if end["position"] < 0.5 else "right", **kwargs
            ).encode(x=alt.X("x:Q", scale=x_scale), y=alt.value(y), text="text:N")
            for end in records
        ]

    chart = alt.layer(
        axis, middle, middle_text, dots,
        *text_layer("label", y_label, fontSize=layout.text_size + 2, fontWeight="bold", lineHeight=18),
        *text_layer("rewarded_on", y_rewarded, lineHeight=LINE),
        *text_layer("risk", y_risk, color=MUTED_COLOUR, lineHeight=LINE),
    ).properties(width=layout.width, height=height)
    notes = ["A diagram of the article's argument, not a chart of survey data: where both ends say they want to "
             "move is a balance."]
    return _finish(chart, title, notes, source, layout)


def notice(title: str, message: str, source: str, *, question: str | None = None, layout: Layout = WIDE) -> alt.TopLevelMixin:
    """A figure with no data in this wave (question not asked, nobody to count): the reason in place of bars.

    Keeps the figure's number, title and anchor in every edition, so that links and
    cross-references hold, while saying plainly why there is nothing to draw.
    """
    text = wrap(message, layout.chars(layout.text_size + 2))
    chart = (
        alt.Chart(alt.Data(values=[{"message": "\n".join(text)}]))
        .mark_text(align="left", baseline="top", fontSize=layout.text_size + 2, color=MUTED_COLOUR, x=0, y=8,
                   lineBreak="\n", lineHeight=18)
        .encode(text="message:N")
        .properties(width=layout.width, height=16 + 18 * len(text))
    )
    return _finish(chart, title, [question_note(question)] if question else [], source, layout)
