"""The small-base policy, written once: what a table may show, and what it must withhold.

With 112 respondents, sectors of 30 to 70 and cells of a handful, a share on a small base
misleads and a tiny cell can single out a respondent. Three rules:

1. Low base (`MIN_BASE` = 30). A share whose base is under 30 is flagged ("low base: treat
   with caution"), never hidden. The base n is always printed. `flag_low_base` adds a boolean
   `low_base` column; `describe_base` words it.

2. Small cells (`MIN_CELL` = 5). A question the book publishes by group (a breakdown, e.g. by
   sector) is published as linked tables: one per group and the whole-sample table, whose every
   cell is the sum of the groups' (they share their margins). In all of them a count from 1 to 4
   is withheld (`is_primary`): a whole-sample count of 4 would say that each of its group cells
   is at most 4. A question published only as a whole-sample table is not suppressed: it
   identifies no group, and the article itself says "a few (<5%)".

3. Protection (`protect`). Further cells are withheld, of any size and zero included, until
   every withheld count, given everything published about the question, can still take at least
   `MIN_VALUES` (3) values and can be as large as `MIN_CELL`. What is published: the visible
   counts, each group's base (n is always printed), each table's total (single choice: the base;
   several answers: the mentions, assumed published), every whole-sample count as the sum of the
   groups' counts, and that an exclusive answer ("none") excludes every other. The attacker's
   smallest and largest value of each withheld cell are found by integer programming
   (`attacker_bounds`: `scipy.optimize.milp`, HiGHS); while a withheld cell fails, the smallest
   visible cell sharing a line with it (non-zero first, a group's cell before a whole-sample
   cell, then table order) that mends it is withheld too. Deterministic: same counts, same cells.
   Everything else the book says (a share in a sentence, a test, a verdict, an alt-text phrase, a
   rank) is derived from visible counts only, or withheld as well, so it adds nothing the audit
   has not counted (`kamsurvey.analysis.published`; `tests/test_disclosure.py` attacks the
   built outputs themselves).

   Limits. A breakdown with a group of 1 to 4 respondents is not published at all: all its cells
   are under five whatever is withheld (`kamsurvey.analysis.published`). The audit models an
   attacker who combines published numbers; one who re-runs this selection on every candidate
   table can tell more (that a cell was chosen as a complement, say), as with any deterministic
   rule.

Display. Withheld counts and shares are shown as `SUPPRESSED_MARK` ("[c]", the UK statistical
convention for "confidential"), the same mark for primary and secondary cells, explained where
it is shown. Not "<5": a secondary cell may hold 40 or 0, and telling the kinds apart pins cells.
The `suppression` column ("primary"/"secondary") is for audit and tests, never for display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

import numpy as np
import pandas as pd

MIN_BASE = 30
MIN_CELL = 5
#: a withheld count must stay open to at least this many values
MIN_VALUES = 3

LOW_BASE_NOTE = "low base: treat with caution"
SUPPRESSED_MARK = "[c]"
PRIMARY = "primary"
SECONDARY = "secondary"

__all__ = [
    "MIN_BASE",
    "MIN_CELL",
    "MIN_VALUES",
    "LOW_BASE_NOTE",
    "SUPPRESSED_MARK",
    "PRIMARY",
    "SECONDARY",
    "is_low_base",
    "flag_low_base",
    "describe_base",
    "is_primary",
    "is_reportable",
    "Column",
    "Linked",
    "Protection",
    "attacker_bounds",
    "protect",
]


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value))


# -- rule 1: low base ---------------------------------------------------------------


def is_low_base(base: Any, *, min_base: int = MIN_BASE) -> bool:
    """Base under `min_base` (30). A missing base is low: nothing vouches for it."""
    if _missing(base):
        return True
    return int(base) < min_base


def flag_low_base(table: pd.DataFrame, *, base_col: str = "base", min_base: int = MIN_BASE) -> pd.DataFrame:
    """A copy of `table` with a boolean `low_base` column (base < 30); nothing is hidden."""
    if base_col not in table.columns:
        raise KeyError(f"table has no {base_col!r} column to judge its base by")
    flagged = table.copy()
    flagged["low_base"] = pd.Series([is_low_base(b, min_base=min_base) for b in table[base_col]],
                                    index=table.index, dtype=bool)
    flagged.attrs = dict(table.attrs)
    return flagged


def describe_base(base: Any, *, min_base: int = MIN_BASE) -> str:
    """112 -> "n = 112"; 28 -> "n = 28, low base: treat with caution"."""
    if _missing(base):
        return "n = n/a"
    text = f"n = {int(base)}"
    return f"{text}, {LOW_BASE_NOTE}" if is_low_base(base, min_base=min_base) else text


# -- rule 2: small cells -----------------------------------------------------------------


def is_primary(count: Any, *, min_cell: int = MIN_CELL) -> bool:
    """A cell of a breakdown withheld in its own right: a count from 1 to `min_cell` - 1."""
    if _missing(count):
        raise ValueError("a missing count cannot be judged: protect the complete table")
    return 0 < int(count) < min_cell


def is_reportable(count: Any, base: Any, *, min_cell: int = MIN_CELL) -> bool:
    """May a count of a breakdown be quoted on the primary rule alone? (False for 1-4, a missing count or base.)

    A cell can also be withheld to protect another (rule 3), which needs the linked tables:
    for a cell of a published table, read its `suppressed` column instead.
    """
    if _missing(count) or _missing(base) or int(base) <= 0:
        return False
    return not is_primary(count, min_cell=min_cell)


# -- rule 3: protection ---------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of linked tables: a group (or the whole sample) and its base.

    `published=False`: a group no table shows (respondents who did not give a sector), whose
    counts are still the whole sample's minus the others'.
    """

    code: Hashable
    base: int
    published: bool = True
    whole: bool = False


