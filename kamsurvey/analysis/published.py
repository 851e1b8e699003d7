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
per-cell attribute is one more column of `cells`, set once, and reaches every chart, table and CSV.

Say what is known: the class of every number (the ONE place it comes from)
    A reconstructed wave (wave.yml `provenance: reconstructed`, e.g. 2022) is one dataset among many
    that fit the article; `kamsurvey.analysis.feasible` stores, beside it, the range of every number
    the book shows over all of them (`ranges.yml`). A number is `PUBLISHED` when the article pins it
    down, `RECONSTRUCTED` when it is a choice of the reconstruction (any value in [low, high] fits the
    article). A wave of original answers has no ranges: every number is `ORIGINAL`, and nothing is
    marked. `Provenance` answers "how is this number known?" for any share, count, base, mean or rank
    of a wave (`Known`: class, range, the ledger entries whose words are about it); `publish` writes
    its answer into `cells`, and every view carries it:

      provenance, range_low, range_high    the share the view shows (of respondents, or of mentions
                                           in a mentions view): "published" or "reconstructed", and
                                           its range as fractions (NaN unless reconstructed)
      count_provenance, count_low, count_high    the count's class and range (<NA> unless reconstructed)

    In a wave of original answers both class columns are "" (`ORIGINAL_COLUMN_VALUE`): there is no
    class to show, and a figure that finds no class shows none.

    and each `Group` its base's (`Group.base_known`). A quantity a reconstructed wave has no range
    for is `RECONSTRUCTED` with no range: nothing is called published by guess. Charts, tables,
    CSVs and alt text mark a cell where `provenance == RECONSTRUCTED` (`is_marked`); glued numbers
    carry the same `Known` (`kamsurvey.report.chapter_data.Share.known`), so the prose can give the
    article's words or the range instead of the reconstruction's number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from kamsurvey.analysis import feasible, policy, tabulate
from kamsurvey.analysis.stats import wilson_interval
from kamsurvey.data.codebook import Codebook, Question

ALL = "all"
ALL_LABEL = "All respondents"

#: what a view shows of a cell, by column; `count` is nullable (<NA> where withheld)
VIEW_COLUMNS = ["code", "label", "group", "exclusive", "count", "base", "share", "ci_low", "ci_high",
                "suppressed", "suppression", "bound_low", "bound_high", "low_base"]

# -- how each number is known -------------------------------------------------------------------------

ORIGINAL = "original"  # counted from a wave's original answers: nothing to mark
PUBLISHED = feasible.PUBLISHED  # the article pins it down (one value, or within the rounding of a printed figure)
RECONSTRUCTED = feasible.RECONSTRUCTED  # a choice of the reconstruction: any value in its range fits the article
CLASSES = (ORIGINAL, PUBLISHED, RECONSTRUCTED)
#: the class columns of `cells` and of every view (see the module docstring)
CLASS_COLUMNS = ["provenance", "range_low", "range_high", "count_provenance", "count_low", "count_high"]


@dataclass(frozen=True)
class Known:
    """How one number is known: its class, and for a reconstructed one the range any data fitting the article allows.

    `low`/`high` are exact (shares as fractions, counts, means, ranks); None when the class is not
    `RECONSTRUCTED`, or when a reconstructed wave stores no range for the number. `published_by`:
    the claims-ledger entries whose words are about it (their words may stand in for the number).
    """

    cls: str = ORIGINAL
    low: Fraction | None = None
    high: Fraction | None = None
    published_by: tuple[str, ...] = ()

    @property
    def reconstructed(self) -> bool:
        """True when the book must not state the number as a finding (mark it, give the article's words or the range)."""
        return self.cls == RECONSTRUCTED

    @property
    def has_range(self) -> bool:
        return self.reconstructed and self.low is not None and self.high is not None

    def as_meaning(self) -> dict:
        """For `Chapter.meanings`: the class and the range as text (fractions exact)."""
        found = {"provenance": self.cls}
        if self.has_range:
            found["range"] = [str(self.low), str(self.high)]
        return found


ORIGINAL_KNOWN = Known()


def combined(*knowns: Known) -> Known:
    """A number computed from several (a difference, a test, a verdict): reconstructed if any of them is.

    Published only if every part is; original if every part is. The range of a combination is not
    the combination of ranges, so a reconstructed combination has none.
    """
    classes = {k.cls for k in knowns}
    if RECONSTRUCTED in classes:
        return Known(RECONSTRUCTED)
    if PUBLISHED in classes:
        return Known(PUBLISHED)
    return ORIGINAL_KNOWN


