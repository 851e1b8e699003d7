"""Intervals and tests come from statsmodels and scipy; these pin the values they give here."""

from __future__ import annotations

import math

import pytest

from kamsurvey.analysis.stats import BOSCHLOO, BOSCHLOO_MAX_CELLS, FISHER, Proportion, compare_proportions, wilson_interval


def test_wilson_interval_of_the_articles_headline_share():
    # Wilson (1927) by hand for 66/112, z = 1.96: centre 0.5864, half-width 0.0896
    low, high = wilson_interval(66, 112)
    assert low == pytest.approx(0.4967, abs=2e-4) and high == pytest.approx(0.6760, abs=2e-4)


def test_wilson_interval_stays_inside_zero_one_at_the_edges():
    assert wilson_interval(0, 62)[0] == pytest.approx(0.0)
    assert wilson_interval(62, 62)[1] == pytest.approx(1.0)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_difference_between_sectors_with_newcombe_interval_and_exact_tests():
    comparison = compare_proportions(Proportion(0, 62), Proportion(7, 50))
    assert comparison.difference == pytest.approx(-0.14)
    low, high = comparison.interval
    assert low < comparison.difference < high < 0
    assert comparison.p_boschloo < 0.05 and comparison.significant
    assert comparison.p_fisher >= comparison.p_boschloo


def test_a_small_difference_is_not_called_significant():
    comparison = compare_proportions(Proportion(18, 47), Proportion(10, 35))
    assert not comparison.significant
    assert comparison.interval[0] < 0 < comparison.interval[1]


def test_an_empty_group_gives_no_comparison():
    comparison = compare_proportions(Proportion(3, 10), Proportion(0, 0))
    assert math.isnan(comparison.difference) and not comparison.significant


def test_small_groups_are_judged_on_boschloo_large_ones_on_fisher():
    small = compare_proportions(Proportion(18, 47), Proportion(10, 35))
    assert small.test == BOSCHLOO and small.p_value == small.p_boschloo and small.test_name == "Boschloo's exact test"
    # Boschloo over a million respondents would need terabytes: Fisher's exact test, in milliseconds
    large = compare_proportions(Proportion(300_000, 753_739), Proportion(100_000, 225_994))
    assert large.test == FISHER and math.isnan(large.p_boschloo) and large.p_value == large.p_fisher
    assert large.test_name == "Fisher's exact test" and large.significant
    edge = int(math.sqrt(BOSCHLOO_MAX_CELLS)) - 1
    assert compare_proportions(Proportion(1, edge), Proportion(1, edge)).test == BOSCHLOO
    assert compare_proportions(Proportion(1, edge + 1), Proportion(1, edge + 1)).test == FISHER


def test_the_test_can_be_chosen():
    forced = compare_proportions(Proportion(40, 300), Proportion(60, 300), boschloo=True)
    assert forced.test == BOSCHLOO and not math.isnan(forced.p_boschloo)
    skipped = compare_proportions(Proportion(4, 30), Proportion(6, 30), boschloo=False)
    assert skipped.test == FISHER and math.isnan(skipped.p_boschloo)
