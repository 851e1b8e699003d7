"""The small-base policy: low bases flagged; small cells withheld in linked tables, and not narrowed by their margins."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from kamsurvey.analysis import policy, published
from kamsurvey.analysis.policy import (
    MIN_BASE,
    MIN_CELL,
    SUPPRESSED_MARK,
    Column,
    Linked,
    attacker_bounds,
    describe_base,
    flag_low_base,
    is_low_base,
    is_primary,
    is_protected,
    is_reportable,
    protect,
)
from kamsurvey.report.phrasing import display_count, display_share


def linked(groups: dict[str, list[int]], *, multi: bool = False, bases: dict[str, int] | None = None,
           exclusive: tuple[int, ...] = ()) -> Linked:
    """Whole sample and groups of one question: counts per option, whole = sum of the groups."""
    counts = np.array(list(groups.values()), dtype=np.int64).T
    whole = counts.sum(axis=1, keepdims=True)
    options = tuple(f"o{i}" for i in range(counts.shape[0]))
    if bases is None:
        bases = {g: int(sum(c)) if not multi else int(max(c)) + 10 for g, c in groups.items()}
    columns = (Column("all", sum(bases.values()), whole=True),) + tuple(Column(g, bases[g]) for g in groups)
    return Linked(options=options, columns=columns, counts=np.hstack([whole, counts]),
                  in_total=tuple(i not in exclusive for i in range(len(options))), exclusive=exclusive)


def withheld_cells(result: policy.Protection, table: Linked) -> set[tuple[str, str]]:
    return {(table.options[i], table.columns[j].code) for i, j in zip(*np.nonzero(result.withheld))}


# -- low base ------------------------------------------------------------------------------


def test_low_base_flags_under_30_only():
    table = pd.DataFrame({"code": list("abcdef"), "count": [1, 5, 10, 20, 30, 0], "base": [0, 1, 29, 30, 31, 112]})
    flagged = flag_low_base(table)
    assert flagged["low_base"].tolist() == [True, True, True, False, False, False]
    assert flagged["low_base"].dtype == bool
    assert "low_base" not in table.columns  # a copy
    assert MIN_BASE == 30
    assert is_low_base(29) and not is_low_base(30) and is_low_base(None)


def test_describe_base():
    assert describe_base(112) == "n = 112"
    assert describe_base(30) == "n = 30"
    assert describe_base(np.int64(28)) == "n = 28, low base: treat with caution"


# -- small cells -------------------------------------------------------------------------------


def test_one_to_four_are_primary_and_zero_is_not():
    assert [is_primary(n) for n in range(7)] == [False, True, True, True, True, False, False]
    assert MIN_CELL == 5


@pytest.mark.parametrize(
    ("count", "base", "expected"),
    [(0, 40, True), (1, 40, False), (4, 40, False), (5, 40, True), (12, 20, True), (3, 0, False),
     (None, 40, False), (pd.NA, 40, False), (5, None, False), (np.int64(7), np.int64(50), True)],
)
def test_is_reportable(count, base, expected):
    assert is_reportable(count, base) is expected


def test_the_whole_sample_withholds_its_small_cells_too():
    """A whole-sample count of 4 says that each of its sector cells is at most 4: it is withheld with them."""
    table = linked({"pharma": [41, 6, 5, 3, 5, 0, 2], "other": [34, 3, 2, 1, 2, 7, 1]})  # 2022 reward basis
    result = protect(table)
    cells = withheld_cells(result, table)
    assert {("o3", "all"), ("o6", "all")} <= cells  # 4 and 3 in the whole sample
    assert ("o0", "all") not in cells and ("o5", "pharma") not in cells  # 75 and the zero stay
    assert result.kind(3, 0) == policy.PRIMARY


def test_every_withheld_cell_stays_open_to_three_values_reaching_five():
    for groups in ({"pharma": [13, 18, 12, 1, 3], "other": [8, 10, 10, 4, 3]},  # 2022 bonus size (Figure 5.3)
                   {"pharma": [6, 24, 11, 15, 6], "other": [6, 20, 8, 12, 4]}):  # 2022 agreement (Figure 3.2)
        table = linked(groups)
        result = protect(table)
        assert result.withheld.sum() > 0 and not result.disclosed
        bounds = attacker_bounds(table, result.withheld)
        for cell, (low, high) in bounds.items():
            assert is_protected(low, high), (groups, cell, low, high)
            assert (result.low[cell], result.high[cell]) == (low, high)


def test_figure_5_3_needs_more_than_its_four_small_cells():
    """Pharma's two small cells add up to 4: withheld alone, each is at most 4, so a third pharma cell joins them."""
    table = linked({"pharma": [13, 18, 12, 1, 3], "other": [8, 10, 10, 4, 3]})
    primary_only = np.zeros(table.counts.shape, dtype=bool)
    primary_only[3:5, 1:3] = True
    bounds = attacker_bounds(table, primary_only)
    assert bounds[(3, 1)][1] < MIN_CELL  # the attack on the old suppression
    result = protect(table)
    assert result.withheld[2, 1] and result.withheld[2, 2]  # 20-40% in both sectors
    assert result.kind(2, 1) == policy.SECONDARY


