"""The small-base policy, written once and applied by every table, chart and sentence.

With 112 respondents, sectors of 30 to 70 and cells of a handful, a share on a small
base misleads and a tiny cell can identify a respondent. Three rules:

1. Low base (`MIN_BASE` = 30). A share whose base is under 30 is flagged
   ("low base: treat with caution"), never hidden. The base n is always printed.
   `flag_low_base` adds a boolean `low_base` column; `describe_base` words it.

2. Primary suppression (`MIN_CELL` = 5). In a breakdown -- a table split by a
   group such as sector -- a count of 1 to 4 is suppressed, and with it its share and
   interval (share x base gives the count back). Overall tables (not split by a
   group) are not suppressed: the article itself says "a few (<5%)".
   True zeros are NOT suppressed by default (`suppress_zeros=False`): a zero
   describes the group and discloses no individual ("this doesn't happen in pharma"
   is a finding). Pass `suppress_zeros=True` where a zero is itself sensitive.

3. Secondary (complementary) suppression. A breakdown's totals are published too:
   each option's overall count (the overall table), which is the sum over the groups,
   and -- when the counts within a group add up to a published group total, as for a
   single-choice question (they sum to the group's base) or a share-of-mentions table
   (they sum to the group's mentions) -- each group's total. A lone suppressed cell in
   a line whose total is published is recovered by subtraction, so:

   - row rule: an option with exactly one suppressed group cell has its smallest other
     cell suppressed as well (with two groups, suppressing one suppresses both);
   - column rule (additive groups only): a group with exactly one suppressed option
     cell has its smallest other cell suppressed as well;
   - the two rules are repeated until nothing changes; then the table is audited by
     linear programming -- the attacker's best bounds on every suppressed cell from all
     published totals at once, with counts non-negative and no larger than their
     group's base -- and while any suppressed cell is pinned to one value, the smallest
     cell sharing a line with it is suppressed too and the rules re-run.

   "Smallest" prefers a non-zero cell: a zero used as a complement narrows what the
   attacker can infer (two zeros in a suppressed 2x2 block pin the other two), and it
   would hide a finding the policy means to keep. A zero is used only when nothing
   else is left in the line. Ties go to the first in table order, so results are
   deterministic.

   Cost: a few small LPs per table (HiGHS via scipy), 10-30 ms for the article's tables.

   Limits. The audit guards against arithmetic on the published totals (subtraction
   and any linear combination, with bounds). It does not enforce a minimum width for
   the attacker's interval, and it assumes the attacker cannot tell primary from
   secondary cells -- which is why both are displayed with the same mark (below). A
   total that is itself zero, or a breakdown with a single group, discloses its cells
   whatever is suppressed: `suppress_breakdown` warns (`DisclosureWarning`) and lists
   them in `attrs["disclosed_by_totals"]`.

Display. Suppressed counts and shares are shown as `SUPPRESSED_MARK` ("[c]", the UK
statistical convention for "confidential"), the same mark for primary and secondary
cells, explained where it is shown (a chart's subtitle says what it stands for).
Not "<5": a secondary cell may hold 40, and marking primaries "<5" and secondaries
differently tells the attacker which cells are 1-4 and which are 0 or 5+, which pins
cells: two suppressed cells that sum to 6, one marked "<5", can only be 1 and 5. The
`suppression` column ("primary"/"secondary") is for audit and tests, not for display.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Hashable, Sequence

import numpy as np
import pandas as pd

MIN_BASE = 30
MIN_CELL = 5

LOW_BASE_NOTE = "low base: treat with caution"
SUPPRESSED_MARK = "[c]"
PRIMARY = "primary"
SECONDARY = "secondary"
VALUE_COLUMNS = ("share", "ci_low", "ci_high")

__all__ = [
    "MIN_BASE",
    "MIN_CELL",
    "LOW_BASE_NOTE",
    "SUPPRESSED_MARK",
    "PRIMARY",
    "SECONDARY",
    "VALUE_COLUMNS",
    "DisclosureWarning",
    "is_low_base",
    "flag_low_base",
    "describe_base",
    "is_primary",
    "is_reportable",
    "suppress_breakdown",
    "apply_policy",
    "recoverable_cells",
]


class DisclosureWarning(UserWarning):
    """Cells of a breakdown can be worked out from its published totals whatever is suppressed."""


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


# -- rule 2: primary suppression -------------------------------------------------------


def is_primary(count: Any, *, suppress_zeros: bool = False, min_cell: int = MIN_CELL) -> bool:
    """A breakdown cell suppressed in its own right: 1-4 (and 0 if `suppress_zeros`)."""
    if _missing(count):
        raise ValueError("a missing count cannot be judged: suppress from the complete table")
    value = int(count)
    if value == 0:
        return suppress_zeros
    return 0 < value < min_cell


def is_reportable(count: Any, base: Any, *, suppress_zeros: bool = False, min_cell: int = MIN_CELL) -> bool:
    """May a count from a breakdown (and its share) be quoted? Primary rule only.

    False for a missing count, a base of 0 or missing, and a count of 1-4 (or 0 with
    `suppress_zeros`). A low base does not make a share unreportable (it is flagged).
    A cell can also be withheld by the secondary rule, which needs the whole table:
    for a cell of a published breakdown, read its `suppressed` column instead.
    """
    if _missing(count) or _missing(base) or int(base) <= 0:
        return False
    return not is_primary(count, suppress_zeros=suppress_zeros, min_cell=min_cell)


# -- rule 3: secondary suppression ---------------------------------------------------


class _Grid:
    """A long breakdown as an options x groups matrix of counts."""

    def __init__(self, table: pd.DataFrame, *, option_col: str, group_col: str, count_col: str, base_col: str | None):
        for column in (option_col, group_col, count_col):
            if column not in table.columns:
                raise KeyError(f"breakdown has no {column!r} column")
        keys = table[[option_col, group_col]]
        if keys.duplicated().any():
            duplicates = keys[keys.duplicated(keep=False)].drop_duplicates().values.tolist()
            raise ValueError(f"breakdown has more than one row for (option, group): {duplicates}")
        if table[count_col].isna().any():
            raise ValueError(f"{count_col!r} has missing values: suppress the complete breakdown, once")
        counts = table[count_col].to_numpy(dtype=float)
        if not np.all(np.equal(np.mod(counts, 1), 0)) or np.any(counts < 0):
            raise ValueError(f"{count_col!r} must hold non-negative whole numbers")
        self.options: list[Hashable] = list(dict.fromkeys(table[option_col]))
        self.groups: list[Hashable] = list(dict.fromkeys(table[group_col]))
        row_of = {o: i for i, o in enumerate(self.options)}
        col_of = {g: j for j, g in enumerate(self.groups)}
        shape = (len(self.options), len(self.groups))
        self.count = np.zeros(shape, dtype=np.int64)
        self.exists = np.zeros(shape, dtype=bool)
        self.position = np.full(shape, -1, dtype=np.int64)  # row position in `table`
        self.cell_of_row: list[tuple[int, int]] = []
        for position, (option, group, count) in enumerate(zip(table[option_col], table[group_col], counts)):
            i, j = row_of[option], col_of[group]
            self.count[i, j] = int(count)
            self.exists[i, j] = True
            self.position[i, j] = position
            self.cell_of_row.append((i, j))
        # An attacker's upper bound on a cell: its group's published base, if there is one.
        self.cap = np.full(len(self.groups), np.inf)
        if base_col and base_col in table.columns:
            bases = pd.to_numeric(table[base_col], errors="coerce").groupby(table[group_col], sort=False).max()
            for j, group in enumerate(self.groups):
                if group in bases.index and not pd.isna(bases[group]):
                    self.cap[j] = float(bases[group])

    def lines(self, column_totals: bool) -> list[list[tuple[int, int]]]:
        rows = [[(i, j) for j in range(self.count.shape[1]) if self.exists[i, j]] for i in range(self.count.shape[0])]
        if not column_totals:
            return rows
        columns = [[(i, j) for i in range(self.count.shape[0]) if self.exists[i, j]] for j in range(self.count.shape[1])]
        return rows + columns


def _pinned(grid: _Grid, hidden: np.ndarray, column_totals: bool,
            among: Sequence[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Hidden cells whose value the published totals determine exactly.

    The attacker's bounds on a hidden cell: minimise and maximise it subject to every
    published total (option totals; group totals when `column_totals`), with
    0 <= cell <= its group's base. The constraint matrix is a network matrix, so the
    bounds are whole numbers: a cell is pinned when they meet, i.e. when no solution
    other than the true one moves it. Cheap first: a few LPs over the sum of the
    undecided cells show most cells movable at once; only the rest are tested one by one.
    `among` restricts the answer to those cells (all hidden cells still count as unknowns).
    """
    cells = [(int(i), int(j)) for i, j in zip(*np.nonzero(hidden))]
    if not cells:
        return []
    index = {cell: k for k, cell in enumerate(cells)}
    truth = np.array([float(grid.count[cell]) for cell in cells])
    equations, targets = [], []
    for line in grid.lines(column_totals):
        unknown = [cell for cell in line if hidden[cell]]
        if not unknown:
            continue
        row = np.zeros(len(cells))
        for cell in unknown:
            row[index[cell]] = 1.0
        equations.append(row)
        targets.append(float(sum(int(grid.count[cell]) for cell in unknown)))
    a_eq, b_eq = np.array(equations), np.array(targets)
    bounds = [(0.0, None if math.isinf(grid.cap[j]) else float(grid.cap[j])) for _, j in cells]

    from scipy.optimize import linprog  # here, not at import: the Sphinx extension imports this module

    def solve(objective: np.ndarray) -> np.ndarray | None:
        result = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if result.status == 3:  # unbounded: no cap, and a line with room
            return None
        if not result.success:
            raise RuntimeError(f"disclosure audit failed: {result.message}")
        return result.x

    undecided = {cell for cell in (among if among is not None else cells) if cell in index}
    progress = True
    while undecided and progress:
        progress = False
        for sign in (1.0, -1.0):  # push the undecided cells all up, then all down
            objective = np.zeros(len(cells))
            for cell in undecided:
                objective[index[cell]] = -sign
            x = solve(objective)
            moved = set() if x is None else {c for c in undecided if abs(x[index[c]] - truth[index[c]]) > 0.5}
            if moved:
                undecided -= moved
                progress = True
    pinned = []
    for cell in sorted(undecided):
        k = index[cell]
        objective = np.zeros(len(cells))
        objective[k] = 1.0
        movable = False
        for sign in (1.0, -1.0):
            x = solve(-sign * objective)
            if x is None or abs(x[k] - truth[k]) > 0.5:
                movable = True
                break
        if not movable:
            pinned.append(cell)
    return pinned