def is_marked(provenance: object) -> bool:
    """Should a chart, table, CSV or alt text mark this cell (its `provenance` column) as not published?"""
    return provenance == RECONSTRUCTED


class Provenance:
    """The class of every number of one wave: from its stored ranges (reconstructed), else `ORIGINAL`.

    `Provenance.of_wave(data_dir, meta)` is what a chapter uses. Groups are `ALL` or a code of
    `feasible.SPLIT` (the sector), as in `PublishedTable`.
    """

    def __init__(self, reconstructed: bool = False, ranges: feasible.Ranges | None = None, n: int | None = None):
        self.reconstructed = bool(reconstructed)
        self.ranges = ranges
        self.n = n

    @classmethod
    def of_wave(cls, data_dir: str | Path, meta) -> "Provenance":
        """A wave's provenance: wave.yml says whether it is reconstructed; its ranges.yml, how each number is known."""
        if not getattr(meta, "reconstructed", False):
            return cls()
        return cls(True, feasible.load_wave_ranges(data_dir, str(meta.wave)), int(meta.n))

    @staticmethod
    def _within(group: str) -> dict[str, str] | None:
        return None if group == ALL else {feasible.SPLIT: group}

    def known(self, measure: str, question: str, codes: Iterable[str] = (), group: str = ALL) -> Known:
        """How the number `measure` of `question` (for `codes`, in `group`) is known."""
        if not self.reconstructed:
            return ORIGINAL_KNOWN
        try:
            found = self.ranges.get(measure, question, codes, self._within(group)) if self.ranges is not None else None
        except KeyError:
            found = None
        if found is None:
            return Known(RECONSTRUCTED)
        if found.published:
            return Known(PUBLISHED, published_by=found.published_by)
        return Known(RECONSTRUCTED, found.low, found.high, found.published_by)

    def share(self, question: str, codes: Iterable[str], group: str = ALL,
              percent_of: str = tabulate.RESPONDENTS) -> Known:
        if percent_of == tabulate.MENTIONS:
            return self.known(feasible.MENTION_SHARE, question, codes, group)
        return self.known(feasible.SHARE, question, codes, group)

    def count(self, question: str, code: str, group: str = ALL) -> Known:
        return self.known(feasible.COUNT, question, [code], group)

    def base(self, question: Question, group: str = ALL) -> Known:
        """The number asked a question in a group: the whole sample's n (published), a sector's size, or the count
        of those a skip condition lets through."""
        if not self.reconstructed:
            return ORIGINAL_KNOWN
        if question.asked_of is not None:
            return self.count(question.asked_of.question, question.asked_of.option, group)
        if group == ALL:
            return Known(PUBLISHED, published_by=())
        return self.count(feasible.SPLIT, group)

    def mentions(self, question: str) -> Known:
        return self.known(feasible.MENTIONS, question)

    def mean(self, question: str) -> Known:
        return self.known(feasible.MEAN, question)

    def rank(self, question: str, codes: Iterable[str]) -> Known:
        return self.known(feasible.RANK, question, codes)

    def every_group(self, question: str, groups: Iterable[str]) -> Known:
        return self.known(feasible.EVERY_GROUP, question, groups)

    def states_about(self, question: str, group: str = ALL) -> bool:
        """Does the article state anything about the question's answers in `group` (a number it pins down, or
        words about one of its shares, ranks or means)? Always True for original answers.

        The sample's make-up by sector (`feasible.SPLIT`) is never a finding of a reconstruction: the
        article names no split ("strong representation from pharma" bounds it loosely), so only a
        number it pins down counts there.
        """
        if not self.reconstructed:
            return True
        within = tuple(sorted((self._within(group) or {}).items()))
        for found in self.ranges or ():
            if found.quantity.question == question and found.quantity.within == within:
                if found.published or (found.published_by and question != feasible.SPLIT):
                    return True
        return False


def _fraction_or_nan(value: Fraction | None) -> float:
    return math.nan if value is None else float(value)


#: the class columns' value in a wave of original answers: no class to show
ORIGINAL_COLUMN_VALUE = ""


def _column_class(known: Known) -> str:
    return ORIGINAL_COLUMN_VALUE if known.cls == ORIGINAL else known.cls


def _class_columns(known: Known, count: Known, prefix: str = "") -> dict:
    """One cell's class columns (`prefix` "mention_" for the share of mentions a mentions view shows)."""
    return {
        f"{prefix}provenance": _column_class(known),
        f"{prefix}range_low": _fraction_or_nan(known.low),
        f"{prefix}range_high": _fraction_or_nan(known.high),
        **({} if prefix else {
            "count_provenance": _column_class(count),
            "count_low": int(count.low) if count.low is not None else pd.NA,
            "count_high": int(count.high) if count.high is not None else pd.NA,
        }),
    }


