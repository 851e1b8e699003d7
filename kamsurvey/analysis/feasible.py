"""What the article pins down: the range of every number the book shows from a reconstructed wave.

A reconstructed wave (provenance `reconstructed`, e.g. 2022) is one dataset among very many that satisfy the
article. A number the book shows from it is the article's only if every such dataset gives it (up to the
article's own rounding); otherwise it is a choice of the reconstruction, and the honest statement is its range.
For every quantity the book shows (each option's count and share, whole sample and per sector; shares of
mentions; means; group shares; ranks; every share a sentence quotes) this module finds the smallest and largest
value over *all* respondent-level data that satisfy the claims ledger (`data/claims/<wave>.yml`: every statement
of the article as a measure with an allowed range) and the codebook's rules, by integer programming
(`scipy.optimize.milp`, HiGHS), minimising and then maximising the quantity. It never reads the counts the
reconstruction chose (its targets, sector split, mix count or ticks per respondent): they would pin everything.

Formulation
    Respondents are exchangeable: the claims speak of counts (overall or within a sector), and one respondent's
    answers to different questions are tied only by the codebook (`answer_among`, `asked_of`, `rules`). So the
    program's variables are counts per sector (`CountModel`), not one 0/1 variable per respondent and option
    (`RespondentModel`, the literal formulation, kept for cross-checks):
      - sector sizes, free, summing to the article's n (the ledger's `respondents` claim);
      - a single question: one count per option, summing to those asked (`asked_of`: those who ticked the option);
      - `answer_among` (most_important among the assessment_basis ticks): each count at most the source option's;
      - a multi question: one count per option; the exclusive option's count z; every other count at most
        (asked - z) and their sum at least (asked - z), since everybody else ticks at least one;
      - a multi question of which a group share (any of several options) or `share_from_every_group` is wanted:
        one count per answer pattern instead (64 patterns for targets_set);
      - a rule "A forbids B": count(A) + count(B) at most the sector size.
    It is exact: a dataset's counts satisfy it, and `witness` builds, from any solution, a dataset with those
    counts that the validator accepts and on which `kamsurvey.analysis.claims` finds every claim holds (tests).
    Claims become linear constraints with integer coefficients (a share bound p/q: q*count - p*base >= 0, a strict
    bound >= 1). Every claim's base must be at least 1 (else `claims` says "cannot compute", not "holds").
    Ranks are competition ranks, as `claims` counts them: "ranks 1..k are these k options" is each of them
    strictly above every other option (linear); "not in the top k" is at least k options strictly above it; a
    rank as a quantity is 1 + one binary per other option. A comparison of two sectors' shares, both bases
    unknown, is bilinear: products are linearised exactly (one factor in binary, McCormick on each bit). A share
    whose base varies (within a sector, of mentions, of those asked) is a ratio, optimised exactly by
    Dinkelbach's method (each step an integer program with integer coefficients).

Decomposition
    Questions the codebook does not tie (`blocks`) share nothing but the sector sizes. So the sizes every block
    allows are found first (`feasible_sizes`), and each block is then solved on its own with the sizes
    restricted to those. A block no claim splits by sector allows every split of its respondents: its
    whole-sample quantities are solved without sectors at all. The ranges are those of the one program with all
    questions (the tests re-solve a sample that way, and with one variable per respondent and option).

Classification (`classify`)
    published: the range is a single value, or lies within the rounding of a figure the article prints (a claim
    about this very quantity whose allowed range is a printed figure plus or minus half its last digit, e.g.
    "16%" as 15.5%-16.5%; "about a third" is no printed figure). Anything else is reconstructed, with its range.

Measured on the 2 cores of the build machine (`kam reconstruct` prints it): the 576 ranges of the 2022 wave take
about 1,860 integer programs, 45 to 75 seconds (45-75 ms a program, in two worker processes). One program of
counts for all questions takes 0.2-1 s a solve (the sector comparisons' products make every solve slower); one
variable per respondent and option (9,751 variables), 10-50 s a solve.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import yaml
from scipy.optimize import Bounds, milp

from kamsurvey.analysis.claims import Claim, load_claims
from kamsurvey.data.codebook import Codebook, Question, load_codebook
from kamsurvey.data.reconstruction import Program

RANGES_FILE = "ranges.yml"
SPLIT = "sector"  # the one question a claim or quantity may restrict to (within: {sector: pharma})
WHOLE = "*"  # the one group of an unsplit program

PUBLISHED = "published"
RECONSTRUCTED = "reconstructed"
CLASSES = (PUBLISHED, RECONSTRUCTED)

COUNT = "count"
SHARE = "share_of_respondents"
MENTION_SHARE = "share_of_mentions"
MENTIONS = "mentions"
MEAN = "mean_choices"
EVERY_GROUP = "share_from_every_group"
RANK = "rank"
QUANTITY_MEASURES = (COUNT, SHARE, MENTION_SHARE, MENTIONS, MEAN, EVERY_GROUP, RANK)
RATIO_MEASURES = (SHARE, MENTION_SHARE, MEAN, EVERY_GROUP)
DINKELBACH_GAP = 0.5  # relative gap of Dinkelbach's intermediate steps (the last one is exact)
CHUNK = 8  # quantities per unit of work shared among the worker processes
MAX_PATTERNS = 256  # a multi question is modelled by answer patterns only up to this many (8 options)

ASSUMPTIONS = (
    "No item non-response: every respondent answers every question put to them (the article's shares are read "
    "as shares of its 112 respondents, or of those asked, and its averages as per respondent); so every "
    "respondent gives a sector, pharma or other.",
    "The answer options are the codebook's, including those it marks reconstructed (e.g. 'No downsides', "
    "'The company's overall financial results'); an option the article does not name may have any count, zero "
    "included, that keeps every statement true.",
    "The article's words mean what the claims ledger's allowed ranges say (its conventions: '16%' is 15.5%-16.5%, "
    "'about a third' 30%-37%, 'nearly 60%' 55% up to 60%, ...); a quantity's range is only as tight as those readings.",
)


class FeasibleError(ValueError):
    """The ledger, the codebook or the ranges file asks for something this module cannot model or read."""


# --------------------------------------------------------------------------------------------- quantities


def _within_items(within: Mapping[str, str] | Sequence[tuple[str, str]] | None) -> tuple[tuple[str, str], ...]:
    items = within.items() if isinstance(within, Mapping) else (within or ())
    return tuple(sorted((str(q), str(o)) for q, o in items))


@dataclass(frozen=True)
class Quantity:
    """One number the book shows: a measure of a question, for some options (or groups), in a subset.

    `codes` are option codes in codebook order (group names for share_from_every_group); `rank` of several
    codes is the best (smallest) competition rank among them.
    """

    measure: str
    question: str
    codes: tuple[str, ...] = ()
    within: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        text = f"{self.measure}:{self.question}"
        if self.codes:
            text += ":" + "+".join(self.codes)
        if self.within:
            text += "@" + ",".join(f"{q}={o}" for q, o in self.within)
        return text

    @property
    def sector(self) -> str | None:
        return dict(self.within).get(SPLIT)

    def lookup(self) -> tuple:
        return (self.measure, self.question, frozenset(self.codes), self.within)


def _in_order(question: Question, codes: Iterable[str]) -> tuple[str, ...]:
    wanted = set(codes)
    unknown = wanted - set(question.codes())
    if unknown:
        raise FeasibleError(f"question {question.id!r} has no option(s) {', '.join(sorted(unknown))}")
    return tuple(c for c in question.codes() if c in wanted)


def claim_codes(claim: Claim, question: Question, wave: str | None, selectors: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """The options a claim (or its `versus`) names, as `claims` resolves options / options_except / group."""
    selectors = selectors if selectors is not None else {"options": claim.options, "options_except": claim.options_except,
                                                         "group": claim.group}
    if selectors.get("options_except") is not None:
        excluded = set(selectors["options_except"])
        return tuple(c for c in question.substantive_codes(wave) if c not in excluded)
    if selectors.get("group") is not None:
        return tuple(c for c in question.codes_in_group(selectors["group"]) if c in question.codes(wave))
    return _in_order(question, selectors.get("options") or ())


def ranked_codes(question: Question, wave: str | None) -> list[str]:
    """The options a ranking compares, as `claims` ranks them: a multi question's answers, a single question's options."""
    return question.substantive_codes(wave) if question.is_multi else question.codes(wave)


def stated_quantities(claim: Claim, codebook: Codebook, wave: str | None) -> list[Quantity]:
    """The quantities whose value the claim's words are about (its `published_by` links)."""
    if claim.question is None:
        return []
    question = codebook[claim.question]
    within = _within_items(claim.within)
    measure = claim.measure
    if measure == "share_of_respondents":
        codes = claim_codes(claim, question, wave)
        found = [Quantity(SHARE, question.id, codes, within)]
        return found + ([Quantity(COUNT, question.id, codes, within)] if len(codes) == 1 else [])
    if measure == "share_of_mentions":
        return [Quantity(MENTION_SHARE, question.id, claim_codes(claim, question, wave), within)]
    if measure == "mean_choices":
        return [Quantity(MEAN, question.id, (), within), Quantity(MENTIONS, question.id, (), within)]
    if measure == "share_from_every_group":
        return [Quantity(EVERY_GROUP, question.id, tuple(claim.groups or ()), within)]
    if measure == "rank":
        return [Quantity(RANK, question.id, (c,), within) for c in claim.allowed.options or ()]
    if measure == "not_in_top":
        codes = claim_codes(claim, question, wave)
        found = [Quantity(RANK, question.id, (c,), within) for c in codes]
        return found + ([Quantity(RANK, question.id, codes, within)] if len(codes) > 1 else [])
    if measure == "all_in_group":
        inside = set(question.codes_in_group(claim.group or ""))
        return [Quantity(RANK, question.id, (c,), within) for c in ranked_codes(question, wave) if c not in inside]
    if measure == "share_difference":
        versus = dict(claim.versus or {})
        first = claim_codes(claim, question, wave)
        second = claim_codes(claim, question, wave, versus) if any(versus.get(k) is not None for k in ("options", "options_except", "group")) else first
        other_within = _within_items(versus.get("within", claim.within))
        found = [Quantity(SHARE, question.id, first, within), Quantity(SHARE, question.id, second, other_within)]
        if versus.get("options_except") is not None and set(versus["options_except"]) == set(first) and len(first) == 1:
            found.append(Quantity(RANK, question.id, first, within))  # ahead of all the others together: first
        return found
    return []