def _choose(grid: _Grid, hidden: np.ndarray, cells: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """The complement to suppress among `cells`: the smallest, preferring non-zero, first in table order."""
    candidates = [cell for cell in cells if grid.exists[cell] and not hidden[cell]]
    if not candidates:
        return None
    return min(candidates, key=lambda cell: (grid.count[cell] == 0, grid.count[cell], grid.position[cell]))


def _secondary(grid: _Grid, primary: np.ndarray, column_totals: bool) -> tuple[np.ndarray, list[tuple[int, int]]]:
    hidden = primary.copy()
    lines = grid.lines(column_totals)
    disclosed: set[tuple[int, int]] = set()
    while True:
        changed = True
        while changed:
            changed = False
            for line in lines:
                if sum(bool(hidden[cell]) for cell in line) == 1:
                    choice = _choose(grid, hidden, line)
                    if choice is not None:
                        hidden[choice] = True
                        changed = True
        pinned = [cell for cell in _pinned(grid, hidden, column_totals) if cell not in disclosed]
        if pinned:
            # Cells pinned even when everything is hidden are disclosed by the totals themselves.
            inherent = _pinned(grid, grid.exists.copy(), column_totals, among=pinned)
            disclosed.update(inherent)
            pinned = [cell for cell in pinned if cell not in disclosed]
        if not pinned:
            break
        neighbours = [cell for line in lines if any(p in line for p in pinned) for cell in line]
        choice = _choose(grid, hidden, neighbours)
        if choice is None:  # every cell sharing a line is hidden already: widen to the whole table
            choice = _choose(grid, hidden, list(zip(*np.nonzero(grid.exists))))
        if choice is None:
            disclosed.update(pinned)
            continue
        hidden[choice] = True
    still = sorted(cell for cell in disclosed if hidden[cell])
    return hidden, still


def _has_column_totals(table: pd.DataFrame, single_choice: bool) -> bool:
    return bool(single_choice) or table.attrs.get("percent_of") == "mentions"


def suppress_breakdown(
    table: pd.DataFrame,
    *,
    group_col: str = "group_code",
    option_col: str = "code",
    count_col: str = "count",
    base_col: str = "base",
    single_choice: bool,
    suppress_zeros: bool = False,
    min_cell: int = MIN_CELL,
) -> pd.DataFrame:
    """A breakdown (e.g. `tabulate.by_group`) with the suppression policy applied; a copy.

    Adds `suppressed` (bool: primary or secondary) and `suppression` ("", "primary",
    "secondary"); where suppressed, `count` is <NA> (the column becomes nullable
    Int64) and `share`, `ci_low`, `ci_high` are NaN. `base` is kept: n is always printed.
    Other columns (labels, `low_base`) and `attrs` are kept.

    `single_choice=True` when the counts within each group add up to the group's
    published base (single-choice questions); share-of-mentions tables
    (`attrs["percent_of"] == "mentions"`) are treated the same way whatever is passed.
    Multi-select shares of respondents (`single_choice=False`) have only the option
    totals published. `suppress_zeros` and `min_cell`: see the module docstring.

    `attrs["disclosed_by_totals"]` lists (option, group) cells that the published
    totals give away whatever is suppressed (a zero total; a single group); a
    `DisclosureWarning` is issued when it is not empty.
    """
    result = table.copy()
    result.attrs = dict(table.attrs)
    column_totals = _has_column_totals(table, single_choice)
    if len(table) == 0:
        result["suppressed"] = pd.Series(dtype=bool)
        result["suppression"] = pd.Series(dtype=object)
        result[count_col] = result[count_col].astype("Int64") if count_col in result.columns else pd.Series(dtype="Int64")
        result.attrs["disclosed_by_totals"] = []
        return result
    grid = _Grid(table, option_col=option_col, group_col=group_col, count_col=count_col, base_col=base_col)
    primary = np.zeros(grid.count.shape, dtype=bool)
    for i, j in zip(*np.nonzero(grid.exists)):
        primary[i, j] = is_primary(grid.count[i, j], suppress_zeros=suppress_zeros, min_cell=min_cell)
    hidden, disclosed = _secondary(grid, primary, column_totals)

    kinds = []
    for i, j in grid.cell_of_row:
        kinds.append(PRIMARY if primary[i, j] else SECONDARY if hidden[i, j] else "")
    suppressed = np.array([kind != "" for kind in kinds], dtype=bool)
    result["suppressed"] = suppressed
    result["suppression"] = kinds
    result[count_col] = result[count_col].astype("Int64")
    result.loc[suppressed, count_col] = pd.NA
    for column in VALUE_COLUMNS:
        if column in result.columns:
            result[column] = result[column].astype(float)
            result.loc[suppressed, column] = np.nan
    result.attrs["disclosed_by_totals"] = [(grid.options[i], grid.groups[j]) for i, j in disclosed]
    result.attrs["suppression_policy"] = {
        "min_cell": min_cell,
        "suppress_zeros": suppress_zeros,
        "column_totals": column_totals,
    }
    if disclosed:
        warnings.warn(
            f"{len(disclosed)} suppressed cell(s) of this breakdown can be worked out from its published totals "
            f"whatever is suppressed (a zero total, or a single group): {result.attrs['disclosed_by_totals']}",
            DisclosureWarning,
            stacklevel=2,
        )
    return result


def apply_policy(
    table: pd.DataFrame,
    *,
    single_choice: bool,
    suppress_zeros: bool = False,
    group_col: str = "group_code",
    option_col: str = "code",
) -> pd.DataFrame:
    """`flag_low_base` then `suppress_breakdown`: the whole policy for a breakdown."""
    return suppress_breakdown(
        flag_low_base(table),
        group_col=group_col,
        option_col=option_col,
        single_choice=single_choice,
        suppress_zeros=suppress_zeros,
    )


def recoverable_cells(
    original: pd.DataFrame,
    published: pd.DataFrame,
    *,
    group_col: str = "group_code",
    option_col: str = "code",
    count_col: str = "count",
    base_col: str = "base",
    single_choice: bool,
) -> list[tuple[Hashable, Hashable]]:
    """Audit: (option, group) cells suppressed in `published` whose counts the totals pin.

    `original` holds the true counts (for the totals a reader can compute from the
    overall table and the bases); `published` is `suppress_breakdown(original, ...)`
    or any table with a boolean `suppressed` column in the same row order.
    """
    if len(original) != len(published):
        raise ValueError("original and published breakdowns differ in length")
    grid = _Grid(original, option_col=option_col, group_col=group_col, count_col=count_col, base_col=base_col)
    hidden = np.zeros(grid.count.shape, dtype=bool)
    for (i, j), is_hidden in zip(grid.cell_of_row, published["suppressed"].astype(bool)):
        hidden[i, j] = is_hidden
    pinned = _pinned(grid, hidden, _has_column_totals(original, single_choice))
    return [(grid.options[i], grid.groups[j]) for i, j in sorted(pinned)]
