"""Intervals and tests for shares of a small, non-probability sample.

With n = 112 and sectors of 30 to 70, a share printed without its interval
over-claims; every share the book shows carries a 95% Wilson interval, and every
difference between two groups (sectors, waves) its Newcombe interval and an exact test
(Boschloo's while the groups are small enough for it, else Fisher's).
The formulas come from statsmodels and scipy so that none is written by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# scipy and statsmodels are imported where they are used: importing this module (as the Sphinx
# extension does, through the figures) costs nothing then.

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE


@dataclass(frozen=True)
class Proportion:
    """A count out of a base, with its 95% Wilson interval."""

    count: int
    base: int

    @property
    def share(self) -> float:
        return self.count / self.base if self.base else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.count, self.base)


def wilson_interval(count: int, base: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    if base <= 0:
        return (math.nan, math.nan)
    low, high = proportion_confint(int(count), int(base), alpha=ALPHA, method="wilson")
    return (float(low), float(high))


# Boschloo's test builds a table over every pair of possible counts: (n1 + 1) x (n2 + 1) cells.
# Up to this many (about 200 against 200: under half a second) it is used; above, Fisher's.
BOSCHLOO_MAX_CELLS = 40_000
BOSCHLOO = "Boschloo"
FISHER = "Fisher"


@dataclass(frozen=True)
class Comparison:
    """Difference between two independent shares (first minus second)."""

    first: Proportion
    second: Proportion
    difference: float
    interval: tuple[float, float]
    p_fisher: float
    p_boschloo: float
    test: str = BOSCHLOO

    @property
    def p_value(self) -> float:
        """The p-value of the test the comparison is judged on (`test`)."""
        return self.p_boschloo if self.test == BOSCHLOO else self.p_fisher

    @property
    def test_name(self) -> str:
        """"Boschloo's exact test" or "Fisher's exact test", for the text beside the p-value."""
        return f"{self.test}'s exact test"

    @property
    def significant(self) -> bool:
        """Judged on the exact test; the interval is for the size of the difference."""
        return self.p_value < ALPHA


def boschloo_feasible(first_base: int, second_base: int) -> bool:
    return (int(first_base) + 1) * (int(second_base) + 1) <= BOSCHLOO_MAX_CELLS


def compare_proportions(first: Proportion, second: Proportion, *, boschloo: bool | None = None) -> Comparison:
    """Newcombe (hybrid score) interval for the difference, Fisher and Boschloo exact tests.

    Boschloo is uniformly more powerful than Fisher for 2x2 tables, which matters at
    small bases; Fisher is reported too because readers know it. Boschloo's cost grows
    with the product of the bases (0.1 s at 112 against 150, 27 s at 1,000 against 1,000;
    a million respondents would need terabytes), so by default (`boschloo=None`) it is
    computed, and the comparison judged on it, only while the table has at most
    `BOSCHLOO_MAX_CELLS` cells; larger groups are judged on Fisher's exact test (`test`
    says which), where the two tests' p-values are close. `boschloo=False` skips it
    (`p_boschloo` is then NaN), for callers that judge on Fisher; `boschloo=True` forces it.
    """
    if boschloo is None:
        boschloo = boschloo_feasible(first.base, second.base)
    test = BOSCHLOO if boschloo else FISHER
    if first.base <= 0 or second.base <= 0:
        nan = math.nan
        return Comparison(first, second, nan, (nan, nan), nan, nan, test)
    from scipy import stats as scipy_stats
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(
        first.count, first.base, second.count, second.base, method="newcomb", compare="diff", alpha=ALPHA
    )
    table = [[first.count, first.base - first.count], [second.count, second.base - second.count]]
    p_fisher = float(scipy_stats.fisher_exact(table).pvalue)
    p_boschloo = float(scipy_stats.boschloo_exact(table, alternative="two-sided").pvalue) if boschloo else math.nan
    return Comparison(
        first=first,
        second=second,
        difference=first.share - second.share,
        interval=(float(low), float(high)),
        p_fisher=p_fisher,
        p_boschloo=p_boschloo,
        test=test,
    )