def book_quantities(codebook: Codebook, claims: Sequence[Claim], wave: str | None) -> list[Quantity]:
    """Every quantity the book shows from a wave, sorted by key.

    Option tables (count and share of respondents of every option, whole sample and per sector), the codebook's
    groups of each question (shares the chapters quote, e.g. the financial group of most_important; of a multi
    question only where its answer patterns are few), shares of mentions, mentions and means of multi
    questions, the rank of every option, and every quantity a claim states (the sets the chapters quote: "the
    rest" of assessment_basis, the "others" of should_include, the best rank of the financial group, ...).
    """
    split = codebook[SPLIT]
    found: dict[str, Quantity] = {}

    def add(quantity: Quantity) -> None:
        found[quantity.key] = quantity

    for question in codebook:
        subsets = [()] if question.id == SPLIT else [()] + [((SPLIT, code),) for code in split.codes(wave)]
        groups = _groups(question, wave)
        for within in subsets:
            for code in question.codes(wave):
                add(Quantity(COUNT, question.id, (code,), within))
                add(Quantity(SHARE, question.id, (code,), within))
            for codes in groups.values():
                if not question.is_multi or _patterns_possible(codebook, question, wave):
                    add(Quantity(SHARE, question.id, codes, within))
        if question.is_multi:
            add(Quantity(MENTIONS, question.id))
            add(Quantity(MEAN, question.id))
            for code in question.substantive_codes(wave):
                add(Quantity(MENTION_SHARE, question.id, (code,)))
        if question.id != SPLIT and question.type != "likert":
            ranked = ranked_codes(question, wave)
            for code in ranked:
                add(Quantity(RANK, question.id, (code,)))
    for claim in claims:
        for quantity in stated_quantities(claim, codebook, wave):
            add(quantity)
    return [found[key] for key in sorted(found)]


def _groups(question: Question, wave: str | None) -> dict[str, tuple[str, ...]]:
    """The question's codebook groups of two or more options (a group of one is that option)."""
    groups: dict[str, list[str]] = {}
    for option in question.options:
        if option.group and option.offered_in(wave):
            groups.setdefault(option.group, []).append(option.code)
    return {name: tuple(codes) for name, codes in groups.items() if len(codes) > 1}


def _patterns_possible(codebook: Codebook, question: Question, wave: str | None) -> bool:
    """A multi question can be modelled by answer patterns unless another question's answer must be among its ticks."""
    if any(q.answer_among == question.id for q in codebook):
        return False
    return 2 ** len(question.substantive_codes(wave)) <= MAX_PATTERNS


# --------------------------------------------------------------------------------------------- linear algebra


@dataclass(frozen=True)
class Linear:
    """A linear expression over the program's variables (keys) with rational coefficients."""

    terms: Mapping[tuple, Fraction] = field(default_factory=dict)
    constant: Fraction = Fraction(0)

    @staticmethod
    def of(key: tuple, coef: int | Fraction = 1) -> "Linear":
        return Linear({key: Fraction(coef)})

    @staticmethod
    def const(value: int | Fraction) -> "Linear":
        return Linear({}, Fraction(value))

    @staticmethod
    def total(parts: Iterable["Linear"]) -> "Linear":
        terms: dict[tuple, Fraction] = {}
        constant = Fraction(0)
        for part in parts:
            for key, coef in part.terms.items():
                terms[key] = terms.get(key, Fraction(0)) + coef
            constant += part.constant
        return Linear({k: v for k, v in terms.items() if v != 0}, constant)

    def __add__(self, other: "Linear") -> "Linear":
        return Linear.total((self, other))

    def __sub__(self, other: "Linear") -> "Linear":
        return Linear.total((self, other * -1))

    def __mul__(self, factor: int | Fraction) -> "Linear":
        factor = Fraction(factor)
        return Linear({k: v * factor for k, v in self.terms.items() if v * factor != 0}, self.constant * factor)

    @property
    def is_constant(self) -> bool:
        return not self.terms

    def signature(self) -> tuple:
        return (tuple(sorted(self.terms.items())), self.constant)

    def value(self, solution: Mapping[tuple, int]) -> Fraction:
        return sum((coef * solution[key] for key, coef in self.terms.items()), self.constant)

    @property
    def scale(self) -> int:
        """The least common denominator of the coefficients and the constant."""
        return math.lcm(*[c.denominator for c in self.terms.values()], self.constant.denominator)

    def integral(self) -> "Linear":
        """The same inequality with integer coefficients (times `scale`, a positive number)."""
        return self * self.scale


# --------------------------------------------------------------------------------------------- the program


