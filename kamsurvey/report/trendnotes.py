"""A change between two waves, in words: why a question is not compared, and the change note beside a figure.

`kamsurvey.analysis.trend` decides what can be compared and computes every change; this
module only words it: `reason` and `change_summary` as plain text, the notes for the page as
MyST admonitions, into which every label, wording and wave id goes through `literal.myst`.
"""

from __future__ import annotations

import math

import pandas as pd

from kamsurvey.analysis.stats import ALPHA, CONFIDENCE
from kamsurvey.analysis.trend import Comparability
from kamsurvey.data.codebook import Question
from kamsurvey.report import phrasing
from kamsurvey.report.literal import myst


def _labels(question: Question, codes) -> str:
    return phrasing.list_words([f"‘{question.label(code)}’" for code in codes])


def reason(question: Question, verdict: Comparability) -> str:
    """Why `question` cannot be compared between the two waves, for readers ('' when it can)."""
    if verdict.comparable:
        return ""
    wave, previous_wave = verdict.wave, verdict.previous_wave
    if verdict.not_asked_in == wave:
        return f"The question was not asked in the {wave} survey."
    if verdict.not_asked_in == previous_wave:
        return (f"The question was not asked in the {previous_wave} survey, so there is no earlier figure to "
                "compare with.")
    reasons = []
    if verdict.wording:
        old_words, new_words = verdict.wording
        reasons.append(f"The question's wording changed: the {previous_wave} survey asked ‘{old_words}’, the "
                       f"{wave} survey ‘{new_words}’.")
    if verdict.added or verdict.dropped:
        changes = []
        if verdict.added:
            changes.append(f"{_labels(question, verdict.added)} {'was' if len(verdict.added) == 1 else 'were'} "
                           f"added in {wave}")
        if verdict.dropped:
            changes.append(f"{_labels(question, verdict.dropped)} {'was' if len(verdict.dropped) == 1 else 'were'} "
                           "no longer offered")
        reasons.append(f"The answers offered changed: {phrasing.list_words(changes)}.")
    elif verdict.reordered:
        reasons.append("The answers were offered in a different order.")
    if not reasons:  # the type is the only other part of the fingerprint
        reasons.append("What was asked changed between the surveys.")
    reasons.append("Answers to a question asked differently are not comparable, so the shares are not set side "
                   "by side.")
    return " ".join(reasons)


def _share_cell(count: int, base: int) -> str:
    return phrasing.share_with_count(count, base) if base else "no respondents"


def _signed_points(difference: float) -> str:
    if pd.isna(difference):
        return phrasing.MISSING
    return f"{phrasing.whole_percent(difference):+d}"


def change_summary(table: pd.DataFrame) -> str:
    """'2 of 9 shares changed by more than chance would explain' (the note's title)."""
    moved = int(table["more_than_noise"].sum())
    total = int(table["p_fisher"].notna().sum())
    if total == 0:
        return "no respondents to compare"
    if moved == 0:
        return "no share changed by more than chance would explain"
    return f"{phrasing.number_words(moved)} of {phrasing.number_words(total)} shares changed by more than chance would explain"


def change_markdown(question: Question, table: pd.DataFrame) -> str:
    """The change since the previous wave as a MyST admonition (collapsed, its verdict in the title)."""
    wave, previous_wave = myst(table.attrs["wave"]), myst(table.attrs["previous_wave"])
    title = f"Change since the {previous_wave} survey: {change_summary(table)}"
    lines = [f":::{{admonition}} {title}", ":class: note dropdown", ""]
    moved = table[table["more_than_noise"]]
    if len(moved):
        items = [f"{myst(row.label)}, {phrasing.percent(row.previous_share)} in {previous_wave} and "
                 f"{phrasing.percent(row.share)} in {wave} ({phrasing.points(row.difference, signed=True)})"
                 for row in moved.itertuples()]
        lines += ["More than noise: " + "; ".join(items) + ".", ""]
    lines += [
        f"| Answer | {previous_wave} | {wave} | Change (points) | {phrasing.percent(CONFIDENCE)} interval | More than noise? |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        interval = (f"{_signed_points(row.ci_low)} to {_signed_points(row.ci_high)}"
                    if not math.isnan(row.ci_low) else phrasing.MISSING)
        verdict = "yes" if row.more_than_noise else ("no" if not math.isnan(row.p_holm) else phrasing.MISSING)
        lines.append("| " + " | ".join((
            myst(row.label), _share_cell(row.previous_count, row.previous_base),
            _share_cell(row.count, row.base), _signed_points(row.difference), interval, verdict)) + " |")
    per = "of respondents choosing each answer" + (" (several answers allowed)" if question.is_multi else "")
    lines += [
        "",
        f"Shares {per}, with the difference {wave} minus {previous_wave} in percentage points and its "
        f"{phrasing.percent(CONFIDENCE)} Newcombe interval. *More than noise* is Fisher's exact test at the "
        f"{phrasing.percent(ALPHA)} level, adjusted (Holm) for testing every row of the question at once; the "
        "interval is for each row alone.",
        ":::",
    ]
    return "\n".join(lines)


def not_compared_markdown(question: Question, comparability_: Comparability) -> str:
    return "\n".join([
        f":::{{admonition}} Not compared with the {myst(comparability_.previous_wave)} survey",
        ":class: note",
        "",
        myst(reason(question, comparability_)),
        ":::",
    ])
