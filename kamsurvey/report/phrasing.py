"""Numbers into the words the article uses, so that the words follow the data.

Every number in the book's prose is computed from the wave; the words around it
must be computed too, or a new wave leaves "nearly 60%" beside 71%. These are pure
functions: Python numbers (numpy and pandas scalars are accepted and converted) in,
Python `str` out. A missing value (None, NaN, pandas NA) becomes "n/a".

Rounding is half away from zero on the decimal value (0.125 -> "13%", 0.145 -> "15%"),
not Python's round-half-to-even and not on the binary float (0.145 is stored as
0.14499999..., and `f"{0.145:.0%}"` prints "14%"). A share computed as count/base is
read through its shortest repr, which is exact for every share of a whole-number
base met in practice; pass a `fractions.Fraction(count, base)` to be exact always.

Vocabulary (from the 2022 article: "nearly 60%", "a further 16%", "three quarters",
"about a third", "a quarter", "half", "a few (<5%)", "two thirds",
"nearly three-quarters", "virtually none", "few"):

- `share_words` -- fraction words ("a third", "nearly three quarters", "most");
- `approx_percent` -- percentage words ("nearly 60%", "about 20%", "under 5%");
- `percent`, `count_of`, `mean_words`, `points` -- the exact figures;
- `compare_words`, `direction_words` -- one group against another, with the
  chance caveat when the difference is not significant;
- `number_words`, `ordinal`, `list_words`, `capitalise`, `sentences` -- small prose helpers;
- `quoted`, `share_range`, `count_range`, `unpublished_share`, `unpublished_count` -- a number
  of a reconstructed wave that the article does not pin down, said as the article's own words
  or as its range (never as the reconstruction's value);
- `date_span` -- the house style for dates: "between July and September 2022".

Both word functions decide on the rounded figure the reader sees, so the words can
never contradict a percentage printed next to them: "nearly three quarters (73%)"
is always consistent, and 0.7449 and 0.7451 (74% and 75%) get the same words.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from numbers import Integral
from typing import Any, Iterable

from kamsurvey.analysis.policy import SUPPRESSED_MARK

MISSING = "n/a"

__all__ = [
    "MISSING",
    "Landmark",
    "LANDMARKS",
    "ON_LANDMARK",
    "NEAR_LANDMARK",
    "percent",
    "count_of",
    "share_with_count",
    "whole_percent",
    "share_words",
    "approx_percent",
    "points",
    "direction_words",
    "magnitude_words",
    "compare_words",
    "mean_words",
    "ordinal",
    "number_words",
    "list_words",
    "capitalise",
    "sentences",
    "quoted",
    "share_range",
    "count_range",
    "unpublished_share",
    "unpublished_count",
    "unpublished_mean",
    "date_span",
    "display_count",
    "display_share",
]


# -- numbers ------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if type(value).__name__ in {"NAType", "NaTType"}:  # pandas.NA / pandas.NaT, without importing pandas
        return True
    try:
        return math.isnan(float(value))
    except TypeError:
        return False


def _decimal(value: Any) -> Decimal:
    """The decimal value of a number as written, not of its binary approximation."""
    if isinstance(value, Fraction):
        with localcontext() as context:
            context.prec = 40
            return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, Integral):
        return Decimal(int(value))
    number = float(value)
    if math.isinf(number):
        raise ValueError(f"cannot phrase an infinite value: {value!r}")
    return Decimal(repr(number))


def _round_half_up(value: Decimal, digits: int) -> Decimal:
    rounded = value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded == 0 else rounded  # never "-0%"


def _format(value: Decimal) -> str:
    return format(value, "f")


def percent(share: Any, digits: int = 0) -> str:
    """0.589 -> "59%"; 0.125 -> "13%" (half away from zero); 0.5891, digits=1 -> "58.9%"; NaN -> "n/a"."""
    if _is_missing(share):
        return MISSING
    return _format(_round_half_up(_decimal(share) * 100, digits)) + "%"


def whole_percent(share: Any) -> int:
    """The whole percentage a reader sees for `share` (0.589 -> 59), rounded half away from zero."""
    if _is_missing(share):
        raise ValueError("whole_percent of a missing value")
    return int(_round_half_up(_decimal(share) * 100, 0))


def count_of(count: Any, base: Any) -> str:
    """66, 112 -> "66 of 112" (a missing count or base -> "n/a")."""
    if _is_missing(count) or _is_missing(base):
        return MISSING
    return f"{_whole_number(count)} of {_whole_number(base)}"


def share_with_count(count: Any, base: Any, digits: int = 0) -> str:
    """66, 112 -> "59% (66 of 112)", computed exactly from the counts."""
    if _is_missing(count) or _is_missing(base) or int(base) == 0:
        return MISSING
    return f"{percent(Fraction(_whole_number(count), _whole_number(base)), digits)} ({count_of(count, base)})"


def points(difference: Any, digits: int = 0, *, signed: bool = False) -> str:
    """A difference of two shares in percentage points: 0.09 -> "9 percentage points".

    `signed=True` keeps the sign ("+9 percentage points", "-9 percentage points").
    """
    if _is_missing(difference):
        return MISSING
    value = _round_half_up(_decimal(difference) * 100, digits)
    text = _format(value if signed else value.copy_abs())
    if signed and value > 0:
        text = "+" + text
    unit = "percentage point" if value.copy_abs() == 1 else "percentage points"
    return f"{text} {unit}"


def mean_words(x: Any, digits: int = 1) -> str:
    """3.54 -> "3.5"; 1.25, digits=2 -> "1.25"; rounded half away from zero; NaN -> "n/a"."""
    if _is_missing(x):
        return MISSING
    return _format(_round_half_up(_decimal(x), digits))


# -- shares into words ----------------------------------------------------------


@dataclass(frozen=True)
class Landmark:
    """A fraction the prose names in words: 1/3 -> "a third"."""

    fraction: Fraction
    words: str

    @property
    def percent(self) -> Fraction:
        return self.fraction * 100


LANDMARKS: tuple[Landmark, ...] = (
    Landmark(Fraction(1, 4), "a quarter"),
    Landmark(Fraction(1, 3), "a third"),
    Landmark(Fraction(1, 2), "half"),
    Landmark(Fraction(2, 3), "two thirds"),
    Landmark(Fraction(3, 4), "three quarters"),
)
#: A whole percentage within this many points of a landmark is named by it (74-76% "three quarters").
ON_LANDMARK = Fraction(3, 2)
#: Up to this many points below (above) a landmark: "nearly ..." ("just over ...").
NEAR_LANDMARK = 5


def share_words(share: Any) -> str:
    """Fraction words for a share of respondents, in the article's vocabulary.

    Decided on p, the whole percentage the reader sees (`whole_percent`), except
    that exactly 0 and exactly 1 are "none" and "all":

    ======================  ==========================  ==============================
    p (whole %)             words                       rule
    ======================  ==========================  ==============================
    share == 0              none
    0-2 (share > 0)         virtually none              the article's "virtually none"
    3-4                     a few                       the article's "a few (<5%)"
    5-9                     few                         the article's "the few who ..."
    10-19                   "12%"                       no landmark near: the figure
    20-23                   nearly a quarter            landmark 25 - 5 <= p < 25 - 1.5
    24-26                   a quarter                   |p - 25| <= 1.5
    27-29                   just over a quarter         25 + 1.5 < p <= 25 + 5
    30-31                   nearly a third              landmark 33.3
    32-34                   a third
    35-38                   just over a third
    39-44                   "41%"                       no landmark near: the figure
    45-48                   nearly half
    49-51                   half
    52-55                   just over half
    56-61                   most                        a majority, no landmark near
    62-65                   nearly two thirds           landmark 66.7
    66-68                   two thirds
    69-70                   just over two thirds
    71-73                   nearly three quarters       landmark 75
    74-76                   three quarters
    77-80                   just over three quarters
    81-94                   most
    95-100 (share < 1)      almost all
    share == 1              all
    ======================  ==========================  ==============================

    Landmarks are `LANDMARKS` (1/4, 1/3, 1/2, 2/3, 3/4); a percentage within
    `ON_LANDMARK` (1.5) points of one is named by it, up to `NEAR_LANDMARK` (5) points
    below is "nearly ...", up to 5 above "just over ..."; where two landmarks' bands
    overlap, the nearer landmark wins (29% is 4 from 25 and 4.3 from 33.3: "just over
    a quarter"). The band on a landmark is narrow on purpose: the article's bonus-cash
    figure of 73% is "nearly three-quarters", not "three quarters".

    The words are bare ("a third"): say "about a third" in the sentence where that
    reads better; thirds are never exact with whole respondents unless the base
    divides by three. Every phrase reads after "of respondents"-style nouns:
    "{words} of key account managers". Use `capitalise` at the start of a sentence.
    """
    if _is_missing(share):
        return MISSING
    value = _decimal(share)
    if value < 0 or value > 1:
        raise ValueError(f"a share must lie between 0 and 1, got {share!r}")
    if value == 0:
        return "none"
    if value == 1:
        return "all"
    p = whole_percent(share)
    if p <= 2:
        return "virtually none"
    if p <= 4:
        return "a few"
    if p <= 9:
        return "few"
    if p >= 95:
        return "almost all"
    nearest = min(LANDMARKS, key=lambda landmark: abs(p - landmark.percent))
    gap = p - nearest.percent
    if abs(gap) <= ON_LANDMARK:
        return nearest.words
    if -NEAR_LANDMARK <= gap < 0:
        return f"nearly {nearest.words}"
    if 0 < gap <= NEAR_LANDMARK:
        return f"just over {nearest.words}"
    return "most" if p > 50 else f"{p}%"


def approx_percent(share: Any, *, step: int = 5) -> str:
    """Percentage words, rounded to a multiple of `step`: 0.589 -> "nearly 60%".

    Decided on x, the percentage to one decimal (58.9), and T, the multiple of
    `step` nearest to it (ties up: 57.5 -> 60):

    =========================  =================  =========================
    x                          words              example
    =========================  =================  =========================
    share == 0                 0%
    0 < x < 5                  under 5%           3.6 -> "under 5%"
    x == T                     T%                 80.0 -> "80%"
    T - 2 < x < T              nearly T%          58.9 -> "nearly 60%"
    T < x < T + 2              just over T%       80.4 -> "just over 80%"
    2 <= |x - T| <= step/2     about T%           18.0 -> "about 20%"
    95 < x, share < 1          over 95%           97.3 -> "over 95%"
    share == 1                 100%
    =========================  =================  =========================

    The article's "c. 20%" is "about 20%" here. For `step` other than 5 the
    "nearly"/"just over" band stays at 2 points.
    """
    if _is_missing(share):
        return MISSING
    value = _decimal(share)
    if value < 0 or value > 1:
        raise ValueError(f"a share must lie between 0 and 1, got {share!r}")
    if step <= 0:
        raise ValueError("step must be a positive whole number of percentage points")
    if value == 0:
        return "0%"
    if value == 1:
        return "100%"
    x = _round_half_up(value * 100, 1)
    if x < 5:
        return "under 5%"
    if x > 95:
        return "over 95%"
    target = _round_half_up(x / step, 0) * step
    gap = x - target
    label = f"{_format(target)}%"
    if gap == 0:
        return label
    if abs(gap) < 2:
        return f"nearly {label}" if gap < 0 else f"just over {label}"
    return f"about {label}"


# -- comparisons --------------------------------------------------------------

NOT_SIGNIFICANT_CAVEAT = "though a difference this size is within what chance alone could produce at these sample sizes"
SIGNIFICANT_CAVEAT = "a difference unlikely to arise from chance alone"


def _difference_points(difference: Any) -> int:
    return int(_round_half_up(_decimal(difference) * 100, 0))


def direction_words(difference: Any, *, higher: str = "higher", lower: str = "lower", same: str = "the same") -> str:
    """+0.09 -> "higher"; -0.09 -> "lower"; anything rounding to 0 points -> "the same"."""
    if _is_missing(difference):
        return MISSING
    points_ = _difference_points(difference)
    if points_ == 0:
        return same
    return higher if points_ > 0 else lower


def magnitude_words(difference: Any) -> str:
    """How big a difference of shares is, by whole percentage points of its size.

    ============  ==========
    |points|      words
    ============  ==========
    0             (none: "about the same")
    1-4           slightly
    5-9           a little
    10-19         (bare: "higher")
    20 and over   much
    ============  ==========
    """
    size = abs(_difference_points(difference))
    if size == 0:
        return ""
    if size < 5:
        return "slightly"
    if size < 10:
        return "a little"
    if size < 20:
        return ""
    return "much"


def compare_words(
    difference: Any,
    significant: bool | None,
    *,
    higher: str = "higher",
    lower: str = "lower",
    short: bool = False,
) -> str:
    """One share against another (first minus second), in plain words.

    +0.09, not significant -> "a little higher, though a difference this size is
    within what chance alone could produce at these sample sizes";
    +0.25, significant -> "much higher, a difference unlikely to arise from chance alone";
    0.003 -> "about the same" (no caveat). `short=True`, or `significant=None`, gives
    the words without the caveat ("a little higher"). `higher`/`lower` change the
    comparative ("more common"/"less common"). Magnitudes: see `magnitude_words`.
    Significance is the caller's (e.g. `stats.Comparison.significant`): this
    function only words it.
    """
    if _is_missing(difference):
        return MISSING
    direction = direction_words(difference, higher=higher, lower=lower, same="")
    if not direction:
        return "about the same"
    words = " ".join(part for part in (magnitude_words(difference), direction) if part)
    if short or significant is None:
        return words
    return f"{words}, {SIGNIFICANT_CAVEAT if significant else NOT_SIGNIFICANT_CAVEAT}"


# -- small prose helpers ----------------------------------------------------------

_NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)
_ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def _whole_number(n: Any) -> int:
    if isinstance(n, bool):
        raise TypeError("expected a whole number, got a bool")
    if isinstance(n, Integral):
        return int(n)
    number = float(n)
    if not number.is_integer():
        raise ValueError(f"expected a whole number, got {n!r}")
    return int(number)


def number_words(n: Any) -> str:
    """0-20 in words ("five", "twelve"), digits above twenty ("21") and below zero."""
    value = _whole_number(n)
    if 0 <= value <= 20:
        return _NUMBER_WORDS[value]
    return str(value)


def ordinal(n: Any) -> str:
    """1 -> "first" ... 10 -> "tenth"; then "11th", "12th", "13th", "21st", "22nd", "23rd", "101st"."""
    value = _whole_number(n)
    if value < 0:
        raise ValueError(f"no ordinal for {n!r}")
    if 1 <= value <= 10:
        return _ORDINAL_WORDS[value - 1]
    if value % 100 in (11, 12, 13):
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")
    return f"{value}{suffix}"


def list_words(items: Iterable[Any], *, conjunction: str = "and") -> str:
    """["a"] -> "a"; ["a", "b"] -> "a and b"; ["a", "b", "c"] -> "a, b and c" (no serial comma)."""
    words = [str(item) for item in items]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


_OPENING = "‘“'(\"["


def capitalise(text: str) -> str:
    """First letter upper case, the rest untouched: "nearly 60% say" -> "Nearly 60% say"; "‘most’" -> "‘Most’".

    Opening quotes and brackets are skipped, so that a quotation opening a sentence is capitalised inside.
    """
    start = len(text) - len(text.lstrip(_OPENING))
    return text[:start] + text[start:start + 1].upper() + text[start + 1:]


def sentences(parts: Iterable[str]) -> str:
    """Sentences joined into one paragraph, each capitalised and ending with a full stop (or ? or !).

    Empty parts are dropped, so that a sentence a wave has no number for simply is not there.
    """
    found = []
    for part in parts:
        text = " ".join(str(part).split())
        if not text:
            continue
        text = capitalise(text)
        if not text.endswith((".", "?", "!", ".’", "?’", "!’")):
            text += "."
        found.append(text)
    return " ".join(found)


def unended(text: str) -> str:
    """A paragraph without its last full stop (inside a closing quote too), for the page to end the sentence, with a
    figure reference, say."""
    if text.endswith(".’"):
        return text[:-2] + "’"
    return text[:-1] if text.endswith(".") else text


# -- what the article does not pin down ------------------------------------------------------


#: a quotation inside the words quoted: ‘ … ’ whose closing quote is not an apostrophe (Doesn’t)
_INNER_QUOTE = re.compile(r"‘([^‘]*?)’(?![A-Za-z])")


_PLAIN_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def same_words(words: str, text: str) -> bool:
    """Are `words` in `text`, whatever their quotes, dashes, case and line breaks (the ledger keeps the article's
    typography, a chapter may not)?"""
    def plain(value: str) -> str:
        return " ".join(value.translate(_PLAIN_QUOTES).casefold().split())

    return plain(words) in plain(text)


def quoted(words: str) -> str:
    """The article's own words, in the typographic quotes the book uses for them: ‘nearly 60%’. A quotation inside
    them takes double quotes (‘the response is overwhelmingly “sales”’), so that the quotes still pair up."""
    return "‘" + _INNER_QUOTE.sub(r"“\1”", words) + "’"


def share_range(low: Any, high: Any) -> str:
    """The range of a share any data consistent with the article allows: "any value from 4% to 31%".

    Rounded as every share on the page (`percent`); a range within one rounded figure is "any value
    that rounds to 59%".
    """
    low_text, high_text = percent(low), percent(high)
    if low_text == high_text:
        return f"any value that rounds to {low_text}"
    return f"any value from {low_text} to {high_text}"


def count_range(low: Any, high: Any) -> str:
    """The range of a count: "any number from 1 to 5"."""
    low_n, high_n = _whole_number(low), _whole_number(high)
    if low_n == high_n:
        return f"exactly {low_n}"
    return f"any number from {low_n} to {high_n}"


def unpublished_share(low: Any = None, high: Any = None) -> str:
    """A share the article does not give, as a noun phrase: "a share the article does not publish (any value
    from 0% to 20% fits it)"; without a known range, "a share the article does not publish"."""
    if _is_missing(low) or _is_missing(high):
        return "a share the article does not publish"
    return f"a share the article does not publish ({share_range(low, high)} fits it)"