class Model:
    """The integer program of a wave's claims and codebook rules; subclasses say how counts are expressed.

    Both formulations give the same linear expressions (`count`, `base`, `mentions`, `every_group`) to the
    claims encoder, the rank and product helpers and the objectives, so they differ only in how a count is made.
    """

    def __init__(self, codebook: Codebook, wave: str | None, n: int) -> None:
        self.codebook = codebook
        self.wave = wave
        self.n = n
        self.split = codebook[SPLIT]
        self.sectors = self.split.codes(wave)
        self.is_split = True
        self.program = Program()
        self._fresh = itertools.count()
        self._ranks: dict[tuple, Linear] = {}
        self._tops: dict[tuple, dict[str, Linear]] = {}
        self._products: dict[tuple, Linear] = {}
        self._bits: dict[tuple, list[Linear]] = {}
        self._constraints = None

    # -- building blocks
    def variable(self, key: tuple, high: int, low: int = 0) -> Linear:
        """A new integer variable in [low, high]."""
        if key in self.program.index:
            raise FeasibleError(f"variable {key} defined twice")
        self.program.var(key, low=low, high=high)
        self._constraints = None
        return Linear.of(key)

    def fresh(self, name: str, high: int, low: int = 0) -> Linear:
        return self.variable(("aux", name, next(self._fresh)), high, low)

    def require(self, expression: Linear, low: int | Fraction | None = None, high: int | Fraction | None = None) -> None:
        """low <= expression <= high (either may be None)."""
        if expression.is_constant:
            value = expression.constant
            if (low is not None and value < low) or (high is not None and value > high):
                raise FeasibleError(f"a constraint on a constant cannot hold: {value} not in [{low}, {high}]")
            return
        lo = -np.inf if low is None else float(low - expression.constant)
        hi = np.inf if high is None else float(high - expression.constant)
        self.program.add({k: float(v) for k, v in expression.terms.items()}, lo, hi)
        self._constraints = None

    def at_least(self, expression: Linear, bound: int = 0) -> None:
        self.require(expression.integral(), low=bound)

    def at_most(self, expression: Linear, bound: int = 0) -> None:
        self.require(expression.integral(), high=bound)

    # -- what subclasses provide
    def count(self, question_id: str, codes: Sequence[str], sector: str | None = None) -> Linear:
        """Respondents (in `sector`, or all) who chose at least one of `codes`."""
        raise NotImplementedError

    def every_group(self, question_id: str, groups: Sequence[str], sector: str | None = None) -> Linear:
        raise NotImplementedError

    def size(self, sector: str | None) -> Linear:
        return Linear.const(self.n) if sector is None else self.count(SPLIT, [sector])

    def base(self, question_id: str, sector: str | None = None) -> Linear:
        """Respondents who answered: everyone asked (no item non-response)."""
        question = self.codebook[question_id]
        if question.asked_of is None:
            return self.size(sector)
        return self.count(question.asked_of.question, [question.asked_of.option], sector)

    def mentions(self, question_id: str, sector: str | None = None) -> Linear:
        question = self.codebook[question_id]
        return Linear.total(self.count(question_id, [c], sector) for c in question.substantive_codes(self.wave))

    # -- ranks and products
    def rank(self, question_id: str, code: str, sector: str | None = None) -> Linear:
        """Competition rank of one option, exactly: 1 + one binary per other option, 1 iff its count is larger."""
        key = (question_id, code, sector)
        if key not in self._ranks:
            counts = {c: self.count(question_id, [c], sector) for c in ranked_codes(self.codebook[question_id], self.wave)}
            big = self.n + 1
            larger = []
            for other in counts:
                if other == code:
                    continue
                flag = self.variable(("larger", question_id, sector, code, other), 1)
                difference = counts[other] - counts[code]
                self.require(difference - flag * big, high=0)  # a larger count forces 1
                self.require(difference + (Linear.const(1) - flag) * big, low=1)  # 1 forces a larger count
                larger.append(flag)
            self._ranks[key] = Linear.const(1) + Linear.total(larger)
        return self._ranks[key]

    def ranks(self, question_id: str, sector: str | None = None) -> dict[str, Linear]:
        return {c: self.rank(question_id, c, sector) for c in ranked_codes(self.codebook[question_id], self.wave)}

    def below_top(self, question_id: str, code: str, k: int, sector: str | None = None) -> None:
        """The option's rank is above k: at least k options have strictly larger counts (binaries one way only)."""
        counts = {c: self.count(question_id, [c], sector) for c in ranked_codes(self.codebook[question_id], self.wave)}
        big = self.n + 1
        flags = []
        for other in counts:
            if other == code:
                continue
            flag = self.fresh("above", 1)
            self.require(counts[other] - counts[code] + (Linear.const(1) - flag) * big, low=1)
            flags.append(flag)
        self.require(Linear.total(flags), low=k)

    def in_top(self, question_id: str, k: int, sector: str | None = None) -> dict[str, Linear]:
        """1 iff the option's rank is at most k."""
        key = (question_id, sector, k)
        if key in self._tops:
            return self._tops[key]
        ranks = self.ranks(question_id, sector)
        big = len(ranks) + 1
        flags = {}
        for code, rank in ranks.items():
            flag = self.variable(("top", question_id, sector, k, code), 1)
            self.require(rank + flag * big, high=k + big)  # flag = 1 forces rank <= k
            self.require(rank + flag * big, low=k + 1)  # flag = 0 forces rank >= k + 1
            flags[code] = flag
        self._tops[key] = flags
        return flags

    def product(self, left: Linear, right: Linear, left_high: int, right_high: int) -> Linear:
        """left * right, both integer and non-negative: `right` in binary, each bit times `left` exactly (McCormick)."""
        key = (left.signature(), right.signature())
        if key in self._products:
            return self._products[key]
        if right.signature() not in self._bits:
            bits = [self.variable(("bit", len(self._bits), k), 1) for k in range(max(1, right_high.bit_length()))]
            self.require(right - Linear.total(bit * (2 ** k) for k, bit in enumerate(bits)), 0, 0)
            self._bits[right.signature()] = bits
        parts = []
        for k, bit in enumerate(self._bits[right.signature()]):
            part = self.fresh("product", left_high)
            self.require(part - bit * left_high, high=0)
            self.require(part - left, high=0)
            self.require(part - left + (Linear.const(1) - bit) * left_high, low=0)
            parts.append(part * (2 ** k))
        self._products[key] = Linear.total(parts)
        return self._products[key]

    # -- solving
    def solve(self, objective: Linear, maximise: bool, gap: float = 0.0) -> tuple[Fraction, dict[tuple, int], float]:
        """The optimum of `objective` (exact; within a relative `gap` of it if asked), a solution attaining it, and
        the bound the solver proved (no solution is better than it)."""
        result = self._milp(objective, maximise, gap=gap)
        if result.status != 0 or result.x is None:
            raise FeasibleError(f"no data satisfies the claims and the codebook: {result.message}")
        value, solution = self._exact(objective, result.x)
        dual = getattr(result, "mip_dual_bound", None)  # of the scaled objective without its constant, minimised
        if dual is None or not np.isfinite(dual):
            return value, solution, float(value)
        return value, solution, (-dual if maximise else dual) / objective.scale + float(objective.constant)

    def feasible_with(self, fixed: Mapping[tuple, int]) -> bool:
        """Whether some data satisfies the program with these variables fixed (the first solution found will do)."""
        result = self._milp(Linear(), True, fixed)
        if result.status not in (0, 2):  # 2: infeasible
            raise FeasibleError(f"the solver stopped without an answer: {result.message}")
        return result.status == 0

    def _milp(self, objective: Linear, maximise: bool, fixed: Mapping[tuple, int] | None = None, gap: float = 0.0):
        if self._constraints is None:
            self._constraints = self.program.constraints()
        costs = np.zeros(len(self.program.cost))
        for key, coef in objective.integral().terms.items():
            costs[self.program.index[key]] = float(coef)
        lower = np.asarray(self.program.lower, dtype=float)
        upper = np.asarray(self.program.upper, dtype=float)
        for key, value in (fixed or {}).items():
            lower[self.program.index[key]] = upper[self.program.index[key]] = value
        return milp(
            c=-costs if maximise else costs,
            constraints=self._constraints,
            integrality=np.asarray(self.program.integer),
            bounds=Bounds(lower, upper),
            options={"mip_rel_gap": gap, "presolve": True},
        )

    def _exact(self, objective: Linear, x: np.ndarray) -> tuple[Fraction, dict[tuple, int]]:
        keys = list(self.program.index)
        rounded = np.rint(x)
        if np.max(np.abs(rounded - x), initial=0) > 1e-6:
            raise FeasibleError("the solver returned a solution that is not integral")
        solution = {key: int(rounded[i]) for i, key in enumerate(keys)}
        return objective.value(solution), solution


class CountModel(Model):
    """Counts per sector: exact because respondents are exchangeable (see the module's docstring)."""

    def __init__(self, codebook: Codebook, wave: str | None, n: int, patterns: Iterable[str] = (), *,
                 questions: Iterable[str] | None = None, sizes: Sequence[int] | None = None, split: bool = True) -> None:
        super().__init__(codebook, wave, n)
        self.is_split = split
        if not split:  # one group of all respondents: for whole-sample quantities of questions no claim splits
            self.sectors = [WHOLE]
        self.questions = [q.id for q in codebook if q.id != SPLIT and (questions is None or q.id in set(questions))]
        self.patterns: dict[str, list[frozenset[str]]] = {}
        for question_id in sorted(set(patterns) & set(self.questions)):
            question = codebook[question_id]
            if not question.is_multi or not _patterns_possible(codebook, question, wave):
                raise FeasibleError(f"{question_id}: a group share needs its answer patterns, which cannot be modelled "
                                    "(a single question, too many options, or another question's answer is among its ticks)")
            substantive = question.substantive_codes(wave)
            self.patterns[question_id] = [frozenset(c for c, bit in zip(substantive, bits) if bit)
                                          for bits in itertools.product((0, 1), repeat=len(substantive)) if any(bits)]
            self.patterns[question_id] += [frozenset([code]) for code in question.exclusive_codes() if code in question.codes(wave)]
        self._check_supported()
        for sector in self.sectors:
            self.variable(("size", sector), n)
        self.require(Linear.total(Linear.of(("size", s)) for s in self.sectors), n, n)
        if sizes is not None:  # the first sector's sizes that the rest of the program allows
            self._restrict(("size", self.sectors[0]), sorted(set(sizes)))
        for question_id in self.questions:
            for sector in self.sectors:
                self._question(codebook[question_id], sector)
        for rule in codebook.rules:
            if rule.if_.question not in self.questions:
                continue
            for sector in self.sectors:
                together = self.count(rule.if_.question, [rule.if_.option], sector) + \
                    self.count(rule.forbids.question, [rule.forbids.option], sector)
                self.require(together - self.size(sector), high=0)

    def _restrict(self, key: tuple, values: Sequence[int]) -> None:
        """The variable takes one of `values`: bounds if they are consecutive, else one flag per value."""
        if not values:
            raise FeasibleError(f"no value is left for {key}")
        self.program.lower[self.program.index[key]] = values[0]
        self.program.upper[self.program.index[key]] = values[-1]
        if values[-1] - values[0] + 1 == len(values):
            return
        flags = [self.variable(("is", key, v), 1) for v in values]
        self.require(Linear.total(flags), 1, 1)
        self.require(Linear.of(key) - Linear.total(flag * v for v, flag in zip(values, flags)), 0, 0)

    def _check_supported(self) -> None:
        """The structures this formulation (and `witness`) is proven exact for; anything else is refused."""
        codebook = self.codebook
        for question in codebook:
            if question.id == SPLIT:
                continue
            if question.asked_of is not None and (question.is_multi or not codebook[question.asked_of.question].is_multi
                                                  or question.id in self.patterns):
                raise FeasibleError(f"{question.id}: only a single question asked of a multi question's option is modelled")
            if question.answer_among and (question.is_multi or codebook[question.answer_among].exclusive_codes()
                                          or question.asked_of or codebook[question.answer_among].asked_of):
                raise FeasibleError(f"{question.id}: answer_among is modelled only for a single question among a multi "
                                    "question's ticks, both asked of everyone, with no exclusive option")
            if question.is_multi and len(question.exclusive_codes()) > 1:
                raise FeasibleError(f"{question.id}: at most one exclusive option is modelled")
        fronts = _front_codes(codebook)
        for rule in codebook.rules:
            first, second = codebook[rule.if_.question], codebook[rule.forbids.question]
            if first.is_multi or first.asked_of or second.asked_of or first.answer_among or second.id in self.patterns:
                raise FeasibleError(f"rule {rule.id}: only a single question's answer forbidding a multi question's option is modelled")
        for question_id, codes in fronts.items():
            if len(codes) > 1 or question_id in self.patterns:
                raise FeasibleError(f"{question_id}: at most one option with skip logic or a rule on it is modelled")

    def _question(self, question: Question, sector: str) -> None:
        base = self.base(question.id, sector)
        codes = question.codes(self.wave)
        if question.id in self.patterns:
            cells = [self.variable(("pattern", sector, question.id, _pattern_name(p)), self.n) for p in self.patterns[question.id]]
            self.require(Linear.total(cells) - base, 0, 0)
            return
        counts = {c: self.variable(("count", sector, question.id, c), self.n) for c in codes}
        if not question.is_multi:
            self.require(Linear.total(counts.values()) - base, 0, 0)
            if question.answer_among:
                for code in codes:
                    self.require(counts[code] - self.count(question.answer_among, [code], sector), high=0)
            return
        alone = Linear.total(counts[c] for c in question.exclusive_codes() if c in counts)
        substantive = [counts[c] for c in question.substantive_codes(self.wave)]
        for count in substantive:
            self.require(count + alone - base, high=0)
        self.require(Linear.total(substantive) + alone - base, low=0)

    def count(self, question_id: str, codes: Sequence[str], sector: str | None = None) -> Linear:
        if sector is None:
            return Linear.total(self.count(question_id, codes, s) for s in self.sectors)
        codes = list(codes)
        if question_id == SPLIT:
            return Linear.of(("size", sector)) if sector in codes else Linear.const(0)
        question = self.codebook[question_id]
        if question_id in self.patterns:
            wanted = set(codes)
            return Linear.total(Linear.of(("pattern", sector, question_id, _pattern_name(p)))
                                for p in self.patterns[question_id] if p & wanted)
        substantive = [c for c in codes if c not in question.exclusive_codes()]
        if question.is_multi and len(substantive) > 1:
            raise FeasibleError(f"{question_id}: respondents choosing any of {', '.join(codes)} need its answer patterns")
        return Linear.total(Linear.of(("count", sector, question_id, c)) for c in codes)

    def every_group(self, question_id: str, groups: Sequence[str], sector: str | None = None) -> Linear:
        if sector is None:
            return Linear.total(self.every_group(question_id, groups, s) for s in self.sectors)
        if question_id not in self.patterns:
            raise FeasibleError(f"{question_id}: share_from_every_group needs its answer patterns")
        question = self.codebook[question_id]
        members = [set(question.codes_in_group(g)) for g in groups]
        return Linear.total(Linear.of(("pattern", sector, question_id, _pattern_name(p)))
                            for p in self.patterns[question_id] if all(p & m for m in members))