@dataclass(frozen=True)
class Linked:
    """One question's counts in linked tables: options (rows) by columns.

    `in_total`: the rows a column's published total adds up (single choice: every option, to
    the base; several answers: the substantive options, to the mentions). `exclusive`: rows of
    an answer that excludes every other ("none"), so that it and any other answer add up to at
    most the base. At most one column is `whole`: each of its cells is the sum of the others'.
    """

    options: tuple[Hashable, ...]
    columns: tuple[Column, ...]
    counts: np.ndarray
    in_total: tuple[bool, ...]
    exclusive: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        counts = np.asarray(self.counts)
        if counts.shape != (len(self.options), len(self.columns)):
            raise ValueError(f"counts are {counts.shape}, expected {len(self.options)} options x {len(self.columns)} columns")
        if counts.size and (counts.min() < 0 or not np.all(np.equal(np.mod(counts, 1), 0))):
            raise ValueError("counts must be non-negative whole numbers")
        if len(self.in_total) != len(self.options):
            raise ValueError("in_total needs one flag per option")
        wholes = [j for j, column in enumerate(self.columns) if column.whole]
        if len(wholes) > 1:
            raise ValueError("at most one column is the whole sample")
        if wholes:
            others = [j for j in range(len(self.columns)) if j != wholes[0]]
            if not np.array_equal(counts[:, wholes[0]], counts[:, others].sum(axis=1)):
                raise ValueError("the whole-sample counts are not the sum of the groups' counts")
        object.__setattr__(self, "counts", counts.astype(np.int64))

    @property
    def whole(self) -> int | None:
        return next((j for j, column in enumerate(self.columns) if column.whole), None)

    @property
    def published(self) -> np.ndarray:
        """Cells some table shows (all but the unpublished columns')."""
        return np.repeat(np.array([[c.published for c in self.columns]]), len(self.options), axis=0)

    def lines(self) -> list[list[tuple[int, int]]]:
        """Cells tied by a published sum: each row (when there is a whole sample) and each column's total."""
        k, m = self.counts.shape
        rows = [[(i, j) for j in range(m)] for i in range(k)] if self.whole is not None else []
        columns = [[(i, j) for i in range(k) if self.in_total[i]] for j in range(m)]
        return rows + columns


def attacker_bounds(linked: Linked, unknown: np.ndarray,
                    targets: Sequence[tuple[int, int]] | None = None) -> dict[tuple[int, int], tuple[int, int]]:
    """The smallest and largest value of each unknown cell (or of `targets`) consistent with what is published.

    Unknown cells are integers from 0 to their column's base; known cells are fixed; every
    row (whole = sum of the groups) and column total holds; an exclusive answer and any other
    add up to at most the base. Two integer programs per cell (HiGHS via scipy).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp  # here: the Sphinx extension imports this module

    counts = linked.counts
    cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(unknown))]
    if not cells:
        return {}
    index = {cell: k for k, cell in enumerate(cells)}
    rows, lower, upper = [], [], []

    def add(terms: list[tuple[tuple[int, int], float]], low: float, high: float) -> None:
        row = np.zeros(len(cells))
        constant = 0.0
        for cell, coefficient in terms:
            if cell in index:
                row[index[cell]] += coefficient
            else:
                constant += coefficient * counts[cell]
        if row.any():
            rows.append(row)
            lower.append(low - constant)
            upper.append(high - constant)

    k, m = counts.shape
    whole = linked.whole
    if whole is not None:
        for i in range(k):
            terms = [((i, whole), 1.0)] + [((i, j), -1.0) for j in range(m) if j != whole]
            add(terms, 0.0, 0.0)
    for j in range(m):
        total = float(sum(counts[i, j] for i in range(k) if linked.in_total[i]))
        add([((i, j), 1.0) for i in range(k) if linked.in_total[i]], total, total)
        for e in linked.exclusive:
            for i in range(k):
                if i != e:
                    add([((e, j), 1.0), ((i, j), 1.0)], -np.inf, float(linked.columns[j].base))
    constraints = [LinearConstraint(np.array(rows), lower, upper)] if rows else []
    bounds = Bounds(np.zeros(len(cells)), np.array([float(linked.columns[j].base) for _, j in cells]))
    integrality = np.ones(len(cells))
    found = {}
    for cell in (cells if targets is None else [c for c in targets if c in index]):
        objective = np.zeros(len(cells))
        objective[index[cell]] = 1.0
        ends = []
        for sign in (1.0, -1.0):
            result = milp(sign * objective, constraints=constraints, bounds=bounds, integrality=integrality)
            if not result.success:
                raise RuntimeError(f"disclosure audit failed: {result.message}")
            ends.append(int(round(sign * result.fun)))
        found[cell] = (ends[0], ends[1])
    return found


def is_protected(low: int, high: int, *, min_cell: int = MIN_CELL) -> bool:
    """A withheld count's range is wide enough: at least `MIN_VALUES` values, and reaching `min_cell`."""
    return high - low + 1 >= MIN_VALUES and high >= min_cell


