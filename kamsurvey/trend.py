"""Change between two waves: which questions can be compared, and how much each share moved.

A question is trended only when both waves asked the same thing: the same wording
(the codebook keeps each wave's wording in `wording_by_wave`), the same type and the
same list of options (an option added later carries `since`). `Question.fingerprint`
is that identity; `comparability` says in words why two waves differ when they do.

For a comparable question every option's share of respondents (and, for options the
analysis groups, the share choosing any option of the group) is set side by side:
both shares with their counts, the difference with a 95% Newcombe interval, and
whether the change is more than noise. That verdict is Fisher's exact test, adjusted
with Holm's method for testing every row of the question at once: among a dozen
options one would otherwise pass by chance now and then. The interval is for each row
on its own, so a row whose interval only just excludes zero may still be judged
within chance. Shares of mentions are not trended: mentions by one respondent are not
independent, so no binomial interval or test applies to them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
from statsmodels.stats.multitest import multipletests

from . import phrasing, tabulate
from .codebook import Codebook, Question
from .stats import ALPHA, CONFIDENCE, Proportion, compare_proportions

CHANGE_COLUMNS = [
    "code", "label", "kind", "previous_count", "previous_base", "previous_share", "count", "base", "share",
    "difference", "ci_low", "ci_high", "p_fisher", "p_holm", "more_than_noise",
]


@dataclass(frozen=True)
class Comparability:
    """Can `question` be trended between two waves? If not, `reason` says why, for readers."""

    question: str
    wave: str
    previous_wave: str
    comparable: bool
    reason: str = ""


def _labels(question: Question, codes: list[str]) -> str:
    return phrasing.list_words([f"‘{question.label(code)}’" for code in codes])


def comparability(question: Question, wave: str, previous_wave: str, *,
                  frame: pd.DataFrame | None = None, previous_frame: pd.DataFrame | None = None) -> Comparability:
    """Whether the two waves asked the same question (and, given the frames, both asked it at all)."""
    wave, previous_wave = str(wave), str(previous_wave)

    def no(reason: str) -> Comparability:
        return Comparability(question.id, wave, previous_wave, False, reason)

    if frame is not None and not tabulate.is_present(frame, question):
        return no(f"The question was not asked in the {wave} survey.")
    if previous_frame is not None and not tabulate.is_present(previous_frame, question):
        return no(f"The question was not asked in the {previous_wave} survey, so there is no earlier figure to "
                  "compare with.")
    if question.fingerprint(wave) == question.fingerprint(previous_wave):
        return Comparability(question.id, wave, previous_wave, True)
    reasons = []
    old_words, new_words = question.wording_in(previous_wave), question.wording_in(wave)
    if " ".join(old_words.split()) != " ".join(new_words.split()):
        reasons.append(f"The question's wording changed: the {previous_wave} survey asked ‘{old_words}’, the "
                       f"{wave} survey ‘{new_words}’.")
    old_codes, new_codes = question.codes(previous_wave), question.codes(wave)
    added = [c for c in new_codes if c not in old_codes]
    dropped = [c for c in old_codes if c not in new_codes]
    if added or dropped:
        changes = []
        if added:
            changes.append(f"{_labels(question, added)} {'was' if len(added) == 1 else 'were'} added in {wave}")
        if dropped:
            changes.append(f"{_labels(question, dropped)} {'was' if len(dropped) == 1 else 'were'} no longer offered")
        reasons.append(f"The answers offered changed: {phrasing.list_words(changes)}.")
    elif old_codes != new_codes:
        reasons.append("The answers were offered in a different order.")
    if not reasons:  # the type is the only other part of the fingerprint
        reasons.append("What was asked changed between the surveys.")
    reasons.append("Answers to a question asked differently are not comparable, so the shares are not set side "
                   "by side.")
    return no(" ".join(reasons))


def comparable_questions(codebook: Codebook, wave: str, previous_wave: str, frame: pd.DataFrame,
                         previous_frame: pd.DataFrame) -> dict[str, Comparability]:
    return {q.id: comparability(q, wave, previous_wave, frame=frame, previous_frame=previous_frame) for q in codebook}


def _rows(question: Question, codebook: Codebook, wave: str) -> list[tuple[str, str, str, list[str]]]:
    """(code, label, kind, codes) for each option, then each group of two or more options."""
    rows = [(code, question.label(code), "option", [code]) for code in question.codes(wave)]
    groups = dict.fromkeys(o.group for o in question.options if o.group and o.offered_in(wave))
    for group in groups:
        codes = [c for c in question.codes_in_group(group) if c in question.codes(wave)]
        if len(codes) >= 2:
            rows.append((f"group:{group}", f"{codebook.group_label(group)} (any)", "group", codes))
    return rows


def option_changes(question: Question, codebook: Codebook, frame: pd.DataFrame, previous_frame: pd.DataFrame, *,
                   wave: str, previous_wave: str) -> pd.DataFrame:
    """One row per option (then per group): both shares of respondents, the difference, its interval, the verdict."""
    records = []
    for code, label, kind, codes in _rows(question, codebook, str(wave)):
        current = tabulate.share_of_respondents(frame, question, codes)
        previous = tabulate.share_of_respondents(previous_frame, question, codes)
        comparison = compare_proportions(current, previous, boschloo=False)
        records.append({
            "code": code, "label": label, "kind": kind,
            "previous_count": previous.count, "previous_base": previous.base, "previous_share": previous.share,
            "count": current.count, "base": current.base, "share": current.share,
            "difference": comparison.difference, "ci_low": comparison.interval[0], "ci_high": comparison.interval[1],
            "p_fisher": comparison.p_fisher,
        })
    table = pd.DataFrame(records, columns=CHANGE_COLUMNS[:-2])
    tested = table["p_fisher"].notna()
    table["p_holm"] = math.nan
    if tested.any():
        table.loc[tested, "p_holm"] = multipletests(table.loc[tested, "p_fisher"], alpha=ALPHA, method="holm")[1]
    table["more_than_noise"] = table["p_holm"].lt(ALPHA)
    table.attrs.update(question=question.id, wave=str(wave), previous_wave=str(previous_wave))
    return table


def _share_cell(count: int, base: int) -> str:
    return phrasing.share_with_count(count, base) if base else "no respondents"


def _signed_points(difference: float) -> str:
    if pd.isna(difference):
        return phrasing.MISSING
    return f"{phrasing.whole_percent(difference):+d}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


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
    wave, previous_wave = table.attrs["wave"], table.attrs["previous_wave"]
    title = f"Change since the {previous_wave} survey: {change_summary(table)}"
    lines = [f":::{{admonition}} {title}", ":class: note dropdown", ""]
    moved = table[table["more_than_noise"]]
    if len(moved):
        items = [f"{row.label}, {phrasing.percent(row.previous_share)} in {previous_wave} and "
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
        lines.append("| " + " | ".join(_cell(c) for c in (
            row.label, _share_cell(row.previous_count, row.previous_base),
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


def not_compared_markdown(comparability_: Comparability) -> str:
    return "\n".join([
        f":::{{admonition}} Not compared with the {comparability_.previous_wave} survey",
        ":class: note",
        "",
        comparability_.reason,
        ":::",
    ])