def _pattern_name(pattern: frozenset[str]) -> str:
    return "+".join(sorted(pattern))


def _front_codes(codebook: Codebook) -> dict[str, set[str]]:
    """Options of multi questions that skip logic or a rule refers to (the witness puts their ticks first)."""
    fronts: dict[str, set[str]] = {}
    for question in codebook:
        if question.asked_of is not None:
            fronts.setdefault(question.asked_of.question, set()).add(question.asked_of.option)
    for rule in codebook.rules:
        fronts.setdefault(rule.forbids.question, set()).add(rule.forbids.option)
    return fronts


class RespondentModel(Model):
    """One 0/1 variable per respondent and option, as the reconstruction has: the literal formulation.

    Sectors are free (the first respondents are pharma, by symmetry); a count within a sector or of several
    options uses per-respondent AND / OR variables. Far slower than `CountModel`; the tests use it to re-solve
    a sample of ranges independently.
    """

    def __init__(self, codebook: Codebook, wave: str | None, n: int) -> None:
        super().__init__(codebook, wave, n)
        self.questions = [q.id for q in codebook if q.id != SPLIT]
        self._derived: dict[tuple, Linear] = {}
        for r in range(n):
            for question in codebook:
                for code in question.codes(wave):
                    self.variable((r, question.id, code), 1)
        first = self.sectors[0]
        for r in range(n):
            for question in codebook:
                self._respondent(r, question)
            for rule in codebook.rules:
                self.require(Linear.of((r, rule.if_.question, rule.if_.option)) + Linear.of((r, rule.forbids.question, rule.forbids.option)), high=1)
            if r + 1 < n:  # exchangeable respondents: the sector's first option comes first
                self.require(Linear.of((r, SPLIT, first)) - Linear.of((r + 1, SPLIT, first)), low=0)

    def _asked(self, r: int, question: Question) -> Linear:
        if question.asked_of is None:
            return Linear.const(1)
        return Linear.of((r, question.asked_of.question, question.asked_of.option))

    def _respondent(self, r: int, question: Question) -> None:
        codes = question.codes(self.wave)
        ticks = Linear.total(Linear.of((r, question.id, c)) for c in codes)
        asked = self._asked(r, question)
        if not question.is_multi:
            self.require(ticks - asked, 0, 0)
        else:
            self.require(ticks - asked, low=0)  # at least one tick if asked
            self.require(ticks - asked * len(codes), high=0)  # none if not asked
            for exclusive in question.exclusive_codes():
                for code in codes:
                    if code != exclusive:
                        self.require(Linear.of((r, question.id, exclusive)) + Linear.of((r, question.id, code)), high=1)
        if question.answer_among:
            for code in codes:
                self.require(Linear.of((r, question.id, code)) - Linear.of((r, question.answer_among, code)), high=0)

    def _chose_any(self, r: int, question_id: str, codes: Sequence[str]) -> Linear:
        if len(codes) == 1 or not self.codebook[question_id].is_multi:
            return Linear.total(Linear.of((r, question_id, c)) for c in codes)
        key = ("any", r, question_id, tuple(codes))
        if key not in self._derived:
            flag = self.variable(key, 1)
            ticks = [Linear.of((r, question_id, c)) for c in codes]
            for tick in ticks:
                self.require(flag - tick, low=0)
            self.require(flag - Linear.total(ticks), high=0)
            self._derived[key] = flag
        return self._derived[key]

    def _and(self, left: Linear, right: Linear, key: tuple) -> Linear:
        if key not in self._derived:
            flag = self.variable(key, 1)
            self.require(flag - left, high=0)
            self.require(flag - right, high=0)
            self.require(flag - left - right, low=-1)
            self._derived[key] = flag
        return self._derived[key]

    def _in_sector(self, r: int, chosen: Linear, sector: str | None, key: tuple) -> Linear:
        if sector is None:
            return chosen
        return self._and(chosen, Linear.of((r, SPLIT, sector)), ("and", r, sector) + key)

    def count(self, question_id: str, codes: Sequence[str], sector: str | None = None) -> Linear:
        codes = list(codes)
        return Linear.total(self._in_sector(r, self._chose_any(r, question_id, codes), sector, (question_id, tuple(codes)))
                            for r in range(self.n))

    def every_group(self, question_id: str, groups: Sequence[str], sector: str | None = None) -> Linear:
        question = self.codebook[question_id]
        parts = []
        for r in range(self.n):
            key = ("every", r, question_id, tuple(groups))
            if key not in self._derived:
                anys = [self._chose_any(r, question_id, question.codes_in_group(g)) for g in groups]
                flag = self.variable(key, 1)
                for one in anys:
                    self.require(flag - one, high=0)
                self.require(flag - Linear.total(anys), low=1 - len(anys))
                self._derived[key] = flag
            parts.append(self._in_sector(r, self._derived[key], sector, ("every", question_id, tuple(groups))))
        return Linear.total(parts)


# --------------------------------------------------------------------------------------------- claims


def sample_size(claims: Sequence[Claim]) -> int:
    """The article's n, from the ledger's `respondents` claim (exactly one value)."""
    for claim in claims:
        if claim.measure == "respondents":
            low, high = claim.allowed.min, claim.allowed.max
            if low is None or low != high or int(low) != low:
                raise FeasibleError(f"claim {claim.id}: the number of respondents must be one whole number")
            return int(low)
    raise FeasibleError("the ledger has no 'respondents' claim: the number of respondents is not known")


def pattern_questions(codebook: Codebook, claims: Sequence[Claim], quantities: Sequence[Quantity], wave: str | None) -> set[str]:
    """Multi questions whose answer patterns are needed: a share of any of several answers, or of every group."""
    needed: set[str] = set()

    def note(question_id: str, codes: Sequence[str], measure: str) -> None:
        question = codebook[question_id]
        if not question.is_multi:
            return
        if measure == EVERY_GROUP or len([c for c in codes if c not in question.exclusive_codes()]) > 1:
            needed.add(question_id)

    for quantity in quantities:
        if quantity.measure in (SHARE, COUNT, EVERY_GROUP):
            note(quantity.question, quantity.codes, quantity.measure)
    for claim in claims:
        for quantity in stated_quantities(claim, codebook, wave):
            if quantity.measure in (SHARE, COUNT, EVERY_GROUP):
                note(quantity.question, quantity.codes, quantity.measure)
    return needed