@dataclass(frozen=True)
class Protection:
    """What `protect` withholds: cells by kind, the attacker's range of each withheld cell, and any it cannot protect."""

    withheld: np.ndarray
    primary: np.ndarray
    low: np.ndarray  # the attacker's smallest value of each withheld cell (-1 elsewhere)
    high: np.ndarray
    disclosed: tuple[tuple[int, int], ...] = field(default=())

    def kind(self, i: int, j: int) -> str:
        return PRIMARY if self.primary[i, j] else SECONDARY if self.withheld[i, j] else ""


def _candidates(linked: Linked, unknown: np.ndarray, cell: tuple[int, int]) -> list[tuple[int, int]]:
    """Visible published cells sharing a line with `cell`, in the order complements are tried."""
    published = linked.published
    near = {c for line in linked.lines() if cell in line for c in line}
    return _ordered(linked, [c for c in near if published[c] and not unknown[c]])


def _ordered(linked: Linked, cells: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    whole = linked.whole
    return sorted(cells, key=lambda c: (linked.counts[c] == 0, c[1] == whole, int(linked.counts[c]), c[1], c[0]))


_PROTECTED: dict[tuple, Protection] = {}


def protect(linked: Linked, *, min_cell: int = MIN_CELL) -> Protection:
    """Withhold every count under `min_cell` (but not zero) and the complements that protect them (rule 3).

    Unpublished cells (a group no table shows) of 1 to `min_cell` - 1 are protected too: they
    are the whole sample's counts minus the published groups'. A pure function of the counts,
    remembered for the process: every chapter of an edition asks it of the same tables.
    """
    key = (linked.options, linked.columns, linked.counts.tobytes(), linked.counts.shape, linked.in_total,
           linked.exclusive, min_cell)
    if key not in _PROTECTED:
        _PROTECTED[key] = _protect(linked, min_cell)
    return _PROTECTED[key]


def _protect(linked: Linked, min_cell: int) -> Protection:
    counts = linked.counts
    published = linked.published
    small = (counts > 0) & (counts < min_cell)
    primary = small & published
    withheld = primary.copy()
    disclosed: set[tuple[int, int]] = set()
    inherent: dict[tuple[int, int], bool] = {}

    def mends(unknown: np.ndarray, cell: tuple[int, int]) -> bool:
        low, high = attacker_bounds(linked, unknown, [cell])[cell]
        return is_protected(low, high, min_cell=min_cell)

    def first_failing(unknown: np.ndarray) -> tuple[int, int] | None:
        targets = [c for c in _cells(withheld | (small & ~published)) if c not in disclosed]
        # a line with a single unknown gives it away by subtraction: no program needed to see that
        for line in linked.lines():
            alone = [c for c in line if unknown[c]]
            if len(alone) == 1 and alone[0] in targets:
                return alone[0]
        return next((c for c in targets if not mends(unknown, c)), None)

    while True:
        unknown = withheld | ~published
        cell = first_failing(unknown)
        if cell is None:
            break
        if cell not in inherent:  # protectable at all? only if hiding every published cell would do
            inherent[cell] = not mends(np.ones_like(unknown), cell)
        if inherent[cell]:
            disclosed.add(cell)
            continue
        choice = None
        for candidates in (_candidates(linked, unknown, cell), _ordered(linked, _cells(published & ~unknown))):
            for candidate in candidates:
                trial = unknown.copy()
                trial[candidate] = True
                if mends(trial, cell):
                    choice = candidate
                    break
            if choice is None and candidates:
                choice = candidates[0]  # none mends it alone: the first, and try again
            if choice is not None:
                break
        if choice is None:
            disclosed.add(cell)
            continue
        withheld[choice] = True
    bounds = attacker_bounds(linked, withheld | ~published, _cells(withheld))
    low = np.full(counts.shape, -1, dtype=np.int64)
    high = np.full(counts.shape, -1, dtype=np.int64)
    for cell, (lo, hi) in bounds.items():
        low[cell], high[cell] = lo, hi
    return Protection(withheld=withheld, primary=primary, low=low, high=high, disclosed=tuple(sorted(disclosed)))


def _cells(mask: np.ndarray) -> list[tuple[int, int]]:
    """Cells of a mask in table order (column by column, then option)."""
    return sorted(((int(i), int(j)) for i, j in zip(*np.nonzero(mask))), key=lambda c: (c[1], c[0]))
