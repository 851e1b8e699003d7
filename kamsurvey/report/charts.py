"""Chart specifications: one function per kind of question, each returning an Altair chart.

A chart is a function of an aggregate table (never respondent rows), the question
from the codebook and the wave's metadata, so it can be tested by inspecting its
spec, and it looks the same for every question of its kind. Every chart carries
the question's wording as its title, the base and what the percentage is of as
its subtitle, and the source line (which says when the data is reconstructed).
"""

from __future__ import annotations

import math
import re
import textwrap
from typing import Sequence

import altair as alt
import pandas as pd

from kamsurvey.data.codebook import Question
from kamsurvey.report.phrasing import percent
from kamsurvey.analysis.policy import MIN_BASE, MIN_CELL, SUPPRESSED_MARK, is_low_base
from kamsurvey.analysis.stats import CONFIDENCE
from kamsurvey.analysis.tabulate import MENTIONS, RESPONDENTS
from kamsurvey.data.wavemeta import WaveMeta

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
TEXT_COLOUR = "#1a1a1a"
MUTED_COLOUR = "#4d4d4d"
WIDTH = 560
# the confidence level of every interval drawn, as the prose says it ('95%')
LEVEL = percent(CONFIDENCE)
BAR_STEP = 26
TITLE_WRAP = 62
LABEL_LIMIT = 300

# Okabe & Ito (2008) colour-blind-safe palette.
BLUE, ORANGE, SKY, GREEN, VERMILLION, PURPLE, GREY = (
    "#0072B2", "#E69F00", "#56B4E9", "#009E73", "#D55E00", "#CC79A7", "#8C8C8C",
)
GROUP_COLOURS = {
    "financial": VERMILLION,
    "within_control": BLUE,
    "quantitative": VERMILLION,
    "qualitative": BLUE,
    "bonus_20_plus": VERMILLION,
    "other": GREY,
    "": BLUE,
}
# Both at least 3:1 against white (WCAG 1.4.11): Okabe–Ito orange is only 2.25:1.
SECTOR_COLOURS = {"pharma": BLUE, "other": VERMILLION}
# Purple–orange diverging scale, ordered strongly disagree → strongly agree.
LIKERT_COLOURS = ["#B35806", "#F1A340", "#C8C8C8", "#998EC3", "#542788"]
# Segment labels: white on the two dark ends (contrast 4.9 and 10.4), dark text on the light middle
# three (8.3, 10.4, 5.8); none in a segment under 10%, too narrow for its label.
LIKERT_WHITE_TEXT = [0, 4]
LIKERT_LABEL_MIN = 0.10
SPECTRUM_WRAP = 34  # characters: each end's text has half the diagram's width

THEME = {
    "font": FONT,
    "background": "white",
    "view": {"stroke": None},
    "title": {"font": FONT, "fontSize": 15, "color": TEXT_COLOUR, "anchor": "start", "subtitleFontSize": 12,
              "subtitleColor": MUTED_COLOUR, "subtitlePadding": 6, "offset": 12},
    "axis": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 12, "titleFontSize": 12,
             "labelColor": TEXT_COLOUR, "titleColor": TEXT_COLOUR, "grid": False, "domainColor": "#888", "tickColor": "#888"},
    "axisY": {"labelLimit": LABEL_LIMIT},
    "legend": {"labelFont": FONT, "titleFont": FONT, "labelFontSize": 12, "titleFontSize": 12, "orient": "bottom",
               "direction": "horizontal", "labelColor": TEXT_COLOUR, "titleColor": TEXT_COLOUR, "labelLimit": 420},
    "text": {"font": FONT, "fontSize": 12, "color": TEXT_COLOUR},
}


# A base split across lines reads badly ("(n" / "= 82)"): "n = 82" is wrapped as one word.
_KEEP_TOGETHER = re.compile(r"\bn = (?=\d)")
_GLUE = "\x00"


def wrap(text: str, width: int = TITLE_WRAP) -> list[str]:
    text = _KEEP_TOGETHER.sub(f"n{_GLUE}={_GLUE}", " ".join(text.split()))
    return [line.replace(_GLUE, " ") for line in textwrap.wrap(text, width=width)] or [""]


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