def _sector_of(within: Mapping[str, str] | None, where: str) -> str | None:
    if not within:
        return None
    if set(within) != {SPLIT}:
        raise FeasibleError(f"{where}: only `within: {{{SPLIT}: ...}}` is modelled, not {dict(within)}")
    return within[SPLIT]


def _bound(model: Model, numerator: Linear, denominator: Linear, allowed, where: str) -> None:
    """numerator / denominator within the claim's allowed range (denominator >= 1), as integer inequalities."""
    model.require(denominator, low=1)
    for key, strict, lower in (("min", False, True), ("min_exclusive", True, True),
                               ("max", False, False), ("max_exclusive", True, False)):
        value = getattr(allowed, key)
        if value is None:
            continue
        bound = Fraction(str(value))
        difference = (numerator * bound.denominator - denominator * bound.numerator)  # sign of value - bound
        if lower:
            model.at_least(difference, 1 if strict else 0)
        else:
            model.at_most(difference, -1 if strict else 0)
    if allowed.equals is not None or allowed.options is not None:
        raise FeasibleError(f"{where}: an exact value or a set of options is not a range")


def encode_claims(model: Model, claims: Sequence[Claim]) -> None:
    """Every claim of the ledger as linear constraints on the model (claims about the file's metadata test no answer)."""
    codebook, wave = model.codebook, model.wave
    for claim in claims:
        where = f"claim {claim.id}"
        if claim.measure in ("respondents", "meta", "question_count"):
            continue  # n is the model's; metadata and the question count constrain no answer
        if claim.question != SPLIT and claim.question not in model.questions:
            continue  # another block's claim
        if claim.question == SPLIT and not model.is_split:
            continue  # sizes of the sectors: no matter to a program without them
        question = codebook[claim.question]
        sector = _sector_of(claim.within, where)
        base = model.base(question.id, sector)
        model.require(base, low=1)
        if claim.measure == "share_of_respondents":
            _bound(model, model.count(question.id, claim_codes(claim, question, wave), sector), base, claim.allowed, where)
        elif claim.measure == "share_of_mentions":
            codes = claim_codes(claim, question, wave)
            chosen = Linear.total(model.count(question.id, [c], sector) for c in codes if c not in question.exclusive_codes())
            _bound(model, chosen, model.mentions(question.id, sector), claim.allowed, where)
        elif claim.measure == "mean_choices":
            _bound(model, model.mentions(question.id, sector), base, claim.allowed, where)
        elif claim.measure == "share_from_every_group":
            _bound(model, model.every_group(question.id, list(claim.groups or ()), sector), base, claim.allowed, where)
        elif claim.measure == "rank":
            _encode_rank(model, claim, question, sector, _ranked_above(claim, claims))
        elif claim.measure in ("not_in_top", "all_in_group"):
            ranked = ranked_codes(question, wave)
            if claim.top > len(ranked):
                raise FeasibleError(f"{where}: {question.id} has fewer than {claim.top} ranked options")
            if claim.measure == "not_in_top":
                chosen = [c for c in ranked if c in claim_codes(claim, question, wave)]
            else:
                chosen = [c for c in ranked if c not in question.codes_in_group(claim.group)]
            if claim.allowed.max is not None and claim.allowed.max < 1 and claim.allowed.min in (None, 0):
                for code in chosen:  # none of them in the top k
                    model.below_top(question.id, code, claim.top, sector)
            else:
                flags = model.in_top(question.id, claim.top, sector)
                _bound(model, Linear.total(flags[c] for c in chosen), Linear.const(1), claim.allowed, where)
        elif claim.measure == "share_difference":
            _encode_difference(model, claim, question, sector, where)
        else:
            raise FeasibleError(f"{where}: measure {claim.measure!r} is not modelled")


def _ranked_above(claim: Claim, claims: Sequence[Claim]) -> set[str] | None:
    """The options other rank claims place at ranks 1..first-1 of the same question, if they cover them all."""
    first = (claim.ranks or (1, 1))[0]
    above: set[str] = set()
    covered = 0
    while covered < first - 1:
        step = [c for c in claims if c.measure == "rank" and c.question == claim.question and c.within == claim.within
                and (c.ranks or (1, 1))[0] == covered + 1 and (c.ranks or (1, 1))[1] <= first - 1]
        if not step:
            return None
        covered = (step[0].ranks or (1, 1))[1]
        above |= set(step[0].allowed.options or ())
    return above


def _encode_rank(model: Model, claim: Claim, question: Question, sector: str | None, above: set[str] | None) -> None:
    """The options at ranks first..last are exactly the allowed ones (ties count, as in `claims`).

    When ranks 1..first-1 are held by named options that other claims set strictly above the rest (`above`;
    none for first = 1), the claim is exactly: every option named here has a strictly larger count than every
    option named by neither (an option tied with a named one would share its rank). Otherwise every rank is
    modelled exactly.
    """
    first, last = claim.ranks or (1, 1)
    ranked = ranked_codes(question, model.wave)
    if last > len(ranked):
        raise FeasibleError(f"claim {claim.id}: {question.id} has only {len(ranked)} ranked options")
    expected = set(claim.allowed.options or ())
    if above is not None:
        for named in expected:
            for other in ranked:
                if other not in expected and other not in above:
                    model.require(model.count(question.id, [named], sector) - model.count(question.id, [other], sector), low=1)
        return
    ranks = model.ranks(question.id, sector)
    big = len(ranks) + 1
    for code, rank in ranks.items():
        if code in expected:
            model.require(rank, first, last)
        else:  # rank < first or rank > last
            above = model.variable(("outside", claim.id, code), 1)  # 1: ranked after `last`
            model.require(rank - above * big, high=first - 1)
            model.require(rank - above * (last + 1), low=0)


def _encode_difference(model: Model, claim: Claim, question: Question, sector: str | None, where: str) -> None:
    """share(first) - share(second) within the allowed range; across sectors the bases differ, so products."""
    versus = dict(claim.versus or {})
    first_codes = claim_codes(claim, question, model.wave)
    has_selector = any(versus.get(k) is not None for k in ("options", "options_except", "group"))
    second_codes = claim_codes(claim, question, model.wave, versus) if has_selector else first_codes
    other_sector = _sector_of(versus.get("within", claim.within), where)
    first, first_base = model.count(question.id, first_codes, sector), model.base(question.id, sector)
    second, second_base = model.count(question.id, second_codes, other_sector), model.base(question.id, other_sector)
    model.require(second_base, low=1)
    if other_sector == sector:  # one base: (first - second) / base
        _bound(model, first - second, first_base, claim.allowed, where)
        return
    n = model.n
    cross = model.product(first, second_base, n, n) - model.product(second, first_base, n, n)  # share difference * bases
    bases = model.product(first_base, second_base, n, n)
    _bound(model, cross, bases, claim.allowed, where)


# --------------------------------------------------------------------------------------------- objectives and ranges


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator (denominator >= 1 on the data that fits), and bounds known without solving."""

    numerator: Linear
    denominator: Linear
    known: tuple[Fraction | None, Fraction | None] = (None, None)


@dataclass(frozen=True)
class Rank:
    """The best (smallest) competition rank among some options of a question."""

    question: str
    codes: tuple[str, ...]
    sector: str | None = None


def objective(model: Model, quantity: Quantity, stating: Sequence[Claim] = ()) -> Linear | Ratio | Rank:
    """The quantity as an expression of the model; `stating` (claims about it) give bounds known beforehand."""
    q, codes, sector = quantity.question, list(quantity.codes), quantity.sector
    question = model.codebook[q]
    known = _known_bounds(quantity, question, stating)
    if quantity.measure == COUNT:
        return model.count(q, codes, sector)
    if quantity.measure == SHARE:
        return Ratio(model.count(q, codes, sector), model.base(q, sector), known)
    if quantity.measure == MENTION_SHARE:
        chosen = Linear.total(model.count(q, [c], sector) for c in codes if c not in question.exclusive_codes())
        return Ratio(chosen, model.mentions(q, sector), known)
    if quantity.measure == MENTIONS:
        return model.mentions(q, sector)
    if quantity.measure == MEAN:
        return Ratio(model.mentions(q, sector), model.base(q, sector), known)
    if quantity.measure == EVERY_GROUP:
        return Ratio(model.every_group(q, codes, sector), model.base(q, sector), known)
    if quantity.measure == RANK:
        return Rank(q, tuple(codes), sector)
    raise FeasibleError(f"measure {quantity.measure!r} is not one of {', '.join(QUANTITY_MEASURES)}")


def _known_bounds(quantity: Quantity, question: Question, stating: Sequence[Claim]) -> tuple[Fraction | None, Fraction | None]:
    """Bounds of a ratio known without solving: a share is in [0, 1], a mean in [0, options]; a claim's own range."""
    low, high = Fraction(0), Fraction(1 if quantity.measure != MEAN else len(question.substantive_codes()))
    for claim in stating:
        if claim.measure == _claim_measure(quantity.measure) and claim.measure in RATIO_MEASURES:
            if claim.allowed.min is not None:
                low = max(low, Fraction(str(claim.allowed.min)))
            if claim.allowed.max is not None:
                high = min(high, Fraction(str(claim.allowed.max)))
    return low, high


