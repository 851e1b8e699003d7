"""The small-base policy: low bases flagged, small cells suppressed, and not recoverable from the totals."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from kamsurvey.analysis import policy
from kamsurvey.report.phrasing import display_count, display_share
from kamsurvey.analysis.policy import (
    MIN_BASE,
    MIN_CELL,
    SUPPRESSED_MARK,
    DisclosureWarning,
    apply_policy,
    describe_base,
    flag_low_base,
    is_low_base,
    is_reportable,
    recoverable_cells,
    suppress_breakdown,
)


def breakdown(counts: dict[str, dict[str, int]], *, single_choice: bool, bases: dict[str, int] | None = None,
              percent_of: str = "respondents") -> pd.DataFrame:
    """A long table shaped like `tabulate.by_group`: counts[option][group]."""
    groups = list(next(iter(counts.values())).keys())
    if bases is None:
        if single_choice or percent_of == "mentions":
            bases = {g: sum(row[g] for row in counts.values()) for g in groups}
        else:
            bases = {g: max(row[g] for row in counts.values()) + 10 for g in groups}
    rows = []
    for group in groups:
        for code, row in counts.items():
            count, base = row[group], bases[group]
            share = count / base if base else float("nan")
            rows.append({
                "group_code": group, "group_label": group.title(), "code": code, "label": code.upper(),
                "group": "", "exclusive": False, "count": count, "base": base, "share": share,
                "ci_low": max(0.0, share - 0.1), "ci_high": min(1.0, share + 0.1),
            })
    table = pd.DataFrame(rows)
    table.attrs.update(question="q", percent_of=percent_of, split_by="sector")
    return table


def cell(table: pd.DataFrame, code: str, group: str) -> pd.Series:
    return table[(table["code"] == code) & (table["group_code"] == group)].iloc[0]


def kinds(table: pd.DataFrame) -> dict[tuple[str, str], str]:
    return {(r.code, r.group_code): r.suppression for r in table.itertuples()}


# -- low base ------------------------------------------------------------------------------


def test_low_base_flags_under_30_only():
    table = pd.DataFrame({"code": list("abcdef"), "count": [1, 5, 10, 20, 30, 0], "base": [0, 1, 29, 30, 31, 112]})
    flagged = flag_low_base(table)
    assert flagged["low_base"].tolist() == [True, True, True, False, False, False]
    assert flagged["low_base"].dtype == bool
    assert "low_base" not in table.columns  # a copy
    assert MIN_BASE == 30
    assert is_low_base(29) and not is_low_base(30) and is_low_base(None)


def test_low_base_hides_nothing_and_keeps_attrs():
    table = breakdown({"a": {"pharma": 10, "other": 12}, "b": {"pharma": 15, "other": 40}}, single_choice=True)
    flagged = flag_low_base(table)
    assert flagged["count"].tolist() == table["count"].tolist()
    assert flagged["share"].tolist() == table["share"].tolist()
    assert flagged.attrs == table.attrs
    assert flagged.loc[flagged["group_code"] == "pharma", "low_base"].all()  # base 25
    assert not flagged.loc[flagged["group_code"] == "other", "low_base"].any()  # base 52


def test_describe_base():
    assert describe_base(112) == "n = 112"
    assert describe_base(30) == "n = 30"
    assert describe_base(np.int64(28)) == "n = 28, low base: treat with caution"


# -- primary suppression ----------------------------------------------------------------------


def test_primary_suppression_of_one_to_four():
    counts = {f"o{n}": {"pharma": n, "other": 50, "third": 50} for n in range(0, 8)}
    result = suppress_breakdown(breakdown(counts, single_choice=False), single_choice=False)
    for n in range(0, 8):
        expected = "primary" if 1 <= n <= 4 else ""
        assert cell(result, f"o{n}", "pharma").suppression == expected, n
    assert MIN_CELL == 5


def test_suppressed_values_are_blanked_and_the_rest_kept():
    table = breakdown({"a": {"pharma": 3, "other": 40}, "b": {"pharma": 37, "other": 30}}, single_choice=True)
    original = table.copy()
    result = suppress_breakdown(table, single_choice=True)
    assert result["count"].dtype == "Int64"
    hidden = result[result["suppressed"]]
    assert len(hidden) == 4  # two groups, single choice: the whole 2x2 block
    assert hidden["count"].isna().all()
    assert hidden[["share", "ci_low", "ci_high"]].isna().all().all()
    assert hidden["base"].notna().all()  # n is always printed
    assert result["group_label"].tolist() == table["group_label"].tolist()
    assert result.attrs["percent_of"] == "respondents"
    pd.testing.assert_frame_equal(table, original)  # input untouched
    assert result["suppression"].isin(["", "primary", "secondary"]).all()
    assert (result["suppressed"] == (result["suppression"] != "")).all()


def test_zeros_kept_by_default():
    table = breakdown({"not_rewarded": {"pharma": 0, "other": 8}, "sales": {"pharma": 40, "other": 49}},
                      single_choice=True)
    result = suppress_breakdown(table, single_choice=True)
    assert not result["suppressed"].any()  # "this doesn't happen in pharma" stays
    assert cell(result, "not_rewarded", "pharma")["count"] == 0


def test_zeros_suppressed_when_asked():
    table = breakdown({"a": {"pharma": 0, "other": 8, "third": 12}, "b": {"pharma": 40, "other": 49, "third": 20}},
                      single_choice=False)
    result = suppress_breakdown(table, single_choice=False, suppress_zeros=True)
    assert cell(result, "a", "pharma").suppression == "primary"
    assert cell(result, "a", "other").suppression == "secondary"  # a lone cell in its row
    assert not cell(result, "a", "third").suppressed


# -- secondary suppression ------------------------------------------------------------------


def test_lone_cell_forces_a_secondary_in_its_row():
    counts = {"a": {"pharma": 3, "other": 20, "third": 10}, "b": {"pharma": 30, "other": 20, "third": 40}}
    result = suppress_breakdown(breakdown(counts, single_choice=False), single_choice=False)
    assert kinds(result) == {
        ("a", "pharma"): "primary", ("a", "other"): "", ("a", "third"): "secondary",  # smallest other: 10
        ("b", "pharma"): "", ("b", "other"): "", ("b", "third"): "",  # multi-select: no column totals
    }


def test_two_groups_suppressing_one_suppresses_the_other():
    counts = {"a": {"pharma": 2, "other": 60}, "b": {"pharma": 30, "other": 20}}
    result = suppress_breakdown(breakdown(counts, single_choice=False), single_choice=False)
    assert cell(result, "a", "other").suppression == "secondary"
    assert not result.loc[result["code"] == "b", "suppressed"].any()


def test_single_choice_forces_a_secondary_in_its_column_too():
    counts = {
        "a": {"pharma": 3, "other": 20, "third": 10},
        "b": {"pharma": 12, "other": 20, "third": 40},
        "c": {"pharma": 25, "other": 9, "third": 30},
    }
    result = suppress_breakdown(breakdown(counts, single_choice=True), single_choice=True)
    k = kinds(result)
    assert k[("a", "pharma")] == "primary"
    assert k[("a", "third")] == "secondary"  # row: smallest other in a
    assert k[("b", "pharma")] == "secondary"  # column: smallest other in pharma
    # and the rules iterate: every line with a suppressed cell has at least two
    for line in ("a", "b", "c"):
        assert result.loc[result["code"] == line, "suppressed"].sum() in (0, 2, 3)
    for group in ("pharma", "other", "third"):
        assert result.loc[result["group_code"] == group, "suppressed"].sum() in (0, 2, 3)
    assert recoverable_cells(breakdown(counts, single_choice=True), result, single_choice=True) == []


def test_share_of_mentions_tables_have_column_totals_whatever_is_passed():
    counts = {"a": {"pharma": 3, "other": 20}, "b": {"pharma": 12, "other": 20}, "c": {"pharma": 25, "other": 9}}
    table = breakdown(counts, single_choice=False, percent_of="mentions")
    result = suppress_breakdown(table, single_choice=False)
    assert result.attrs["suppression_policy"]["column_totals"] is True
    assert result.loc[result["group_code"] == "pharma", "suppressed"].sum() >= 2


def test_secondary_prefers_a_non_zero_cell():
    counts = {"a": {"pharma": 3, "other": 0, "third": 12}, "b": {"pharma": 30, "other": 20, "third": 40}}
    result = suppress_breakdown(breakdown(counts, single_choice=False), single_choice=False)
    assert cell(result, "a", "third").suppression == "secondary"
    assert not cell(result, "a", "other").suppressed  # the zero stays a finding


def test_a_zero_is_used_when_nothing_else_is_left():
    counts = {"a": {"pharma": 3, "other": 0}, "b": {"pharma": 30, "other": 20}}
    result = suppress_breakdown(breakdown(counts, single_choice=False), single_choice=False)
    assert cell(result, "a", "other").suppression == "secondary"


def test_disclosure_by_totals_is_warned_about():
    one_group = breakdown({"a": {"pharma": 3}, "b": {"pharma": 40}}, single_choice=False)
    with pytest.warns(DisclosureWarning):
        result = suppress_breakdown(one_group, single_choice=False)
    assert result.attrs["disclosed_by_totals"] == [("a", "pharma")]
    zero_total = breakdown({"a": {"pharma": 0, "other": 0}, "b": {"pharma": 30, "other": 20}}, single_choice=False)
    with pytest.warns(DisclosureWarning):
        suppress_breakdown(zero_total, single_choice=False, suppress_zeros=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = suppress_breakdown(breakdown({"a": {"pharma": 3, "other": 9}}, single_choice=False), single_choice=False)
    assert ok.attrs["disclosed_by_totals"] == []


def test_suppressing_twice_is_refused():
    table = breakdown({"a": {"pharma": 3, "other": 20}, "b": {"pharma": 30, "other": 20}}, single_choice=False)
    result = suppress_breakdown(table, single_choice=False)
    with pytest.raises(ValueError):
        suppress_breakdown(result, single_choice=False)


def test_duplicate_cells_are_refused():
    table = breakdown({"a": {"pharma": 3, "other": 20}}, single_choice=False)
    with pytest.raises(ValueError):
        suppress_breakdown(pd.concat([table, table]), single_choice=False)


def test_empty_breakdown():
    table = breakdown({"a": {"pharma": 3, "other": 20}}, single_choice=False).iloc[0:0]
    result = suppress_breakdown(table, single_choice=False)
    assert result.empty and {"suppressed", "suppression"} <= set(result.columns)


def test_apply_policy_flags_and_suppresses():
    table = breakdown({"a": {"pharma": 3, "other": 20}, "b": {"pharma": 20, "other": 20}}, single_choice=True)
    result = apply_policy(table, single_choice=True)
    assert {"low_base", "suppressed", "suppression"} <= set(result.columns)
    assert result["low_base"].tolist() == [True, True, False, False]  # pharma 23, other 40


# -- the attack: recovering suppressed cells from the published totals ------------------------


def published_knowledge(original: pd.DataFrame, published: pd.DataFrame, column_totals: bool):
    """What a reader sees: unsuppressed cells, option totals, group totals (if additive), bases."""
    options = list(dict.fromkeys(original["code"]))
    groups = list(dict.fromkeys(original["group_code"]))
    true = {(r.code, r.group_code): int(r.count) for r in original.itertuples()}
    hidden = {(r.code, r.group_code) for r in published.itertuples() if r.suppressed}
    known = {key: value for key, value in true.items() if key not in hidden}
    lines = [(sum(true[(o, g)] for g in groups), [(o, g) for g in groups]) for o in options]
    if column_totals:
        lines += [(sum(true[(o, g)] for o in options), [(o, g) for o in options]) for g in groups]
    caps = {g: int(original.loc[original["group_code"] == g, "base"].max()) for g in groups}
    return true, hidden, known, lines, caps


def subtraction_attack(known: dict, lines: list) -> dict:
    """Repeatedly solve any total with exactly one unknown cell by subtraction."""
    known = dict(known)
    progress = True
    while progress:
        progress = False
        for total, cells in lines:
            unknown = [c for c in cells if c not in known]
            if len(unknown) == 1:
                known[unknown[0]] = total - sum(known[c] for c in cells if c in known)
                progress = True
    return known


def linear_attack(hidden: set, known: dict, lines: list) -> set:
    """Cells fixed by any linear combination of the totals (unit vector in the row space)."""
    order = sorted(hidden)
    index = {c: k for k, c in enumerate(order)}
    rows = []
    for _, cells in lines:
        row = np.zeros(len(order))
        for c in cells:
            if c in index:
                row[index[c]] = 1
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    matrix = np.array(rows)
    rank = np.linalg.matrix_rank(matrix)
    found = set()
    for c, k in index.items():
        unit = np.zeros(len(order))
        unit[k] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.add(c)
    return found


def bounds_attack(hidden: set, known: dict, lines: list, caps: dict, true: dict) -> set:
    """Cells whose smallest and largest values consistent with the totals (0 <= cell <= base) meet."""
    order = sorted(hidden)
    if not order:
        return set()
    index = {c: k for k, c in enumerate(order)}
    a, b = [], []
    for total, cells in lines:
        row = np.zeros(len(order))
        for c in cells:
            if c in index:
                row[index[c]] = 1
        if row.any():
            a.append(row)
            b.append(total - sum(known[c] for c in cells if c in known))
    bounds = [(0, caps[g]) for _, g in order]
    found = set()
    for c, k in index.items():
        objective = np.zeros(len(order))
        objective[k] = 1
        high = linprog(-objective, A_eq=np.array(a), b_eq=np.array(b), bounds=bounds, method="highs")
        assert high.success
        if round(-high.fun) > true[c]:
            continue  # it could be larger than it is
        low = linprog(objective, A_eq=np.array(a), b_eq=np.array(b), bounds=bounds, method="highs")
        assert low.success
        if round(low.fun) == round(-high.fun):
            found.add(c)
    return found


def random_breakdown(rng: random.Random, *, single_choice: bool) -> pd.DataFrame:
    n_groups = rng.randint(2, 4)
    n_options = rng.randint(2, 7)
    groups = ["pharma", "other", "third", "fourth"][:n_groups]
    small = [0, 0, 1, 1, 2, 3, 4, 5, 6, 8]
    counts = {
        f"o{i}": {g: rng.choice(small) if rng.random() < 0.5 else rng.randint(0, 40) for g in groups}
        for i in range(n_options)
    }
    return breakdown(counts, single_choice=single_choice)


@pytest.mark.parametrize("single_choice", [True, False])
@pytest.mark.parametrize("suppress_zeros", [False, True])
def test_no_suppressed_cell_can_be_recovered_from_the_totals(single_choice, suppress_zeros):
    rng = random.Random(20220930 + 2 * single_choice + suppress_zeros)
    tested = 0
    for _ in range(40):
        original = random_breakdown(rng, single_choice=single_choice)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DisclosureWarning)
            published = suppress_breakdown(original, single_choice=single_choice, suppress_zeros=suppress_zeros)
        exempt = set(published.attrs["disclosed_by_totals"])  # e.g. an all-zero row: its total is 0
        true, hidden, known, lines, caps = published_knowledge(original, published, single_choice)
        # Primary cells are all hidden; the published table shows nothing that is hidden.
        for r in published.itertuples():
            small = 1 <= true[(r.code, r.group_code)] < MIN_CELL or (suppress_zeros and true[(r.code, r.group_code)] == 0)
            assert r.suppressed or not small
            assert pd.isna(r.count) == r.suppressed
        recovered = subtraction_attack(known, lines)
        assert not ((set(recovered) & hidden) - exempt), (original, published)
        assert not (linear_attack(hidden, known, lines) - exempt)
        assert not (bounds_attack(hidden, known, lines, caps, true) - exempt)
        assert set(recoverable_cells(original, published, single_choice=single_choice)) == exempt & hidden
        tested += bool(hidden)
    assert tested > 20  # the loop did exercise suppression


def test_attack_succeeds_without_secondary_suppression():
    """The attack is real: with primary suppression alone, the lone cell falls to subtraction."""
    original = breakdown({"a": {"pharma": 3, "other": 20}, "b": {"pharma": 30, "other": 20}}, single_choice=False)
    naive = original.assign(suppressed=[policy.is_primary(c) for c in original["count"]])
    _, hidden, known, lines, _ = published_knowledge(original, naive, False)
    assert subtraction_attack(known, lines)[("a", "pharma")] == 3
    assert recoverable_cells(original, naive, single_choice=False) == [("a", "pharma")]


# -- reporting and display ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "base", "expected"),
    [(0, 40, True), (1, 40, False), (4, 40, False), (5, 40, True), (12, 20, True), (3, 0, False),
     (None, 40, False), (pd.NA, 40, False), (5, None, False), (np.int64(7), np.int64(50), True)],
)
def test_is_reportable(count, base, expected):
    assert is_reportable(count, base) is expected


def test_is_reportable_with_suppressed_zeros():
    assert not is_reportable(0, 40, suppress_zeros=True)


def test_display():
    assert display_count(66) == "66"
    assert display_count(np.int64(0)) == "0"
    assert display_count(pd.NA) == SUPPRESSED_MARK == "[c]"
    assert display_count(66, suppressed=True) == "[c]"
    assert display_share(0.589) == "59%"
    assert display_share(float("nan"), suppressed=True) == "[c]"
    assert display_share(float("nan")) == "n/a"
    table = breakdown({"a": {"pharma": 3, "other": 20}, "b": {"pharma": 30, "other": 20}}, single_choice=False)
    result = suppress_breakdown(table, single_choice=False)
    shown = [display_count(c) for c in result["count"]]
    assert shown == ["[c]", "30", "[c]", "20"]  # primary and secondary look the same