def _finish(chart: alt.TopLevelMixin, title: Sequence[str], subtitle: Sequence[str], source: str) -> alt.TopLevelMixin:
    """Title and subtitle on top, the source line underneath, and the shared theme."""
    framed = alt.vconcat(chart, spacing=4).properties(
        title=alt.TitleParams(text=list(title), subtitle=list(subtitle)),
    )
    source_line = alt.TitleParams(
        text=wrap(source, 95), orient="bottom", anchor="start", fontSize=10, fontWeight="normal", color=MUTED_COLOUR,
        offset=14,
    )
    return alt.vconcat(framed, spacing=0).properties(title=source_line).configure(**THEME)


def _tooltip(*, with_interval: bool = True, percent_of: str = RESPONDENTS) -> list[alt.Tooltip]:
    """Option, count, percentage, base and interval: what a reader hovering a bar sees.

    Count and percentage are text fields of the data (`count_text`, `share_label`): rounded by
    `phrasing.percent`, as everywhere else, not by Vega's number format; a withheld cell reads
    `SUPPRESSED_MARK`. For a share of mentions the base is the number of mentions and there is
    no interval.
    """
    mentions = percent_of == MENTIONS
    tips = [
        alt.Tooltip("label:N", title="Option"),
        alt.Tooltip("count_text:N", title="Count"),
        alt.Tooltip("share_label:N", title="Share of mentions" if mentions else "Percentage"),
        alt.Tooltip("base:Q", title="Mentions (all options)" if mentions else "Base (n)", format=","),
    ]
    if with_interval and not mentions:
        tips.append(alt.Tooltip("interval:N", title=f"{LEVEL} interval"))
    return tips


