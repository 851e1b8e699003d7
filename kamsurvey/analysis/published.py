"""One published-table object per question: every number the book may show of it, made once, before rendering.

A question the book publishes by group (`by`, e.g. sector) is published as linked tables: the
whole-sample table and one table per group, whose margins they share. `publish` counts them once
and runs the small-base policy over them together (`policy.protect`), so that charts, data tables,
CSVs, tooltips, alt text, bar geometry and glued numbers all come from the same cells and the
same withheld set. Everything derived from a withheld cell is withheld as well: a share of
several options, a rank (`ranking` gives only the ranks that no withheld cell can
change), a test or a verdict (their callers ask `withholds`).

A question published only as a whole-sample table withholds nothing (policy rule 2).

`cells` is the model: one row per (group, option) with the true count and what may be shown of
it. Every view (`view`, `breakdown`) is made from it, and carries its other columns along, so a
per-cell attribute -- e.g. a provenance class ("published by the article" / "reconstructed") and
its range -- is one more column of `cells`, set once, and reaches every chart, table and CSV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from kamsurvey.analysis import policy, tabulate
from kamsurvey.analysis.stats import wilson_interval
from kamsurvey.data.codebook import Codebook, Question

ALL = "all"
ALL_LABEL = "All respondents"

#: what a view shows of a cell, by column; `count` is nullable (<NA> where withheld)
VIEW_COLUMNS = ["code", "label", "group", "exclusive", "count", "base", "share", "ci_low", "ci_high",
                "suppressed", "suppression", "bound_low", "bound_high", "low_base"]


@dataclass(frozen=True)
class Group:
    """A column of the linked tables: the whole sample (`ALL`) or one group, with its base and mentions."""

    code: str
    label: str
    base: int  # respondents who answered the question
    mentions: int  # substantive options ticked (several answers); the base for a single-choice question


class PublishedTable:
    """What the book may show of one question: its whole-sample table and, when published, its breakdown.

    `groups`: the whole sample first, then each published group. `too_small`: the groups (labels)
    with 1 to 4 respondents that keep the breakdown from being published, if any.
    """

    def __init__(self, question: Question, cells: pd.DataFrame, groups: Sequence[Group], *,
                 by: str | None, too_small: Sequence[str] = (),
                 disclosed: Sequence[tuple[str, str]] = ()):
        self.question = question
        self.cells = cells
        self.groups = tuple(groups)
        self.by = by
        self.too_small = tuple(too_small)
        self.disclosed = tuple(disclosed)

    # -- what is published ------------------------------------------------------------------
    @property
    def has_breakdown(self) -> bool:
        return self.by is not None and len(self.groups) > 1

    @property
    def group_codes(self) -> list[str]:
        """The published groups (not the whole sample)."""
        return [g.code for g in self.groups if g.code != ALL]

    def group(self, code: str) -> Group:
        for group in self.groups:
            if group.code == code:
                return group
        raise KeyError(f"{self.question.id} has no published group {code!r}")

    def _rows(self, group: str) -> pd.DataFrame:
        return self.cells[self.cells["group_code"] == group]

    def withholds(self, codes: Iterable[str], groups: Iterable[str] = (ALL,)) -> bool:
        """Does any of `codes` in any of `groups` rest on a withheld cell (or a group not published)?"""
        codes, groups = list(codes), list(groups)
        if any(g not in {x.code for x in self.groups} for g in groups):
            return True
        rows = self.cells[self.cells["group_code"].isin(groups) & self.cells["code"].isin(codes)]
        return bool(rows["withheld"].any())

    def any_withheld(self, group: str = ALL) -> bool:
        return bool(self._rows(group)["withheld"].any())

    # -- views ------------------------------------------------------------------------------
    def view(self, group: str = ALL, *, percent_of: str = tabulate.RESPONDENTS) -> pd.DataFrame:
        """One group's table as it may be shown, shaped like `tabulate.option_table`.

        Withheld cells: `count` <NA>, `share` and interval NaN, `suppressed` True. Shares of
        mentions have no interval (one respondent's several answers are not independent draws):
        their view has no `ci_low`/`ci_high` columns at all.
        """
        info = self.group(group)
        rows = self._rows(group)
        mentions = percent_of == tabulate.MENTIONS and self.question.is_multi
        if mentions:
            rows = rows[~rows["exclusive"]]
        base = info.mentions if mentions else info.base
        shown = rows.drop(columns=["group_code", "group_label"]).reset_index(drop=True)
        withheld = shown["withheld"].to_numpy(dtype=bool)
        counts = shown["count"].to_numpy(dtype=np.int64)
        shown["base"] = base
        shown["share"] = [math.nan if w or not base else c / base for c, w in zip(counts, withheld)]
        intervals = [(math.nan, math.nan) if w else wilson_interval(int(c), base) for c, w in zip(counts, withheld)]
        shown["ci_low"] = [low for low, _ in intervals]
        shown["ci_high"] = [high for _, high in intervals]
        shown["count"] = pd.array([pd.NA if w else int(c) for c, w in zip(counts, withheld)], dtype="Int64")
        shown["suppressed"] = withheld
        shown["low_base"] = policy.is_low_base(info.base)
        columns = [c for c in VIEW_COLUMNS if not (mentions and c in ("ci_low", "ci_high"))]
        shown = shown[columns + [c for c in shown.columns if c not in VIEW_COLUMNS + ["withheld", "mentions"]]]
        shown.attrs.update(question=self.question.id, percent_of=percent_of if self.question.is_multi else tabulate.RESPONDENTS,
                           respondents=info.base, group=group)
        return shown

    def breakdown(self, *, percent_of: str = tabulate.RESPONDENTS) -> pd.DataFrame:
        """Every published group's view, stacked long with `group_code` and `group_label` (like `tabulate.by_group`)."""
        tables = []
        for group in self.groups:
            if group.code == ALL:
                continue
            table = self.view(group.code, percent_of=percent_of)
            table.insert(0, "group_code", group.code)
            table.insert(1, "group_label", group.label)
            tables.append(table)
        stacked = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["group_code", "group_label", *VIEW_COLUMNS])
        stacked.attrs.update(question=self.question.id, percent_of=percent_of, split_by=self.by)
        return stacked

    # -- numbers derived from the cells -----------------------------------------------------------
    def ranking(self, group: str = ALL) -> list[str]:
        """Option codes from most to least chosen, as far as no withheld cell could change the order.

        Exclusive answers of a multi-select question are not ranked. Ties keep codebook order.
        A withheld option is never ranked, and a visible one only while its count exceeds the
        largest value the published numbers allow any withheld cell of the group: beyond that,
        a rank would tell something about a withheld cell.
        """
        rows = self._rows(group)
        if self.question.is_multi:
            rows = rows[~rows["exclusive"]]
        withheld = rows[rows["withheld"]]
        ceiling = int(withheld["bound_high"].max()) if len(withheld) else -1
        visible = rows[~rows["withheld"]].sort_values("count", ascending=False, kind="stable")
        ranked = []
        for code, count in zip(visible["code"], visible["count"]):
            if int(count) <= ceiling:
                break
            ranked.append(str(code))
        return ranked

    def full_rank_count(self, group: str = ALL) -> int:
        """How many options a ranking would have if nothing were withheld."""
        rows = self._rows(group)
        return int((~rows["exclusive"]).sum()) if self.question.is_multi else len(rows)


