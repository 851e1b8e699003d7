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

from kamsurvey.analysis import tabulate
from kamsurvey.data.codebook import Codebook, Question
from kamsurvey.analysis.stats import ALPHA, compare_proportions

CHANGE_COLUMNS = [
    "code", "label", "kind", "previous_count", "previous_base", "previous_share", "count", "base", "share",
    "difference", "ci_low", "ci_high", "p_fisher", "p_holm", "more_than_noise",
]


@dataclass(frozen=True)
class Comparability:
    """Can `question` be trended between two waves? If not, what differs (`report.trendnotes` words it)."""

    question: str
    wave: str
    previous_wave: str
    comparable: bool
    not_asked_in: str | None = None  # the wave that left the question out
    wording: tuple[str, str] | None = None  # (previous, current) when the wording changed
    added: tuple[str, ...] = ()  # option codes offered now, not then
    dropped: tuple[str, ...] = ()  # option codes offered then, not now
    reordered: bool = False  # the same options, in another order


def comparability(question: Question, wave: str, previous_wave: str, *,
                  frame: pd.DataFrame | None = None, previous_frame: pd.DataFrame | None = None) -> Comparability:
    """Whether the two waves asked the same question (and, given the frames, both asked it at all)."""
    wave, previous_wave = str(wave), str(previous_wave)
    if frame is not None and not tabulate.is_present(frame, question):
        return Comparability(question.id, wave, previous_wave, False, not_asked_in=wave)
    if previous_frame is not None and not tabulate.is_present(previous_frame, question):
        return Comparability(question.id, wave, previous_wave, False, not_asked_in=previous_wave)
    if question.fingerprint(wave) == question.fingerprint(previous_wave):
        return Comparability(question.id, wave, previous_wave, True)
    old_words, new_words = question.wording_in(previous_wave), question.wording_in(wave)
    wording = (old_words, new_words) if " ".join(old_words.split()) != " ".join(new_words.split()) else None
    old_codes, new_codes = question.codes(previous_wave), question.codes(wave)
    added = tuple(c for c in new_codes if c not in old_codes)
    dropped = tuple(c for c in old_codes if c not in new_codes)
    reordered = not added and not dropped and old_codes != new_codes
    return Comparability(question.id, wave, previous_wave, False, wording=wording, added=added, dropped=dropped,
                         reordered=reordered)


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