def unpublished_count(low: Any = None, high: Any = None) -> str:
    """A count the article does not give: "a number the article does not publish (any number from 1 to 5 fits it)"."""
    if _is_missing(low) or _is_missing(high):
        return "a number the article does not publish"
    return f"a number the article does not publish ({count_range(low, high)} fits it)"


def unpublished_mean(low: Any = None, high: Any = None, digits: int = 1) -> str:
    """An average the article does not give: "an average the article does not publish (any value from 3.4 to 3.6 fits it)"."""
    if _is_missing(low) or _is_missing(high):
        return "an average the article does not publish"
    return (f"an average the article does not publish (any value from {mean_words(low, digits)} to "
            f"{mean_words(high, digits)} fits it)")


# -- dates ---------------------------------------------------------------------------------


def date_span(start: Any, end: Any) -> str:
    """The house style for a period of fieldwork: "between July and September 2022", "in July 2022",
    "between November 2022 and January 2023" (months only: the article dates its survey by month)."""
    if (start.year, start.month) == (end.year, end.month):
        return f"in {start:%B %Y}"
    if start.year == end.year:
        return f"between {start:%B} and {end:%B %Y}"
    return f"between {start:%B %Y} and {end:%B %Y}"


# -- cells of a breakdown (small-base policy) -------------------------------------------


def display_count(value: Any, *, suppressed: bool | None = None) -> str:
    """66 -> "66"; a suppressed cell (primary or secondary) -> "[c]".

    `suppressed=None` infers it from a missing value (<NA> after `suppress_breakdown`).
    """
    if suppressed is None:
        suppressed = _is_missing(value)
    if suppressed:
        return SUPPRESSED_MARK
    return str(int(value))


def display_share(value: Any, *, suppressed: bool | None = None, digits: int = 0) -> str:
    """0.589 -> "59%"; a suppressed cell -> "[c]"; an unsuppressed NaN (base 0) -> "n/a".

    Pass `suppressed` from the table's `suppressed` column: a NaN share alone cannot
    tell a suppressed cell from an empty base, so `None` here means "not suppressed".
    """
    if suppressed:
        return SUPPRESSED_MARK
    return percent(value, digits)