def test_complements_prefer_a_group_cell_to_the_whole_sample():
    table = linked({"pharma": [6, 24, 11, 15, 6], "other": [6, 20, 8, 12, 4]})
    cells = withheld_cells(protect(table), table)
    assert cells == {("o0", "pharma"), ("o0", "other"), ("o4", "pharma"), ("o4", "other")}  # the whole sample stays


def test_a_group_under_five_cannot_be_protected_and_says_so():
    table = linked({"pharma": [2, 1, 0], "other": [30, 20, 9]})
    result = protect(table)
    assert (0, 1) in result.disclosed  # every pharma cell is at most 3, whatever is withheld


def test_unpublished_groups_are_counted_and_protected():
    """Respondents who gave no sector: their counts are the whole sample's minus the sectors'."""
    counts = np.array([[40, 20, 18, 2], [30, 15, 12, 3], [20, 10, 9, 1]])
    table = Linked(options=("a", "b", "c"), columns=(Column("all", 90, whole=True), Column("pharma", 45),
                                                    Column("other", 39), Column("", 6, published=False)),
                   counts=counts, in_total=(True, True, True))
    result = protect(table)
    assert not result.withheld[:, 3].any()  # nothing to withhold in a column nobody sees
    bounds = attacker_bounds(table, result.withheld | ~table.published, [(0, 3), (1, 3), (2, 3)])
    assert all(high - low >= 2 for low, high in bounds.values())


def test_linked_tables_are_checked():
    with pytest.raises(ValueError, match="not the sum"):
        Linked(options=("a",), columns=(Column("all", 9, whole=True), Column("x", 9)), counts=np.array([[3, 4]]),
               in_total=(True,))
    with pytest.raises(ValueError, match="non-negative"):
        Linked(options=("a",), columns=(Column("x", 9),), counts=np.array([[-1]]), in_total=(True,))


def test_protection_is_deterministic():
    table = linked({"pharma": [41, 6, 5, 3, 5, 0, 2], "other": [34, 3, 2, 1, 2, 7, 1]})
    first = policy._protect(table, MIN_CELL)
    second = policy._protect(table, MIN_CELL)
    assert np.array_equal(first.withheld, second.withheld) and first.disclosed == second.disclosed


# -- the attack: an independent linear program on the published margins ---------------------------


def independent_bounds(table: Linked, withheld: np.ndarray) -> dict[tuple[int, int], tuple[float, float]]:
    """The attacker again, written separately: rows (whole = sum of groups), column totals, 0 <= cell <= base."""
    k, m = table.counts.shape
    cells = [(i, j) for j in range(m) for i in range(k) if withheld[i, j]]
    index = {c: n for n, c in enumerate(cells)}

    def equation(members: list[tuple[int, int]], signs: list[float]):
        row = np.zeros(len(cells))
        constant = 0.0
        for cell, sign in zip(members, signs):
            if cell in index:
                row[index[cell]] += sign
            else:
                constant += sign * table.counts[cell]
        return row, -constant

    a, b = [], []
    for i in range(k):
        row, rhs = equation([(i, 0)] + [(i, j) for j in range(1, m)], [1.0] + [-1.0] * (m - 1))
        if row.any():
            a.append(row), b.append(rhs)
    for j in range(m):
        members = [(i, j) for i in range(k) if table.in_total[i]]
        row, rhs = equation(members, [1.0] * len(members))
        if row.any():
            a.append(row), b.append(rhs + sum(table.counts[c] for c in members))
    bounds = [(0, table.columns[j].base) for _, j in cells]
    found = {}
    for cell, n in index.items():
        objective = np.zeros(len(cells))
        objective[n] = 1
        low = linprog(objective, A_eq=np.array(a), b_eq=np.array(b), bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=np.array(a), b_eq=np.array(b), bounds=bounds, method="highs")
        assert low.success and high.success
        found[cell] = (low.fun, -high.fun)
    return found