# -- building it -----------------------------------------------------------------------------------


def _counts(frame: pd.DataFrame, question: Question, codes: Sequence[str]) -> tuple[list[int], int, int]:
    """(count per option, respondents answering, mentions) in `frame`."""
    answered = tabulate.answered(frame, question)
    counts = [int((tabulate.ticks(frame, question, code) & answered).sum()) for code in codes]
    base = int(answered.sum())
    substantive = set(question.substantive_codes())
    mentions = sum(c for code, c in zip(codes, counts) if code in substantive) if question.is_multi else base
    return counts, base, mentions


def offered_codes(frame: pd.DataFrame, question: Question, wave: str | None) -> list[str]:
    """Options this wave offered (multi: their columns exist), in codebook order."""
    codes = question.codes(wave)
    if question.is_multi:
        codes = [c for c in codes if question.column(c) in frame.columns]
    return codes


def publish(frame: pd.DataFrame, codebook: Codebook, question: Question, *, wave: str | None,
            by: str | None = None,
            subset: Callable[[Mapping[str, str]], pd.DataFrame] | None = None) -> PublishedTable:
    """Count `question` in the whole sample (and in each group of `by`), and withhold what the policy says.

    Groups nobody answering belongs to have no table. A breakdown with a group of 1 to 4
    respondents (counting those who gave no answer to `by`) is not published: all its cells are
    under `policy.MIN_CELL` whatever is withheld; `too_small` names the groups.
    """
    codes = offered_codes(frame, question, wave)
    options = {o.code: o for o in question.options}
    counts, base, mentions = _counts(frame, question, codes)
    groups = [Group(ALL, ALL_LABEL, base, mentions)]
    columns = [counts]
    small: list[str] = []
    residual: tuple[list[int], int] | None = None
    if by is not None and tabulate.is_present(frame, codebook[by]):
        split = codebook[by]
        found = []
        for option in split.options:
            rows = subset({by: option.code}) if subset is not None else tabulate.within(frame, codebook, {by: option.code})
            group_counts, group_base, group_mentions = _counts(rows, question, codes)
            if group_base:
                found.append((Group(option.code, option.label, group_base, group_mentions), group_counts))
        rest = [c - sum(g[1][i] for g in found) for i, c in enumerate(counts)]
        rest_base = base - sum(g[0].base for g in found)
        small = [g[0].label for g in found if g[0].base < policy.MIN_CELL]
        if 0 < rest_base < policy.MIN_CELL:
            small.append(f"those who did not answer ‘{split.short_title}’")
        if not small and found:
            groups += [g for g, _ in found]
            columns += [c for _, c in found]
            if rest_base:
                residual = (rest, rest_base)
    table_rows = []
    published_groups = len(groups) > 1
    if published_groups:
        linked_columns = [policy.Column(g.code, g.base, whole=(g.code == ALL)) for g in groups]
        matrix = [list(col) for col in columns]
        if residual is not None:
            linked_columns.append(policy.Column("", residual[1], published=False))
            matrix.append(residual[0])
        linked = policy.Linked(
            options=tuple(codes),
            columns=tuple(linked_columns),
            counts=np.array(matrix, dtype=np.int64).T.reshape(len(codes), len(linked_columns)),
            in_total=tuple(not (question.is_multi and options[c].exclusive) for c in codes),
            exclusive=tuple(i for i, c in enumerate(codes) if question.is_multi and options[c].exclusive),
        )
        protection = policy.protect(linked)
    for j, group in enumerate(groups):
        for i, code in enumerate(codes):
            option = options[code]
            withheld = bool(protection.withheld[i, j]) if published_groups else False
            table_rows.append({
                "group_code": group.code,
                "group_label": group.label,
                "code": code,
                "label": option.label,
                "group": option.group or "",
                "exclusive": bool(option.exclusive),
                "count": int(columns[j][i]),
                "withheld": withheld,
                "suppression": protection.kind(i, j) if published_groups else "",
                "bound_low": int(protection.low[i, j]) if withheld else pd.NA,
                "bound_high": int(protection.high[i, j]) if withheld else pd.NA,
            })
    cells = pd.DataFrame(table_rows, columns=["group_code", "group_label", "code", "label", "group", "exclusive",
                                              "count", "withheld", "suppression", "bound_low", "bound_high"])
    cells["bound_low"] = cells["bound_low"].astype("Int64")
    cells["bound_high"] = cells["bound_high"].astype("Int64")
    disclosed = ()
    if published_groups and protection.disclosed:
        names = [g.code for g in groups] + ([""] if residual is not None else [])
        disclosed = tuple((codes[i], names[j]) for i, j in protection.disclosed)
    return PublishedTable(question, cells, groups, by=by if published_groups else None,
                          too_small=small, disclosed=disclosed)
