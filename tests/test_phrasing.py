"""Numbers into words: the article's own examples, and the documented rule tables in full."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from kamsurvey.report import phrasing
from kamsurvey.report.phrasing import (
    approx_percent,
    capitalise,
    compare_words,
    count_of,
    direction_words,
    list_words,
    mean_words,
    number_words,
    ordinal,
    percent,
    points,
    share_with_count,
    share_words,
    whole_percent,
)


# -- percent ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "digits", "expected"),
    [
        (0.589, 0, "59%"),
        (66 / 112, 0, "59%"),
        (0.125, 0, "13%"),  # half away from zero, not to even ("12%")
        (0.145, 0, "15%"),  # the float is 0.14499999...; the decimal is 0.145
        (0.135, 0, "14%"),
        (0.005, 0, "1%"),
        (0.0, 0, "0%"),
        (1.0, 0, "100%"),
        (0.5891, 1, "58.9%"),
        (0.12345, 2, "12.35%"),
        (-0.125, 0, "-13%"),
        (-0.001, 0, "0%"),  # never "-0%"
        (Fraction(14, 112), 0, "13%"),
        (Fraction(1, 3), 1, "33.3%"),
    ],
)
def test_percent(share, digits, expected):
    assert percent(share, digits) == expected


@pytest.mark.parametrize("missing", [float("nan"), None, np.nan, pd.NA, np.float64("nan")])
def test_missing_values_are_na(missing):
    assert percent(missing) == "n/a"
    assert share_words(missing) == "n/a"
    assert approx_percent(missing) == "n/a"
    assert mean_words(missing) == "n/a"
    assert compare_words(missing, False) == "n/a"
    assert count_of(missing, 112) == "n/a"


def test_numpy_scalars_give_python_str():
    for value in (np.float64(0.589), np.float32(0.75), np.int64(1)):
        for function in (percent, share_words, approx_percent, mean_words):
            result = function(value)
            assert type(result) is str
    assert percent(np.float64(0.589)) == "59%"
    assert count_of(np.int64(66), np.int64(112)) == "66 of 112"
    assert type(count_of(np.int64(66), np.int64(112))) is str


def test_counts():
    assert count_of(66, 112) == "66 of 112"
    assert count_of(66.0, 112) == "66 of 112"
    assert share_with_count(66, 112) == "59% (66 of 112)"
    assert share_with_count(14, 112) == "13% (14 of 112)"
    assert share_with_count(0, 0) == "n/a"
    with pytest.raises(ValueError):
        count_of(6.5, 112)


def test_whole_percent():
    assert whole_percent(0.589) == 59
    assert whole_percent(0.125) == 13
    assert type(whole_percent(np.float64(0.5))) is int


def test_points():
    assert points(0.09) == "9 percentage points"
    assert points(-0.09) == "9 percentage points"
    assert points(-0.09, signed=True) == "-9 percentage points"
    assert points(0.09, signed=True) == "+9 percentage points"
    assert points(0.01) == "1 percentage point"
    assert points(0.0) == "0 percentage points"


# -- share_words: the article's examples ----------------------------------------------


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (0.75, {"three quarters"}),  # "the performance of three quarters of respondents"
        (0.33, {"a third", "about a third"}),  # "a third still disagree", "about a third"
        (0.50, {"half"}),  # "half agree"
        (0.036, {"a few"}),  # "A few (<5%) are not set any"
        (0.256, {"a quarter"}),  # "A quarter of key account managers"
        (0.732, {"nearly three quarters"}),  # "nearly three-quarters reported bonus cash"
        (0.67, {"two thirds"}),  # "two thirds of respondents say so"
        (0.016, {"virtually none"}),  # "virtually none in pharma"
        (0.02, {"virtually none"}),
        (0.0, {"none"}),
        (1.0, {"all"}),
        (0.07, {"few"}),  # "the few who receive 40%+"
    ],
)
def test_share_words_article_examples(share, expected):
    assert share_words(share) in expected


# The documented table (share_words docstring), percentage by percentage: the contract.
SHARE_WORDS_TABLE = (
    [(1, "virtually none"), (2, "virtually none"), (3, "a few"), (4, "a few")]
    + [(p, "few") for p in range(5, 10)]
    + [(p, f"{p}%") for p in range(10, 20)]
    + [(p, "nearly a quarter") for p in range(20, 24)]
    + [(p, "a quarter") for p in range(24, 27)]
    + [(p, "just over a quarter") for p in range(27, 30)]
    + [(p, "nearly a third") for p in range(30, 32)]
    + [(p, "a third") for p in range(32, 35)]
    + [(p, "just over a third") for p in range(35, 39)]
    + [(p, f"{p}%") for p in range(39, 45)]
    + [(p, "nearly half") for p in range(45, 49)]
    + [(p, "half") for p in range(49, 52)]
    + [(p, "just over half") for p in range(52, 56)]
    + [(p, "most") for p in range(56, 62)]
    + [(p, "nearly two thirds") for p in range(62, 66)]
    + [(p, "two thirds") for p in range(66, 69)]
    + [(p, "just over two thirds") for p in range(69, 71)]
    + [(p, "nearly three quarters") for p in range(71, 74)]
    + [(p, "three quarters") for p in range(74, 77)]
    + [(p, "just over three quarters") for p in range(77, 81)]
    + [(p, "most") for p in range(81, 95)]
    + [(p, "almost all") for p in range(95, 100)]
)


def test_share_words_table_is_complete_and_as_documented():
    assert [p for p, _ in SHARE_WORDS_TABLE] == list(range(1, 100))
    for p, words in SHARE_WORDS_TABLE:
        assert share_words(p / 100) == words, p
        assert share_words(Fraction(p, 100)) == words, p


def test_share_words_follow_the_rounded_percentage():
    # 74.49% and 74.5% print as 74% and 75%: both are "three quarters"; 73.49% prints 73%.
    assert share_words(0.7449) == share_words(0.745) == "three quarters"
    assert share_words(0.7349) == "nearly three quarters"
    # Anything above 0 is not "none", however small; anything short of 1 is not "all".
    assert share_words(0.001) == "virtually none"
    assert share_words(0.999) == "almost all"


def test_share_words_landmark_table_is_the_documented_one():
    assert [(l.fraction, l.words) for l in phrasing.LANDMARKS] == [
        (Fraction(1, 4), "a quarter"),
        (Fraction(1, 3), "a third"),
        (Fraction(1, 2), "half"),
        (Fraction(2, 3), "two thirds"),
        (Fraction(3, 4), "three quarters"),
    ]


@pytest.mark.parametrize("bad", [-0.01, 1.01, 2])
def test_share_words_rejects_non_shares(bad):
    with pytest.raises(ValueError):
        share_words(bad)
    with pytest.raises(ValueError):
        approx_percent(bad)


# -- approx_percent ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (0.589, "nearly 60%"),  # the article's "Nearly 60% say it is sales"
        (66 / 112, "nearly 60%"),
        (0.196, "nearly 20%"),
        (0.18, "about 20%"),  # the article's "c. 20%"
        (0.22, "about 20%"),
        (0.80, "80%"),  # "80% of respondents cite sales"
        (0.8036, "just over 80%"),
        (0.16, "just over 15%"),
        (0.60, "60%"),
        (0.575, "about 60%"),  # 57.5 rounds up to 60
        (0.574, "about 55%"),
        (0.036, "under 5%"),  # "A few (<5%)"
        (0.0001, "under 5%"),
        (0.05, "5%"),
        (0.95, "95%"),
        (0.973, "over 95%"),
        (0.9999, "over 95%"),
        (0.0, "0%"),
        (1.0, "100%"),
    ],
)
def test_approx_percent(share, expected):
    assert approx_percent(share) == expected


def test_approx_percent_every_tenth_of_a_point_is_consistent():
    """Words never contradict the figure: "nearly T" lies below T, "just over T" above, within 2 points."""
    for tenth in range(0, 1001):
        share = Fraction(tenth, 1000)
        words = approx_percent(share)
        x = tenth / 10
        if words.startswith("nearly "):
            target = float(words.removeprefix("nearly ").rstrip("%"))
            assert target - 2 < x < target, (x, words)
        elif words.startswith("just over "):
            target = float(words.removeprefix("just over ").rstrip("%"))
            assert target < x < target + 2, (x, words)
        elif words.startswith("about "):
            target = float(words.removeprefix("about ").rstrip("%"))
            assert 2 <= abs(x - target) <= 2.5, (x, words)
        elif words in ("under 5%", "over 95%"):
            assert (0 < x < 5) or (95 < x < 100), (x, words)
        else:
            assert float(words.rstrip("%")) == x, (x, words)


def test_approx_percent_step_ten():
    assert approx_percent(0.589, step=10) == "nearly 60%"
    assert approx_percent(0.56, step=10) == "about 60%"


# -- comparisons --------------------------------------------------------------------------


def test_compare_words_not_significant_carries_the_chance_caveat():
    assert compare_words(0.09, False) == (
        "a little higher, though a difference this size is within what chance alone "
        "could produce at these sample sizes"
    )


def test_compare_words_significant():
    assert compare_words(-0.25, True) == "much lower, a difference unlikely to arise from chance alone"


@pytest.mark.parametrize(
    ("difference", "expected"),
    [
        (0.0, "about the same"),
        (0.004, "about the same"),
        (0.03, "slightly higher"),
        (-0.03, "slightly lower"),
        (0.05, "a little higher"),
        (0.09, "a little higher"),
        (0.12, "higher"),
        (-0.19, "lower"),
        (0.20, "much higher"),
        (np.float64(-0.31), "much lower"),
    ],
)
def test_compare_words_short(difference, expected):
    assert compare_words(difference, False, short=True) == expected
    assert compare_words(difference, None) == expected


def test_compare_words_same_has_no_caveat_and_custom_comparatives():
    assert compare_words(0.001, False) == "about the same"
    assert compare_words(0.14, False, higher="more common", lower="less common", short=True) == "more common"
    assert compare_words(-0.07, True, higher="more", lower="less").startswith("a little less, ")


def test_direction_words():
    assert direction_words(0.09) == "higher"
    assert direction_words(-0.09) == "lower"
    assert direction_words(0.0) == "the same"
    assert direction_words(-0.004) == "the same"
    assert direction_words(0.2, higher="more", lower="fewer") == "more"


# -- small helpers ---------------------------------------------------------------------------


def test_mean_words():
    assert mean_words(3.54) == "3.5"
    assert mean_words(3.55) == "3.6"  # half away from zero
    assert mean_words(1.25, 2) == "1.25"
    assert mean_words(4) == "4.0"
    assert mean_words(np.float64(3.54)) == "3.5"


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, "first"), (2, "second"), (3, "third"), (5, "fifth"), (10, "tenth"), (11, "11th"), (12, "12th"),
     (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th"), (0, "0th"),
     (np.int64(4), "fourth")],
)
def test_ordinal(n, expected):
    assert ordinal(n) == expected


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, "zero"), (1, "one"), (5, "five"), (12, "twelve"), (20, "twenty"), (21, "21"), (112, "112"),
     (-3, "-3"), (np.int64(4), "four"), (4.0, "four")],
)
def test_number_words(n, expected):
    assert number_words(n) == expected


def test_number_words_rejects_fractions():
    with pytest.raises(ValueError):
        number_words(3.5)


def test_list_words():
    assert list_words([]) == ""
    assert list_words(["a"]) == "a"
    assert list_words(["a", "b"]) == "a and b"
    assert list_words(["a", "b", "c"]) == "a, b and c"
    assert list_words(("sales", "margin", "behaviour", "plan")) == "sales, margin, behaviour and plan"
    assert list_words(["a", "b"], conjunction="or") == "a or b"


def test_capitalise():
    assert capitalise("nearly three quarters") == "Nearly three quarters"
    assert capitalise("a KAM team") == "A KAM team"
    assert capitalise("59% say") == "59% say"
    assert capitalise("") == ""


def test_sentence_from_words_reads_like_the_article():
    share = 82 / 112
    sentence = f"{capitalise(share_words(share))} reported bonus cash ({percent(share)})."
    assert sentence == "Nearly three quarters reported bonus cash (73%)."
    assert not math.isnan(share)


def test_a_quotation_inside_the_article_s_words_takes_double_quotes_and_apostrophes_stay():
    assert phrasing.quoted("the response is overwhelmingly ‘sales’") == "‘the response is overwhelmingly “sales”’"
    assert phrasing.quoted("‘Doesn’t recognise the customer’s point of view’ and more") == (
        "‘“Doesn’t recognise the customer’s point of view” and more’")