class Solver:
    """Minimum and maximum of objectives on one model, each distinct program solved once."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.solves = 0
        self.seconds = 0.0
        self._cache: dict[tuple, Fraction] = {}
        self.witnesses: dict[tuple, dict[tuple, int]] = {}  # (target's signature, maximise): a solution at the extreme

    def _solve(self, expression: Linear, maximise: bool, gap: float = 0.0) -> tuple[Fraction, dict[tuple, int]]:
        value, solution, _ = self._solve_bounded(expression, maximise, gap)
        return value, solution

    def _solve_bounded(self, expression: Linear, maximise: bool, gap: float) -> tuple[Fraction, dict[tuple, int], float]:
        started = time.perf_counter()
        found = self.model.solve(expression, maximise, gap)
        self.seconds += time.perf_counter() - started
        self.solves += 1
        return found

    def extreme(self, target: Linear | Ratio | Rank, maximise: bool) -> Fraction:
        if isinstance(target, Ratio) and target.denominator.is_constant:  # a fixed base: the count's range, scaled
            if target.denominator.constant <= 0:
                raise FeasibleError("a share's base is not positive")
            value = self.extreme(target.numerator, maximise) / target.denominator.constant
            self.witnesses[(_signature(target), maximise)] = self.witnesses[(_signature(target.numerator), maximise)]
            return value
        key = (_signature(target), maximise)
        if key not in self._cache:
            if isinstance(target, Linear):
                value, solution = self._solve(target, maximise)
            elif isinstance(target, Ratio):
                value, solution = self._ratio(target, maximise)
            else:
                value, solution = self._rank(target, maximise)
            self._cache[key] = value
            self.witnesses[key] = solution
        return self._cache[key]

    def _ratio(self, ratio: Ratio, maximise: bool) -> tuple[Fraction, dict[tuple, int]]:
        """Dinkelbach: optimise numerator - lambda * denominator until lambda (a ratio attained) cannot improve.

        Each step needs only some improvement, so it is solved to a loose gap (any solution with a positive
        gain has a better ratio); only the last step, which proves that none is better, is solved exactly. A
        ratio that reaches a bound known beforehand (a share of 1, a claim's maximum) needs no proof.
        """
        _, solution = self._solve(ratio.numerator, maximise, DINKELBACH_GAP)
        limit = ratio.known[1] if maximise else ratio.known[0]
        while True:
            denominator = ratio.denominator.value(solution)
            if denominator < 1:
                raise FeasibleError("its base can be zero on data that fits the article (no claim keeps the subset "
                                    "non-empty), so it has no range")
            attained = ratio.numerator.value(solution) / denominator
            if attained == limit:
                return attained, solution
            parametric = ratio.numerator * attained.denominator - ratio.denominator * attained.numerator
            gain, candidate, bound = self._solve_bounded(parametric, maximise, DINKELBACH_GAP)
            if (gain <= 0) if maximise else (gain >= 0):  # no improvement found: prove there is none
                if (bound < 1 - 1e-6) if maximise else (bound > -1 + 1e-6):  # an integer gain: proven already
                    return attained, solution
                gain, candidate = self._solve(parametric, maximise)
                if (gain <= 0) if maximise else (gain >= 0):
                    return attained, solution
            solution = candidate

    def _rank(self, rank: Rank, maximise: bool) -> tuple[Fraction, dict[tuple, int]]:
        """Best rank of some options: the smallest is the smallest of each one's; the largest needs them all.

        An option whose count every fitting dataset gives the same value v is ranked below exactly the options
        with v + 1 or more: one flag per option, count >= (v + 1) * flag, no big numbers (the general encoding
        is slow there, because the options above it can be chosen in many equivalent ways).
        """
        model = self.model
        if not maximise:
            found = [self._solve(model.rank(rank.question, code, rank.sector), False) for code in rank.codes]
            return min(found, key=lambda pair: pair[0])
        if len(rank.codes) == 1:
            code = rank.codes[0]
            count = model.count(rank.question, [code], rank.sector)
            low, high = self.extreme(count, False), self.extreme(count, True)
            if low == high:
                flags = []
                for other in ranked_codes(model.codebook[rank.question], model.wave):
                    if other != code:
                        flag = model.fresh("above", 1)
                        model.require(model.count(rank.question, [other], rank.sector) - flag * (int(high) + 1), low=0)
                        flags.append(flag)
                return self._solve(Linear.const(1) + Linear.total(flags), True)
            return self._solve(model.rank(rank.question, code, rank.sector), True)
        level = model.fresh("best", model.n + 1)
        for code in rank.codes:
            model.require(level - model.rank(rank.question, code, rank.sector), high=0)
        return self._solve(level, True)


def _signature(target: Linear | Ratio | Rank) -> tuple:
    if isinstance(target, Linear):
        return ("linear", target.signature())
    if isinstance(target, Ratio):
        return ("ratio", target.numerator.signature(), target.denominator.signature())
    return ("rank", target.question, target.codes, target.sector)


# --------------------------------------------------------------------------------------------- classification


def printed_figure(claim: Claim) -> tuple[Fraction, Fraction] | None:
    """The rounding interval of a figure the article prints, if the claim's allowed range is one.

    A printed figure X with its last digit in place u (u a power of ten) allows [X - u/2, X + u/2]: "16%" as
    15.5%-16.5%, "3.5" as 3.45-3.55, "1.25" as 1.245-1.255, "4" as 3.5-4.5. Readings of words ("a third",
    "nearly 60%", "c. 20%") are not of that form.
    """
    allowed = claim.allowed
    low = allowed.min if allowed.min is not None else None
    high = allowed.max if allowed.max is not None else allowed.max_exclusive
    if low is None or high is None or allowed.min_exclusive is not None:
        return None
    low, high = Fraction(str(low)), Fraction(str(high))
    width = high - low
    if width <= 0:
        return None
    exponent = round(math.log10(width))
    unit = Fraction(10) ** exponent
    centre = (low + high) / 2
    if width != unit or (centre / unit).denominator != 1:
        return None
    return low, high


def classify(low: Fraction, high: Fraction, stating: Sequence[Claim], measure: str | None) -> str:
    """published if the range is one value or within the rounding of a figure the article prints for it."""
    if low == high:
        return PUBLISHED
    for claim in stating:
        if claim.measure != measure:
            continue
        figure = printed_figure(claim)
        if figure is not None and figure[0] <= low and high <= figure[1]:
            return PUBLISHED
    return RECONSTRUCTED


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Range:
    """The smallest and largest value of a quantity over all data that fit the article, and its class."""

    quantity: Quantity
    low: Fraction
    high: Fraction
    cls: str
    published_by: tuple[str, ...] = ()

    @property
    def published(self) -> bool:
        return self.cls == PUBLISHED

    @property
    def key(self) -> str:
        return self.quantity.key

    def as_mapping(self) -> dict[str, Any]:
        quantity = self.quantity
        entry: dict[str, Any] = {
            "key": quantity.key,
            "measure": quantity.measure,
            "question": quantity.question,
            "codes": list(quantity.codes),
            "within": dict(quantity.within) or None,
            "low": _number(self.low),
            "high": _number(self.high),
        }
        if self.low.denominator != 1 or self.high.denominator != 1:
            entry["low_exact"] = str(self.low)
            entry["high_exact"] = str(self.high)
        entry["class"] = self.cls
        entry["published_by"] = list(self.published_by)
        return entry


def _number(value: Fraction) -> int | float:
    return int(value) if value.denominator == 1 else round(float(value), 6)


@dataclass
class Report:
    """The ranges, and what solving them took (`kam reconstruct` prints it; the stored file has no timings)."""

    ranges: list[Range]
    programs: int  # integer programs solved, feasibility checks of the sector sizes included
    seconds: float  # in the solver
    blocks: int
    variables: int  # of the largest program


def blocks(codebook: Codebook) -> list[tuple[str, ...]]:
    """Questions tied to one another by the codebook (answer_among, asked_of, rules), in codebook order.

    Claims speak of one question each, so two blocks share nothing but the sector sizes.
    """
    parent = {q.id: q.id for q in codebook if q.id != SPLIT}

    def root(question_id: str) -> str:
        while parent[question_id] != question_id:
            question_id = parent[question_id]
        return question_id

    ties = [(q.id, q.answer_among) for q in codebook if q.answer_among]
    ties += [(q.id, q.asked_of.question) for q in codebook if q.asked_of is not None]
    ties += [(rule.if_.question, rule.forbids.question) for rule in codebook.rules]
    for first, second in ties:
        if first in parent and second in parent:
            parent[root(first)] = root(second)
    grouped: dict[str, list[str]] = {}
    for question_id in parent:
        grouped.setdefault(root(question_id), []).append(question_id)
    return [tuple(ids) for ids in grouped.values()]


def _block_model(codebook: Codebook, claims: Sequence[Claim], wave: str | None, n: int, patterns: set[str],
                 block: Sequence[str], sizes: Sequence[int] | None = None, split: bool = True) -> CountModel:
    model = CountModel(codebook, wave, n, patterns, questions=block, sizes=sizes, split=split)
    encode_claims(model, claims)
    return model


def _compares_sectors(claims: Sequence[Claim], block: Sequence[str]) -> bool:
    """Whether a claim about the block compares two sectors (a product of two unknowns in its program)."""
    return any(c.question in block and c.measure == "share_difference" and (c.versus or {}).get("within") is not None
               and (c.versus or {}).get("within") != c.within for c in claims)


def _splits(claims: Sequence[Claim], block: Sequence[str]) -> bool:
    """Whether a claim about the block's questions (or the sector itself) speaks of a sector.

    A block no claim splits allows every split of its respondents: its whole-sample quantities need no
    sectors, and it allows every sector size for which it has a solution at all.
    """
    return not block or any(c.question in block and bool(c.within or (c.versus or {}).get("within")) for c in claims)


def feasible_sizes(codebook: Codebook, claims: Sequence[Claim], wave: str | None, n: int,
                   patterns: set[str]) -> tuple[list[int], dict[tuple[str, ...], list[int]], int, float]:
    """The first sector's sizes some data allows: those every block allows (blocks share nothing else).

    Returns the sizes, the sizes each block allows on its own (blocks that no claim splits allow all), the
    number of feasibility checks and their seconds.
    """
    started = time.perf_counter()
    checks = 0
    own: dict[tuple[str, ...], list[int]] = {}
    for block in [()] + blocks(codebook):
        if not _splits(claims, block):
            checks += 1
            if not _block_model(codebook, claims, wave, n, patterns, block, split=False).feasible_with({}):
                raise FeasibleError(f"no data satisfies the claims about {', '.join(block)} and the codebook")
            own[block] = list(range(n + 1))
            continue
        model = _block_model(codebook, claims, wave, n, patterns, block)
        key = ("size", model.sectors[0])
        own[block] = [size for size in range(n + 1) if model.feasible_with({key: size})]
        checks += n + 1
    candidates = sorted(set.intersection(*(set(sizes) for sizes in own.values())))
    if not candidates:
        raise FeasibleError("no data satisfies the claims and the codebook")
    return candidates, own, checks, time.perf_counter() - started


def solve_ranges(codebook: Codebook, claims: Sequence[Claim], wave: str | None, *,
                 quantities: Sequence[Quantity] | None = None, formulation: str = "counts",
                 workers: int | None = None) -> Report:
    """The range and class of every quantity (by default `book_quantities`), sorted by key.

    formulation "counts": a program per block of questions, sector sizes restricted to those every block allows,
    the questions shared among `workers` processes (default: one per processor); "whole": one program of counts
    for all questions; "respondents": one program with a variable per respondent and option (slow). The last two
    are for cross-checks. The ranges depend neither on the formulation nor on the workers.
    """
    n = sample_size(claims)
    if quantities is None:
        quantities = book_quantities(codebook, claims, wave)
    stating: dict[tuple, list[Claim]] = {}
    for claim in claims:
        for stated in stated_quantities(claim, codebook, wave):
            stating.setdefault(stated.lookup(), []).append(claim)
    if formulation in ("respondents", "whole"):
        if formulation == "whole":
            whole = CountModel(codebook, wave, n, pattern_questions(codebook, claims, quantities, wave))
        else:
            whole = RespondentModel(codebook, wave, n)
        encode_claims(whole, claims)
        found, programs, seconds = _solve_all(Solver(whole), quantities, stating)
        blocks_used, variables = 1, len(whole.program.cost)
    elif formulation == "counts":
        patterns = pattern_questions(codebook, claims, quantities, wave)
        sizes, own, programs, seconds = feasible_sizes(codebook, claims, wave, n, patterns)
        block_of = {q: block for block in blocks(codebook) for q in block}
        units: dict[tuple, list[Quantity]] = {}
        for quantity in quantities:  # a unit of work: the quantities of one question, on its block's program
            block = block_of.get(quantity.question, ())
            split = bool(quantity.within) or _splits(claims, block)
            units.setdefault((block, quantity.question, split), []).append(quantity)
        # a block needs the sizes restricted only where other blocks rule out sizes it allows on its own
        restrict = {block: sizes if own[block] != sizes else None for block in own}
        # the slowest first (programs comparing sectors have products), in small chunks the workers share out
        slow = {block for block in own if _compares_sectors(claims, block)}
        jobs = [(codebook, claims, wave, n, patterns, block, restrict[block] if split else None, split,
                 units[block, question, split][start:start + CHUNK], stating)
                for block, question, split in sorted(units, key=lambda unit: (unit[0] not in slow, -len(units[unit]), unit))
                for start in range(0, len(units[block, question, split]), CHUNK)]
        workers = min(len(jobs), workers or os.cpu_count() or 1)
        if workers > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                done = list(pool.map(_solve_unit, jobs))
        else:
            done = [_solve_unit(job) for job in jobs]
        found = [item for unit, _, _, _ in done for item in unit]
        programs += sum(d[1] for d in done)
        seconds += sum(d[2] for d in done)
        blocks_used, variables = len({job[5] for job in jobs}), max(d[3] for d in done)
    else:
        raise FeasibleError(f"formulation must be 'counts', 'whole' or 'respondents', not {formulation!r}")
    ranges = []
    for quantity, low, high in sorted(found, key=lambda item: item[0].key):
        claims_here = stating.get(quantity.lookup(), [])
        ranges.append(Range(quantity, low, high, classify(low, high, claims_here, _claim_measure(quantity.measure)),
                            tuple(sorted({c.id for c in claims_here}))))
    return Report(ranges, programs, seconds, blocks_used, variables)


def _solve_all(solver: Solver, quantities: Sequence[Quantity], stating: Mapping[tuple, list[Claim]]):
    found = []
    for quantity in quantities:
        target = objective(solver.model, quantity, stating.get(quantity.lookup(), []))
        try:
            found.append((quantity, solver.extreme(target, False), solver.extreme(target, True)))
        except FeasibleError as error:
            raise FeasibleError(f"{quantity.key}: {error}") from None
    return found, solver.solves, solver.seconds


def _solve_unit(job: tuple) -> tuple[list, int, float, int]:
    """One unit of work (in a worker process): the ranges of one question's quantities on its block's program."""
    codebook, claims, wave, n, patterns, block, sizes, split, quantities, stating = job
    model = _block_model(codebook, claims, wave, n, patterns, block, sizes, split)
    found, programs, seconds = _solve_all(Solver(model), quantities, stating)
    return found, programs, seconds, len(model.program.cost)


def _claim_measure(measure: str) -> str | None:
    """The ledger measure whose printed figures can publish a quantity of this measure.

    A count, a number of mentions or a rank is published only when its range is one value: the article prints
    shares and means, and the rounding of a share is not the rounding of a count.
    """
    return measure if measure in RATIO_MEASURES else None


# --------------------------------------------------------------------------------------------- the stored file


def ranges_yaml(report: Report, wave: str, n: int) -> str:
    """The stored ranges: deterministic bytes (sorted by key, no timings: `kam reconstruct` prints those)."""
    counts = {cls: sum(r.cls == cls for r in report.ranges) for cls in CLASSES}
    header = (
        f"# Ranges of the {wave} wave: for every quantity the book shows, its smallest and largest value over all\n"
        "# respondent-level data that satisfy the article's statements (the claims ledger) and the codebook's rules.\n"
        "# Written by `kam reconstruct` (kamsurvey/analysis/feasible.py); `kam reconstruct --check` re-solves and\n"
        "# compares bytes, and prints the solve time. Do not edit by hand.\n"
        "#\n"
        "# class: published      the range is one value, or lies within the rounding of a figure the article prints\n"
        "#        reconstructed  any value in [low, high] fits the article: the reconstruction chose one\n"
        "# published_by: the ledger entries whose words are about the quantity.\n"
        "# Shares are fractions (low_exact / high_exact give them exactly); a rank is a competition rank (1 = most).\n"
    )
    body = {
        "wave": str(wave),
        "respondents": n,
        "assumptions": list(ASSUMPTIONS),
        "quantities": len(report.ranges),
        "published": counts[PUBLISHED],
        "reconstructed": counts[RECONSTRUCTED],
        "ranges": [r.as_mapping() for r in sorted(report.ranges, key=lambda r: r.key)],
    }
    ranges = body.pop("ranges")
    return (header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110, default_flow_style=False)
            + yaml.safe_dump({"ranges": ranges}, sort_keys=False, allow_unicode=True, width=110, default_flow_style=None))


def write_ranges(report: Report, path: str | Path, wave: str, n: int) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ranges_yaml(report, wave, n).encode("utf-8"))
    return path


def compute_wave_ranges(codebook_path: str | Path, claims_path: str | Path, wave: str) -> tuple[Report, int]:
    """Solve the ranges of a wave from its codebook and claims ledger (what `kam reconstruct` writes)."""
    codebook = load_codebook(codebook_path)
    claims = load_claims(claims_path, codebook)
    return solve_ranges(codebook, claims, wave), sample_size(claims)


def ranges_markdown(ranges: Iterable[Range]) -> str:
    """Markdown tables for the wave's README: what the article fixes, and what it speaks of without fixing.

    The second table lists the reconstructed quantities that some statement of the article is about: there
    the book must give the article's words or the range, never the reconstruction's number.
    """
    ranges = sorted(ranges, key=lambda r: r.key)
    header = "| quantity | range | published by |\n|---|---|---|"
    published = [r for r in ranges if r.published]
    spoken = [r for r in ranges if not r.published and r.published_by and r.quantity.measure != COUNT]
    rows = lambda chosen: "\n".join(f"| `{r.key}` | {_range_text(r)} | {', '.join(r.published_by) or '(one value on any data)'} |"  # noqa: E731
                                     for r in chosen)
    return (f"Published ({len(published)} of {len(ranges)}):\n\n{header}\n{rows(published)}\n\n"
            f"Reconstructed, though the article speaks of them ({len(spoken)}):\n\n{header}\n{rows(spoken)}\n")


def _range_text(found: Range) -> str:
    def one(value: Fraction) -> str:
        if found.quantity.measure in (SHARE, MENTION_SHARE, EVERY_GROUP):
            return f"{float(value) * 100:.1f}%"
        return f"{float(value):.2f}".rstrip("0").rstrip(".") if value.denominator != 1 else str(value.numerator)
    return one(found.low) if found.low == found.high else f"{one(found.low)} to {one(found.high)}"


# --------------------------------------------------------------------------------------------- reading


class Ranges:
    """The stored ranges of a wave, looked up the way chapters ask for numbers.

    `share(question, codes, within={"sector": "pharma"})`, `mention_share(question, codes)`, `count(question,
    code, within=...)`, `mean_choices(question)`, `share_from_every_group(question, groups)`, `rank(question,
    codes)`; codes in any order. A quantity with no stored range raises KeyError (nothing is marked by guess).
    """

    def __init__(self, wave: str, n: int, assumptions: Sequence[str], ranges: Iterable[Range]) -> None:
        self.wave = wave
        self.n = n
        self.assumptions = tuple(assumptions)
        self._by_lookup = {r.quantity.lookup(): r for r in ranges}

    def __iter__(self) -> Iterator[Range]:
        return iter(sorted(self._by_lookup.values(), key=lambda r: r.key))

    def __len__(self) -> int:
        return len(self._by_lookup)

    def __contains__(self, quantity: object) -> bool:
        return isinstance(quantity, Quantity) and quantity.lookup() in self._by_lookup

    def get(self, measure: str, question: str, codes: Iterable[str] = (), within: Mapping[str, str] | None = None) -> Range:
        lookup = (measure, question, frozenset(codes), _within_items(within))
        if lookup not in self._by_lookup:
            where = f" within {dict(lookup[3])}" if lookup[3] else ""
            raise KeyError(f"no range stored for {measure} of {question} {sorted(lookup[2])}{where} in wave {self.wave}")
        return self._by_lookup[lookup]

    def share(self, question: str, codes: Iterable[str], *, within: Mapping[str, str] | None = None) -> Range:
        return self.get(SHARE, question, codes, within)

    def mention_share(self, question: str, codes: Iterable[str]) -> Range:
        return self.get(MENTION_SHARE, question, codes)

    def count(self, question: str, code: str, *, within: Mapping[str, str] | None = None) -> Range:
        return self.get(COUNT, question, [code], within)

    def mentions(self, question: str) -> Range:
        return self.get(MENTIONS, question)

    def mean_choices(self, question: str) -> Range:
        return self.get(MEAN, question)

    def share_from_every_group(self, question: str, groups: Iterable[str]) -> Range:
        return self.get(EVERY_GROUP, question, groups)

    def rank(self, question: str, codes: Iterable[str]) -> Range:
        return self.get(RANK, question, codes)


def ranges_path(data_dir: str | Path, wave: str) -> Path:
    return Path(data_dir) / "waves" / str(wave) / RANGES_FILE


def load_ranges(path: str | Path) -> Ranges:
    """Read a stored ranges file; a malformed one raises FeasibleError naming the file and the entry."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise FeasibleError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("ranges"), list):
        raise FeasibleError(f"{path}: expected a mapping with a list under 'ranges'")
    ranges = []
    for position, entry in enumerate(raw["ranges"], start=1):
        try:
            ranges.append(_range_from_mapping(entry))
        except (KeyError, TypeError, ValueError) as error:
            raise FeasibleError(f"{path}: range {position} ({entry.get('key') if isinstance(entry, Mapping) else entry!r}): {error}") from None
    return Ranges(str(raw.get("wave")), int(raw.get("respondents", 0)), raw.get("assumptions") or (), ranges)


def _range_from_mapping(entry: Mapping[str, Any]) -> Range:
    measure = entry["measure"]
    if measure not in QUANTITY_MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    if entry["class"] not in CLASSES:
        raise ValueError(f"class must be one of {', '.join(CLASSES)}, got {entry['class']!r}")
    quantity = Quantity(measure, str(entry["question"]), tuple(entry.get("codes") or ()), _within_items(entry.get("within")))
    low = Fraction(entry["low_exact"]) if "low_exact" in entry else Fraction(entry["low"])
    high = Fraction(entry["high_exact"]) if "high_exact" in entry else Fraction(entry["high"])
    if low > high:
        raise ValueError(f"low {low} is above high {high}")
    return Range(quantity, low, high, entry["class"], tuple(entry.get("published_by") or ()))


def load_wave_ranges(data_dir: str | Path, wave: str) -> Ranges | None:
    """The ranges stored beside a wave, or None when it has none (a wave of original data needs none)."""
    path = ranges_path(data_dir, wave)
    return load_ranges(path) if path.exists() else None


# --------------------------------------------------------------------------------------------- witnesses


def witness(model: CountModel, solution: Mapping[tuple, int]) -> list[dict[str, Any]]:
    """Respondent-level answers with the solution's counts: proof that the counts are those of valid data.

    Rows as {question_id: code, or a set of codes for a multi question, or None where not asked}. Within each
    sector, answers are laid out so that the codebook's ties hold by construction: a dependent single answer
    (answer_among) first, in blocks, and each source option's ticks a cyclic run from its block; the option a
    rule forbids or skip logic asks about ticked first, the rule's other answer last; an exclusive answer last.
    """
    if not model.is_split:
        raise FeasibleError("a witness needs the program with sectors")
    codebook, wave = model.codebook, model.wave
    fronts = _front_codes(codebook)
    backs = {rule.if_.question: rule.if_.option for rule in codebook.rules}
    rows: list[dict[str, Any]] = []
    for sector in model.sectors:
        size = solution[("size", sector)]
        people: list[dict[str, Any]] = [{SPLIT: sector} for _ in range(size)]

        def count(question_id: str, code: str) -> int:
            return solution[("count", sector, question_id, code)]

        def place(question_id: str, code: str, indices: Iterable[int]) -> None:
            for i in indices:
                if codebook[question_id].is_multi:
                    people[i].setdefault(question_id, set()).add(code)
                else:
                    people[i][question_id] = code

        sources = {q.answer_among for q in codebook if q.answer_among}
        dependents = {q.id for q in codebook if q.asked_of is not None}
        for question in codebook:
            if question.id == SPLIT or question.id in sources or question.id in dependents:
                continue
            codes = question.codes(wave)
            if question.id in model.patterns:
                cells = [(p, solution[("pattern", sector, question.id, _pattern_name(p))]) for p in model.patterns[question.id]]
                cells.sort(key=lambda cell: bool(cell[0] & set(question.exclusive_codes())))
                start = 0
                for pattern, how_many in cells:
                    for code in sorted(pattern):
                        place(question.id, code, range(start, start + how_many))
                    start += how_many
                continue
            if not question.is_multi:
                order = [c for c in codes if c != backs.get(question.id)] + [c for c in codes if c == backs.get(question.id)]
                start = 0
                for code in order:
                    place(question.id, code, range(start, start + count(question.id, code)))
                    start += count(question.id, code)
                if question.answer_among:
                    source = codebook[question.answer_among]
                    start = 0
                    for code in order:
                        blocks = count(question.id, code)
                        place(source.id, code, ((start + j) % size for j in range(count(source.id, code))))
                        start += blocks
                continue
            alone = [c for c in question.exclusive_codes() if c in codes]
            answering = size - sum(count(question.id, c) for c in alone)
            for code in alone:
                place(question.id, code, range(answering, size))
            front = sorted(fronts.get(question.id, ()))
            ordered = front + [c for c in question.substantive_codes(wave) if c not in front]
            pointer = 0
            for code in ordered:
                how_many = count(question.id, code)
                place(question.id, code, ((pointer + j) % answering for j in range(how_many)))
                pointer = (pointer + how_many) % answering if answering else 0
        for question in codebook:
            if question.id in dependents:
                condition = question.asked_of
                asked = [i for i, person in enumerate(people) if condition.option in person.get(condition.question, ())]
                start = 0
                for code in question.codes(wave):
                    place(question.id, code, asked[start:start + count(question.id, code)])
                    start += count(question.id, code)
        rows.extend(people)
    return rows