@dataclass(frozen=True)
class Group:
    """A column of the linked tables: the whole sample (`ALL`) or one group, with its base and mentions.

    `base_known`: how the base is known (a sector's size in a reconstructed wave is the reconstruction's).
    """

    code: str
    label: str
    base: int  # respondents who answered the question
    mentions: int  # substantive options ticked (several answers); the base for a single-choice question
    base_known: Known = field(default=ORIGINAL_KNOWN)


class PublishedTable:
    """What the book may show of one question: its whole-sample table and, when published, its breakdown.

    `groups`: the whole sample first, then each published group. `too_small`: the groups (labels)
    with 1 to 4 respondents that keep the breakdown from being published, if any.
    """

    def __init__(self, question: Question, cells: pd.DataFrame, groups: Sequence[Group], *,
                 by: str | None, too_small: Sequence[str] = (),
                 disclosed: Sequence[tuple[str, str]] = (), provenance: Provenance | None = None):
        self.question = question
        self.cells = cells
        self.groups = tuple(groups)
        self.by = by
        self.too_small = tuple(too_small)
        self.disclosed = tuple(disclosed)
        self.provenance = provenance if provenance is not None else Provenance()

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

    def presents_findings(self, group: str = ALL) -> bool:
        """May the group's table be presented as a finding? Always for original answers; for a reconstructed wave
        only if the article states something about it (`Provenance.states_about`). Figure 3.2's sector rows and
        the sector profile are the reconstruction's choice throughout."""
        return self.provenance.states_about(self.question.id, group)

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
        if mentions:  # the share shown is of mentions: its class and range are the mention share's
            for column in ("provenance", "range_low", "range_high"):
                shown[column] = shown[f"mention_{column}"]
        shown = shown.drop(columns=[f"mention_{c}" for c in ("provenance", "range_low", "range_high")])
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
            subset: Callable[[Mapping[str, str]], pd.DataFrame] | None = None,
            provenance: Provenance | None = None) -> PublishedTable:
    """Count `question` in the whole sample (and in each group of `by`), and withhold what the policy says.

    Groups nobody answering belongs to have no table. A breakdown with a group of 1 to 4
    respondents (counting those who gave no answer to `by`) is not published: all its cells are
    under `policy.MIN_CELL` whatever is withheld; `too_small` names the groups. `provenance`
    (default: original answers) gives every cell and base its class (`CLASS_COLUMNS`).
    """
    provenance = provenance if provenance is not None else Provenance()
    codes = offered_codes(frame, question, wave)
    options = {o.code: o for o in question.options}
    counts, base, mentions = _counts(frame, question, codes)
    groups = [Group(ALL, ALL_LABEL, base, mentions, provenance.base(question))]
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
                found.append((Group(option.code, option.label, group_base, group_mentions,
                                    provenance.base(question, option.code)), group_counts))
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
                **_class_columns(provenance.share(question.id, [code], group.code),
                                 provenance.count(question.id, code, group.code)),
                **_class_columns(_mention_known(provenance, question, code, group.code), ORIGINAL_KNOWN, "mention_"),
            })
    cells = pd.DataFrame(table_rows, columns=["group_code", "group_label", "code", "label", "group", "exclusive",
                                              "count", "withheld", "suppression", "bound_low", "bound_high",
                                              *CLASS_COLUMNS, *MENTION_CLASS_COLUMNS])
    for column in ("bound_low", "bound_high", "count_low", "count_high"):
        cells[column] = cells[column].astype("Int64")
    disclosed = ()
    if published_groups and protection.disclosed:
        names = [g.code for g in groups] + ([""] if residual is not None else [])
        disclosed = tuple((codes[i], names[j]) for i, j in protection.disclosed)
    return PublishedTable(question, cells, groups, by=by if published_groups else None,
                          too_small=small, disclosed=disclosed, provenance=provenance)


MENTION_CLASS_COLUMNS = ["mention_provenance", "mention_range_low", "mention_range_high"]


def _mention_known(provenance: Provenance, question: Question, code: str, group: str) -> Known:
    """The class of a cell's share of mentions: a multi question's substantive answers (whole sample only: no
    chapter shows shares of mentions by sector); any other cell's share of mentions is its share of respondents."""
    if question.is_multi and not question.option(code).exclusive:
        return provenance.share(question.id, [code], group, tabulate.MENTIONS)
    return provenance.share(question.id, [code], group)