def _interval_text(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return "n/a"
    return f"{percent(low)}–{percent(high)}"


def _is_withheld(row) -> bool:
    return bool(getattr(row, "suppressed", False)) or pd.isna(row.count)


def _cell_fields(row, *, intervals: bool) -> dict:
    """A cell's numbers as a chart carries them: nothing at all for a withheld cell (no count, share or interval).

    Shares of mentions (`intervals=False`) carry no interval fields.
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
    if intervals:
        fields.update(
            ci_low=None if share is None else round(float(row.ci_low), 6),
            ci_high=None if share is None else round(float(row.ci_high), 6),
            interval=SUPPRESSED_MARK if withheld else _interval_text(row.ci_low, row.ci_high),
        )
    fields["text_x"] = 0 if share is None else (fields["ci_high"] if intervals else share)
    return fields


def withheld_note(*, listed_after: bool = False) -> str:
    """What the mark stands for, under every chart that shows it (and, for sorted bars, where withheld ones go)."""
    note = f"{SUPPRESSED_MARK} = withheld: fewer than {MIN_CELL} respondents, or a figure that would reveal one"
    return note + ("; withheld options are listed after the others." if listed_after else ".")


def _bar_records(table: pd.DataFrame, order: Sequence[str]) -> list[dict]:
    intervals = table.attrs.get("percent_of", RESPONDENTS) != MENTIONS
    records = []
    for row in table.set_index("code").loc[list(order)].reset_index().itertuples(index=False):
        records.append({"code": row.code, "label": row.label, "group": row.group or "",
                        **_cell_fields(row, intervals=intervals)})
    return records


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


def option_bars(
    table: pd.DataFrame,
    question: Question,
    meta: WaveMeta,
    *,
    sort: bool = True,
    groups: dict[str, str] | None = None,
) -> alt.TopLevelMixin:
    """Horizontal bars, one per option, with intervals (`LEVEL`): serves single and multi questions.

    `table` is a view of a published table (`Chapter.table`); its `percent_of` attribute decides
    the subtitle. Intervals are drawn for shares of respondents only: mentions by one respondent
    are not independent, so a binomial interval for a share of mentions would be too narrow, and
    none is drawn, shown or carried in the chart's data. A withheld option has no bar, only the mark.
    """
    percent_of = table.attrs.get("percent_of", RESPONDENTS)
    order = bar_order(table, sort=sort)
    records = _bar_records(table, order)
    labels = [r["label"] for r in records]
    show_interval = percent_of == RESPONDENTS
    tops = [r["ci_high"] if show_interval else r["share"] for r in records]
    upper = max([t for t in tops if t is not None] + [0.05])
    x_max = min(1.0, math.ceil((upper + 0.08) * 10) / 10)
    base = alt.Chart(alt.Data(values=records)).encode(
        y=alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
    )
    x = alt.X("share:Q", title=None, scale=alt.Scale(domain=[0, x_max]), axis=alt.Axis(format="%", tickCount=5))
    if groups:
        used = [g for g in groups if any(r["group"] == g for r in records)]
        colour = alt.Color(
            "group:N",
            title=None,
            scale=alt.Scale(domain=used, range=[GROUP_COLOURS.get(g, GREY) for g in used]),
            legend=alt.Legend(labelExpr=_label_expr({g: groups[g] for g in used})),
        )
    else:
        colour = alt.value(BLUE)
    bars = base.mark_bar(height={"band": 0.72}).encode(x=x, color=colour, tooltip=_tooltip(with_interval=show_interval, percent_of=percent_of))
    layers = [bars]
    if show_interval:
        layers.append(
            base.mark_rule(color=TEXT_COLOUR, strokeWidth=1.2).encode(
                x="ci_low:Q", x2="ci_high:Q", tooltip=_tooltip(with_interval=True)
            )
        )
    layers.append(
        base.mark_text(align="left", dx=4, color=TEXT_COLOUR).encode(x=alt.X("text_x:Q"), text="share_text:N")
    )
    chart = alt.layer(*layers).properties(width=WIDTH - LABEL_LIMIT // 2, height=alt.Step(BAR_STEP))
    base_n = int(table.attrs.get("respondents", records[0]["base"] if records else 0))
    subtitle = [base_note(base_n), percent_of_note(percent_of, question.is_multi)]
    if percent_of == MENTIONS:
        total = records[0]["base"] if records else 0
        subtitle[0] = base_note(base_n)[:-1] + f"; {total:,} mentions."
    if show_interval:
        subtitle.append(f"Lines show {LEVEL} confidence intervals (Wilson).")
    if any(r["count"] is None for r in records):
        subtitle.append(withheld_note(listed_after=sort))
    return _finish(chart, wrap(question.wording), subtitle, meta.source_line(base_n))


def _label_expr(labels: dict[str, str]) -> str:
    """Vega expression mapping codes to labels in a legend (data keeps codes, readers see labels)."""
    cases = " : ".join(f"datum.label === {code!r} ? {label!r}" for code, label in labels.items())
    return f"{cases} : datum.label" if cases else "datum.label"


def likert_bars(
    tables: Sequence[tuple[str, pd.DataFrame]],
    question: Question,
    meta: WaveMeta,
    *,
    note: str | None = None,
) -> alt.TopLevelMixin:
    """Diverging stacked bars for a five-point agreement scale, one row per group (e.g. all, by sector).

    Disagreement extends left of zero and agreement right; the neutral middle is split across
    zero so that the bars stay centred on the scale's midpoint. Every position comes from
    visible cells only: a withheld cell has no segment, the cells beyond it move in towards the
    middle (a row with a withheld neutral starts both sides at zero), and the row ends with the
    mark. `note` is a line for the subtitle (why there are no rows by sector, say).
    """
    scale_codes = [o.code for o in sorted(question.options, key=lambda o: o.score or 0)]
    scale_labels = [question.label(code) for code in scale_codes]
    side = {o.code: o.group for o in question.options}
    records, marks, row_labels = [], [], []
    for row_label, table in tables:
        base_n = int(table.attrs.get("respondents", 0))
        label = f"{row_label} (n = {base_n})"
        row_labels.append(label)
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
        for code in scale_codes:
            cell = cells[code]
            fields = _cell_fields(cell, intervals=True)
            start, end = position.get(code, (None, None)) if code not in withheld else (None, None)
            records.append({
                "row": label, "code": code, "label": question.label(code), **fields,
                "start": None if start is None else round(start, 6), "end": None if end is None else round(end, 6),
                "share_text": fields["share_text"] if code not in withheld and shares[code] >= LIKERT_LABEL_MIN else "",
                "order": scale_codes.index(code),
            })
        if withheld:
            marks.append({"row": label, "x": round(outward["agree"], 6), "text": SUPPRESSED_MARK})
    base = alt.Chart(alt.Data(values=records))
    bars = base.mark_bar(height={"band": 0.7}).encode(
        y=alt.Y("row:N", sort=row_labels, title=None),
        x=alt.X("start:Q", title=None, scale=alt.Scale(domain=[-1, 1]),
                axis=alt.Axis(format="%", values=[-1, -0.5, 0, 0.5, 1], labelExpr="format(abs(datum.value), '.0%')")),
        x2="end:Q",
        color=alt.Color("label:N", title=None, sort=scale_labels,
                        scale=alt.Scale(domain=scale_labels, range=LIKERT_COLOURS),
                        legend=alt.Legend(columns=3, symbolType="square")),
        order=alt.Order("order:Q"),
        tooltip=_tooltip(),
    )
    text = base.mark_text(color="white", fontWeight="bold", fontSize=11).transform_calculate(
        middle="(datum.start + datum.end) / 2"
    ).encode(y=alt.Y("row:N", sort=row_labels), x="middle:Q", text="share_text:N",
             color=alt.condition(f"indexof({LIKERT_WHITE_TEXT}, datum.order) >= 0", alt.value("white"),
                                 alt.value(TEXT_COLOUR)))
    zero = alt.Chart(alt.Data(values=[{"x": 0}])).mark_rule(color=TEXT_COLOUR).encode(x="x:Q")
    layers = [bars, text, zero]
    if marks:
        layers.append(alt.Chart(alt.Data(values=marks)).mark_text(align="left", dx=4, color=TEXT_COLOUR).encode(
            y=alt.Y("row:N", sort=row_labels), x="x:Q", text="text:N"))
    chart = alt.layer(*layers).properties(width=WIDTH - 120, height=alt.Step(34))
    total_base = int(tables[0][1].attrs.get("respondents", 0)) if tables else 0
    subtitle = [base_note(total_base), "% of respondents in each row; disagreement to the left, agreement to the right."]
    if marks:
        subtitle.append(withheld_note()[:-1] + "; the row's other segments close up towards the middle.")
    if note:
        subtitle.append(note)
    return _finish(chart, wrap(question.wording), subtitle, meta.source_line(total_base))


def group_comparison_bars(
    table: pd.DataFrame,
    question: Question,
    meta: WaveMeta,
    *,
    group_title: str,
    order: Sequence[str] | None = None,
) -> alt.TopLevelMixin:
    """Side-by-side bars per option for each group (e.g. pharma vs other sectors), with intervals.

    `table` is a published breakdown (`Chapter.sector_breakdown`): a withheld cell carries no
    bar and no number, only the mark. Shares of mentions have no intervals.
    """
    percent_of = table.attrs.get("percent_of", RESPONDENTS)
    intervals = percent_of != MENTIONS
    group_codes = list(dict.fromkeys(table["group_code"]))
    bases = {g: int(table.loc[table["group_code"] == g, "base"].max()) for g in group_codes}
    group_names = {
        g: f"{table.loc[table['group_code'] == g, 'group_label'].iloc[0]} (n = {bases[g]})" for g in group_codes
    }
    option_codes = list(order) if order else list(dict.fromkeys(table["code"]))
    labels = [question.label(code) for code in option_codes]
    records = []
    for row in table.itertuples(index=False):
        if row.code not in option_codes:
            continue
        records.append({"code": row.code, "label": row.label, "group": group_names[row.group_code],
                        **_cell_fields(row, intervals=intervals)})
    domain = [group_names[g] for g in group_codes]
    colour = alt.Color("group:N", title=group_title, sort=domain,
                       scale=alt.Scale(domain=domain, range=[SECTOR_COLOURS.get(g, GREY) for g in group_codes]))
    upper = max([r["text_x"] for r in records] + [0.05])
    x_max = min(1.0, math.ceil((upper + 0.1) * 10) / 10)
    base = alt.Chart(alt.Data(values=records)).encode(
        y=alt.Y("label:N", sort=labels, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        yOffset=alt.YOffset("group:N", sort=domain),
    )
    bars = base.mark_bar(height={"band": 0.85}).encode(
        x=alt.X("share:Q", title=None, scale=alt.Scale(domain=[0, x_max]), axis=alt.Axis(format="%", tickCount=5)),
        color=colour,
        tooltip=[alt.Tooltip("group:N", title=group_title)] + _tooltip(percent_of=percent_of),
    )
    layers = [bars]
    if intervals:
        layers.append(base.mark_rule(color=TEXT_COLOUR).encode(x="ci_low:Q", x2="ci_high:Q"))
    layers.append(base.mark_text(align="left", dx=4, fontSize=11).encode(x="text_x:Q", text="share_text:N"))
    chart = alt.layer(*layers).properties(width=WIDTH - LABEL_LIMIT // 2, height=alt.Step(BAR_STEP * 0.6))
    total = sum(bases.values())
    subtitle = [
        f"Base: respondents answering in each group (n = {total}; " + ", ".join(group_names.values()) + ").",
        percent_of_note(percent_of, question.is_multi) + (f" Lines show {LEVEL} intervals (Wilson)." if intervals else ""),
    ]
    if any(r["count"] is None for r in records):
        subtitle.append(withheld_note())
    return _finish(chart, wrap(question.wording), subtitle, meta.source_line(total))


def spectrum_diagram(ends: Sequence[dict], *, title: str, source: str) -> alt.TopLevelMixin:
    """The article's spectrum of KAM management: two labelled ends and each end's risks.

    A diagram of the article's argument, not of survey data: `ends` are dicts with
    `label`, `position` (0 or 1), `rewarded_on` and `risk` text taken from the article.
    """
    records = [
        {**end, **{key: wrap_block(str(end[key]), SPECTRUM_WRAP) for key in ("rewarded_on", "risk") if key in end}}
        for end in ends
    ]
    axis = alt.Chart(alt.Data(values=[{"x": 0, "x2": 1}])).mark_rule(strokeWidth=3, color=MUTED_COLOUR).encode(
        x=alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-0.08, 1.08])), x2="x2:Q", y=alt.value(40)
    )
    middle = alt.Chart(alt.Data(values=[{"x": 0.5, "text": "balance"}])).mark_point(
        shape="triangle-down", size=160, filled=True, color=GREEN
    ).encode(x="x:Q", y=alt.value(28))
    middle_text = alt.Chart(alt.Data(values=[{"x": 0.5, "text": "Where both ends say they want to move: a balance"}])).mark_text(
        fontSize=12, color=TEXT_COLOUR, dy=-4
    ).encode(x="x:Q", y=alt.value(12), text="text:N")
    dots = alt.Chart(alt.Data(values=records)).mark_circle(size=260, opacity=1).encode(
        x="position:Q", y=alt.value(40),
        color=alt.Color("label:N", legend=None, scale=alt.Scale(range=[VERMILLION, BLUE])),
    )
    def text_layer(field: str, y: int, **kwargs) -> list[alt.Chart]:
        return [
            alt.Chart(alt.Data(values=[end])).mark_text(
                lineBreak="\n", baseline="top", align="left" if end["position"] < 0.5 else "right", **kwargs
            ).encode(x="position:Q", y=alt.value(y), text=f"{field}:N")
            for end in records
        ]

    chart = alt.layer(
        axis, middle, middle_text, dots,
        *text_layer("label", 58, fontSize=14, fontWeight="bold"),
        *text_layer("rewarded_on", 82, fontSize=12),
        *text_layer("risk", 138, fontSize=12, color=MUTED_COLOUR),
    ).properties(width=WIDTH, height=200)
    subtitle = ["A diagram of the article's argument, not a chart of survey data."]
    return _finish(chart, wrap(title), subtitle, source)


def notice(title: str, message: str, source: str) -> alt.TopLevelMixin:
    """A figure with no data in this wave (question not asked, nobody to count): the reason in place of bars.

    Keeps the figure's number, title and anchor in every edition, so that links and
    cross-references hold, while saying plainly why there is nothing to draw.
    """
    chart = (
        alt.Chart(alt.Data(values=[{"message": message}]))
        .mark_text(align="left", baseline="middle", fontSize=14, color=MUTED_COLOUR, x=0, y=24)
        .encode(text="message:N")
        .properties(width=WIDTH - LABEL_LIMIT // 2, height=48)
    )
    return _finish(chart, wrap(title), [], source)
