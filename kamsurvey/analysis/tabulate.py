"""Counts and shares of answers, from respondent-level rows to aggregate tables.

Two denominators are in play and the article uses both, so every table says which:
- share of respondents: of those asked who answered, how many chose the option
  (multi-select shares of respondents add up to more than 100%);
- share of mentions: of all options ticked, how many were this one (adds up to 100%).
Exclusive options ('none', 'nothing') count as answers for the base of respondents
but are not mentions: ticking 'none' mentions no factor.

Every function is vectorised: one numpy operation per option or column over all rows (a
million respondents take milliseconds per option), never a Python loop over respondents.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from kamsurvey.data.codebook import Codebook, Question
from kamsurvey.analysis.stats import Proportion, wilson_interval

RESPONDENTS = "respondents"
MENTIONS = "mentions"


def _is_one(column: pd.Series) -> pd.Series:
    """A multi-select option column (1, 0 or missing) as booleans: True where it holds 1."""
    if isinstance(column.dtype, pd.core.dtypes.dtypes.BaseMaskedDtype):  # Int8 from the validated frame
        return pd.Series(column.to_numpy(dtype="int8", na_value=0) == 1, index=column.index)
    return column.fillna(0).astype(int).eq(1)


def asked(frame: pd.DataFrame, question: Question) -> pd.Series:
    """Respondents the questionnaire put this question to (its skip logic)."""
    if question.asked_of is None:
        return pd.Series(True, index=frame.index)
    condition = question.asked_of
    source_column = f"{condition.question}__{condition.option}"
    if source_column in frame.columns:
        return _is_one(frame[source_column])
    if condition.question in frame.columns:
        return frame[condition.question].eq(condition.option).fillna(False).astype(bool)
    return pd.Series(False, index=frame.index)


def present_columns(frame: pd.DataFrame, question: Question) -> list[str]:
    return [c for c in question.columns() if c in frame.columns]


def is_present(frame: pd.DataFrame, question: Question) -> bool:
    """A wave may leave a question out; everything downstream says so rather than fail."""
    return bool(present_columns(frame, question))


def answered(frame: pd.DataFrame, question: Question) -> pd.Series:
    columns = present_columns(frame, question)
    if not columns:
        return pd.Series(False, index=frame.index)
    if question.is_multi:
        answered_any = np.zeros(len(frame), dtype=bool)
        for column in columns:
            answered_any |= frame[column].notna().to_numpy()
        return pd.Series(answered_any, index=frame.index)
    return frame[question.id].notna()


def ticks(frame: pd.DataFrame, question: Question, code: str) -> pd.Series:
    """Boolean per respondent: did they choose `code`? (False where not asked or skipped.)"""
    if question.is_multi:
        column = question.column(code)
        if column not in frame.columns:
            return pd.Series(False, index=frame.index)
        return _is_one(frame[column])
    if question.id not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame[question.id].eq(code).fillna(False).astype(bool)


def chose_any(frame: pd.DataFrame, question: Question, codes: Iterable[str]) -> pd.Series:
    chosen = pd.Series(False, index=frame.index)
    for code in codes:
        chosen = chosen | ticks(frame, question, code)
    return chosen


def share_of_respondents(frame: pd.DataFrame, question: Question, codes: Iterable[str]) -> Proportion:
    """Respondents who chose at least one of `codes`, out of those who answered."""
    base_mask = answered(frame, question)
    chosen = chose_any(frame, question, codes) & base_mask
    return Proportion(int(chosen.sum()), int(base_mask.sum()))


def mention_counts(frame: pd.DataFrame, question: Question) -> pd.Series:
    """Ticks per substantive option, in codebook order (exclusive options are not mentions)."""
    base_mask = answered(frame, question)
    counts = {code: int((ticks(frame, question, code) & base_mask).sum()) for code in question.substantive_codes()}
    return pd.Series(counts, dtype="int64")


def share_of_mentions(frame: pd.DataFrame, question: Question, codes: Iterable[str]) -> Proportion:
    counts = mention_counts(frame, question)
    wanted = [c for c in codes if c in counts.index]
    return Proportion(int(counts[wanted].sum()), int(counts.sum()))


def choices_per_respondent(frame: pd.DataFrame, question: Question) -> pd.Series:
    """Substantive options ticked by each respondent who answered ('none' counts as zero)."""
    base_mask = answered(frame, question)
    total = pd.Series(0, index=frame.index, dtype="int64")
    for code in question.substantive_codes():
        total = total + ticks(frame, question, code).astype("int64")
    return total[base_mask]


def mean_choices(frame: pd.DataFrame, question: Question) -> float:
    per_respondent = choices_per_respondent(frame, question)
    return float(per_respondent.mean()) if len(per_respondent) else float("nan")


def share_choosing_from_every_group(frame: pd.DataFrame, question: Question, groups: Iterable[str]) -> Proportion:
    """Respondents who chose at least one option of each group (e.g. quantitative and qualitative)."""
    base_mask = answered(frame, question)
    chosen = base_mask.copy()
    for group in groups:
        chosen = chosen & chose_any(frame, question, question.codes_in_group(group))
    return Proportion(int(chosen.sum()), int(base_mask.sum()))


def within(frame: pd.DataFrame, codebook: Codebook, filters: Mapping[str, str] | None) -> pd.DataFrame:
    """Rows of respondents who gave each `question: option` in `filters` (e.g. sector: pharma)."""
    if not filters:
        return frame
    mask = pd.Series(True, index=frame.index)
    for question_id, code in filters.items():
        mask = mask & ticks(frame, codebook[question_id], code)
    return frame[mask]


def option_table(frame: pd.DataFrame, question: Question, *, percent_of: str = RESPONDENTS) -> pd.DataFrame:
    """One row per option: count, base, share and its 95% Wilson interval.

    `percent_of` chooses the denominator: RESPONDENTS (those who answered) or
    MENTIONS (all substantive ticks; exclusive options are then left out).
    Options are in codebook order; options not in this wave's file have no row.
    """
    if percent_of not in (RESPONDENTS, MENTIONS):
        raise ValueError(f"percent_of must be {RESPONDENTS!r} or {MENTIONS!r}, got {percent_of!r}")
    base_mask = answered(frame, question)
    respondents_base = int(base_mask.sum())
    base = respondents_base
    if percent_of == MENTIONS and question.is_multi:
        base = int(mention_counts(frame, question).sum())
    rows = []
    for option in question.options:
        if question.is_multi and question.column(option.code) not in frame.columns:
            continue
        if percent_of == MENTIONS and option.exclusive:
            continue
        count = int((ticks(frame, question, option.code) & base_mask).sum())
        low, high = wilson_interval(count, base)
        rows.append(
            {
                "code": option.code,
                "label": option.label,
                "group": option.group or "",
                "exclusive": option.exclusive,
                "count": count,
                "base": base,
                "share": count / base if base else float("nan"),
                "ci_low": low,
                "ci_high": high,
            }
        )
    table = pd.DataFrame(
        rows, columns=["code", "label", "group", "exclusive", "count", "base", "share", "ci_low", "ci_high"]
    )
    table.attrs.update(question=question.id, percent_of=percent_of, respondents=respondents_base)
    return table


def rank_options(table: pd.DataFrame) -> list[str]:
    """Option codes from most to least chosen; ties keep codebook order (a stable sort)."""
    return table.sort_values("count", ascending=False, kind="stable")["code"].tolist()


def by_group(frame: pd.DataFrame, codebook: Codebook, question: Question, split_by: str, *, percent_of: str = RESPONDENTS,
             subset: Callable[[Mapping[str, str]], pd.DataFrame] | None = None) -> pd.DataFrame:
    """`option_table` within each answer of `split_by` (e.g. sector), stacked long.

    `subset(filters)`, if given, returns `within(frame, codebook, filters)` (e.g. from a cache
    of the rows of each sector, which a chapter asks for again and again).
    """
    split_question = codebook[split_by]
    tables = []
    for option in split_question.options:
        if subset is not None:
            subset_frame = subset({split_by: option.code})
        else:
            subset_frame = frame[ticks(frame, split_question, option.code)]
        table = option_table(subset_frame, question, percent_of=percent_of)
        table.insert(0, "group_code", option.code)
        table.insert(1, "group_label", option.label)
        tables.append(table)
    stacked = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    stacked.attrs.update(question=question.id, percent_of=percent_of, split_by=split_by)
    return stacked