def random_groups(rng: random.Random) -> dict[str, list[int]]:
    n_groups = rng.randint(2, 3)
    n_options = rng.randint(2, 7)
    small = [0, 0, 1, 1, 2, 3, 4, 5, 6, 8]
    return {g: [rng.choice(small) if rng.random() < 0.5 else rng.randint(5, 40) for _ in range(n_options)]
            for g in ["pharma", "other", "third"][:n_groups]}


@pytest.mark.parametrize("seed", range(3))
def test_no_withheld_cell_can_be_narrowed_by_the_margins(seed):
    rng = random.Random(20220930 + seed)
    tested = 0
    for _ in range(12):
        table = linked(random_groups(rng))
        result = protect(table)
        counts = table.counts
        assert np.all(result.withheld[(counts > 0) & (counts < MIN_CELL)])  # every small cell, whole sample too
        for (i, j), (low, high) in independent_bounds(table, result.withheld).items():
            if (i, j) in result.disclosed:
                continue
            # the margins form a network, so the linear program's bounds are whole numbers
            assert round(high) - round(low) + 1 >= policy.MIN_VALUES and round(high) >= MIN_CELL, (table.counts, (i, j))
        tested += bool(result.withheld.any())
    assert tested > 5


def test_the_attack_succeeds_without_complements():
    """The attack is real: with the small cells alone withheld, a lone cell falls to subtraction."""
    table = linked({"pharma": [3, 30], "other": [20, 20]})
    alone = (table.counts > 0) & (table.counts < MIN_CELL)
    low, high = independent_bounds(table, alone)[(0, 1)]
    assert round(low) == round(high) == 3
    assert withheld_cells(protect(table), table) > {("o0", "pharma")}


# -- the published-table model ----------------------------------------------------------------------


def test_a_breakdown_with_a_group_under_five_is_not_published(codebook, wave_2022):
    frame = wave_2022.responses
    few = frame[(frame["sector"] == "other") | (frame.index < frame.index[frame["sector"] == "pharma"][3])]
    table = published.publish(few, codebook, codebook["reward_basis"], wave="2022", by="sector")
    assert not table.has_breakdown and table.too_small == ("Pharma",)
    assert not table.view()["suppressed"].any()  # the whole-sample table alone withholds nothing


def test_the_model_gives_every_view_from_one_set_of_cells(codebook, wave_2022):
    table = published.publish(wave_2022.responses, codebook, codebook["bonus_size"], wave="2022", by="sector")
    breakdown = table.breakdown()
    assert set(breakdown["group_code"]) == {"pharma", "other"}
    withheld = breakdown[breakdown["suppressed"]]
    assert withheld["count"].isna().all() and withheld[["share", "ci_low", "ci_high"]].isna().all().all()
    assert (withheld["bound_high"] >= MIN_CELL).all()
    assert table.withholds(["40_plus"], ["pharma"]) and not table.withholds(["10_to_20"], ["pharma", "other"])
    assert table.ranking() == ["10_to_20", "20_to_40", "under_10", "varies", "40_plus"]  # nothing withheld overall
    assert table.ranking("other") == []  # 10 of 35 could be beaten by the withheld 20-40% cell


def test_display():
    assert display_count(66) == "66"
    assert display_count(np.int64(0)) == "0"
    assert display_count(pd.NA) == SUPPRESSED_MARK == "[c]"
    assert display_count(66, suppressed=True) == "[c]"
    assert display_share(0.589) == "59%"
    assert display_share(float("nan"), suppressed=True) == "[c]"
    assert display_share(float("nan")) == "n/a"
