"""The article's published claims as data, re-tested on any wave.

`data/claims/<wave>.yml` is a ledger of every quantitative statement in the
article: the article's own words, the question and measure they refer to, and
the range of values the words allow. `evaluate_claims` computes each measure on
a wave and says whether the claim holds there. A later wave may have a different
n or sector mix, may leave a question out or have nobody in a sector: the
evaluation never raises for that, the claim is reported as "cannot compute" with
the reason.

Measures (parameters in brackets; `within: {question: option}` restricts any
question-based measure to a subset such as `{sector: pharma}`):

- respondents                 rows in the wave
- meta [field]                a field of the wave's metadata (e.g. fieldwork)
- question_count              codebook questions present in the wave
- share_of_respondents        [options | options_except | group] of those who answered
- share_of_mentions           [options | options_except | group] of all substantive ticks
- mean_choices                substantive options ticked per respondent who answered
- share_from_every_group      [groups] respondents choosing from each group
- rank                        [ranks: [a, b]] options whose rank is a..b; allowed: {options: [...]}
- not_in_top                  [top, group | options] how many of these are in the top k
- all_in_group                [top, group] how many of the top k are outside the group
- share_difference            [options | group, versus: {within | options | group | options_except}, test]
                              share minus the share it is compared with

Values are compared with their range exactly: a share is the fraction count/base, and a bound
the decimal the ledger writes (23/80 - 27/80 is exactly -0.05, at `min: -0.05`; in floating
point it is -0.050000000000000044).

`test: exact` makes a comparison of two groups (a share_difference whose `versus` names another
`within`, e.g. pharma against other sectors) a statement about more than this sample: it holds
only where the difference is in the range the words allow AND the exact test
(`stats.compare_proportions`: Boschloo's, Fisher's for large groups) rejects "no difference" at
the 5% level; a difference in the stated direction that chance could easily produce does not
hold ("a bit more in pharma" is not borne out by 38% against 29% of 47 and 35). On a
reconstructed wave the groups are the reconstruction's choice, so the test would test the
reconstruction, not the article: the direction is checked, and the result says it was not tested.

Ranks are competition ranks by count ("1224"): options tied at a boundary all
share the better rank, so a tie can never silently confirm a top-k claim.

Two optional notes on any entry say what a reader of the check should know:
`vacuous` why the statement holds on any data (it tests nothing the data could
break), `loose` why the range is kept looser than the words might suggest.
The ledger's shape is checked by pydantic models (`_Ledger`), its references
against the codebook; every error names the file, the claim, the line and the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Callable, Literal, Mapping

import pandas as pd
from pydantic import (BeforeValidator, Field, PlainValidator, StrictInt, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from kamsurvey.analysis import tabulate
from kamsurvey.analysis.stats import Proportion, compare_proportions
from kamsurvey.data import yamlfile
from kamsurvey.data.codebook import Codebook, Question, load_codebook
from kamsurvey.data.problems import Problem
from kamsurvey.data.yamlfile import Id, Invalid, Schema, Text, raise_all

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
CANNOT_COMPUTE = "cannot compute"
STATUSES = (HOLDS, DOES_NOT_HOLD, CANNOT_COMPUTE)

SELECTORS = ("options", "options_except", "group")
_COMMON = ("id", "section", "article_words", "question", "measure", "allowed", "reading", "vacuous", "loose")
_EXACT_BOUND = {}  # a bound as the decimal the ledger writes, as an exact fraction (cached)
# measure -> (required parameters, optional parameters, needs a question)
MEASURES: dict[str, tuple[tuple[str, ...], tuple[str, ...], bool]] = {
    "respondents": ((), (), False),
    "meta": (("field",), (), False),
    "question_count": ((), (), False),
    "share_of_respondents": ((), SELECTORS + ("within",), True),
    "share_of_mentions": ((), SELECTORS + ("within",), True),
    "mean_choices": ((), ("within",), True),
    "share_from_every_group": (("groups",), ("within",), True),
    "rank": (("ranks",), ("within",), True),
    "not_in_top": (("top",), ("options", "group", "within"), True),
    "all_in_group": (("top", "group"), ("within",), True),
    "share_difference": (("versus",), SELECTORS + ("within", "test"), True),
}
#: `test` values: the exact test of two independent groups (see the module docstring)
EXACT_TEST = "exact"
TEST_LEVEL = 0.05
SHARE_MEASURES = ("share_of_respondents", "share_of_mentions", "share_from_every_group")
_NEEDS_SELECTOR = ("share_of_respondents", "share_of_mentions", "share_difference", "not_in_top")
_NEEDS_MULTI = ("share_of_mentions", "mean_choices", "share_from_every_group")
BOUNDS = ("min", "max", "min_exclusive", "max_exclusive")


class ClaimsError(ValueError):
    """The claims ledger is malformed; raised while loading, naming the claim."""


class CannotCompute(Exception):
    """A measure cannot be computed on this wave (missing question, empty base, ...)."""


@dataclass(frozen=True)
class Allowed:
    """The range of values the article's words allow."""

    min: float | None = None
    max: float | None = None
    min_exclusive: float | None = None
    max_exclusive: float | None = None
    equals: Any = None
    options: tuple[str, ...] | None = None

    def admits(self, value: Any) -> bool:
        """Is `value` in the range? A `Fraction` is compared exactly with each bound as the ledger writes it."""
        if self.options is not None:
            return isinstance(value, (list, tuple)) and sorted(value) == sorted(self.options)
        if self.equals is not None:
            return value == self.equals
        if isinstance(value, float) and math.isnan(value):
            return False
        bound = _exact if isinstance(value, Fraction) else (lambda b: b)
        return (
            (self.min is None or value >= bound(self.min))
            and (self.max is None or value <= bound(self.max))
            and (self.min_exclusive is None or value > bound(self.min_exclusive))
            and (self.max_exclusive is None or value < bound(self.max_exclusive))
        )


def _exact(bound: float) -> Fraction:
    """A bound as the decimal written in the ledger (0.05 is 1/20, not the binary float nearest to it)."""
    if bound not in _EXACT_BOUND:
        _EXACT_BOUND[bound] = Fraction(repr(float(bound)))
    return _EXACT_BOUND[bound]


@dataclass(frozen=True)
class Claim:
    id: str
    section: str
    article_words: str
    question: str | None
    measure: str
    allowed: Allowed
    reading: str
    options: tuple[str, ...] | None = None
    options_except: tuple[str, ...] | None = None
    group: str | None = None
    groups: tuple[str, ...] | None = None
    within: Mapping[str, str] | None = None
    versus: Mapping[str, Any] | None = None
    ranks: tuple[int, int] | None = None
    top: int | None = None
    field: str | None = None
    vacuous: str | None = None  # why the statement holds on any data: it tests nothing the data could break
    loose: str | None = None  # why the range is kept looser than the words might suggest
    test: str | None = None  # EXACT_TEST: a comparison of two groups holds only where the exact test rejects

    def __hash__(self) -> int:  # mappings are not hashable; a claim is identified by its id
        return hash(self.id)


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    status: str
    value: float | int | list[str] | str | None = None
    value_text: str = ""
    allowed_text: str = ""
    reason: str = ""
    n: int | None = None
    p_value: float | None = None  # the exact test's, for a claim with `test` evaluated on original answers


# --------------------------------------------------------------------------- loading


def _number(value: Any) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Invalid(expected="a number (a share as a fraction: 0.15 is 15%)")
    return value


def _one_rank_as_both_ends(value: Any) -> Any:
    return [value, value] if isinstance(value, int) and not isinstance(value, bool) else value


Number = Annotated[float, PlainValidator(_number)]
Codes = Annotated[list[Id], Field(min_length=1)]
Within = Annotated[dict[Id, Id], Field(min_length=1)]
_CODES = "a non-empty list of option codes"
_WITHIN = "a mapping of question: option, a single-choice question's option (e.g. {sector: pharma})"
_GROUP = "the name of a group of the question's options"


class _AllowedEntry(Schema):
    """The range the words allow: bounds, `equals`, or (rank claims) `options`."""

    min: Number | None = None
    max: Number | None = None
    min_exclusive: Number | None = None
    max_exclusive: Number | None = None
    equals: Any = None
    options: Codes | None = Field(None, description=_CODES)

    @model_validator(mode="after")
    def _a_range(self) -> _AllowedEntry:
        given = self.model_fields_set
        if "options" in given:
            return self  # a rank claim's: checked against the claim's ranks and question
        if "equals" in given:
            if len(given) > 1:
                raise Invalid("allowed.equals cannot be combined with bounds", value=None, expected="equals alone")
            return self
        bounds = {key: getattr(self, key) for key in BOUNDS if getattr(self, key) is not None}
        if not bounds:
            raise Invalid("allowed needs at least one bound", value=None, expected="one or more of " + ", ".join(BOUNDS)
                          + ", or equals, or (rank claims) options")
        low = max((bounds[k] for k in ("min", "min_exclusive") if k in bounds), default=-math.inf)
        high = min((bounds[k] for k in ("max", "max_exclusive") if k in bounds), default=math.inf)
        if low > high:
            raise Invalid(f"allowed range is empty ({low} > {high})", value=None, expected="a lower bound at most the upper")
        return self


class _VersusEntry(Schema):
    """What a share_difference compares with: another subset (`within`) and/or other options."""

    within: Within | None = Field(None, description=_WITHIN)
    options: Codes | None = Field(None, description=_CODES)
    options_except: Codes | None = Field(None, description=_CODES)
    group: Id | None = Field(None, description=_GROUP)

    @model_validator(mode="after")
    def _one_comparison(self) -> _VersusEntry:
        selectors = [key for key in SELECTORS if getattr(self, key) is not None]
        if not selectors and self.within is None:
            raise Invalid("versus names nothing to compare with", value=None,
                          expected="within and/or one of " + ", ".join(SELECTORS))
        if len(selectors) > 1:
            raise Invalid(f"versus: give one of {', '.join(SELECTORS)}, not {', '.join(selectors)}", key=(selectors[1],),
                          value=None, expected=f"only {selectors[0]}")
        return self


class _ClaimEntry(Schema):
    """One entry of the ledger; checked against its measure's parameters and (context `codebook`) the codebook."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] = Field(
        description="a snake_case name (lower-case letters, digits and _, a letter first)")
    section: Text = Field(description="the heading of the article's section the words are in")
    article_words: Text = Field(description="the article's own words, quoted exactly")
    question: Id | None = Field(description="a question id of the codebook, or null for facts about the sample")
    measure: Literal[tuple(MEASURES)]
    allowed: _AllowedEntry
    reading: Text = Field(description="how the words were turned into the range, as text")
    options: Codes | None = Field(None, description=_CODES)
    options_except: Codes | None = Field(None, description=_CODES)
    group: Id | None = Field(None, description=_GROUP)
    groups: Annotated[list[Id], Field(min_length=1)] | None = Field(None, description="a non-empty list of groups")
    within: Within | None = Field(None, description=_WITHIN)
    versus: _VersusEntry | None = None
    ranks: Annotated[tuple[StrictInt, StrictInt], BeforeValidator(_one_rank_as_both_ends)] | None = Field(
        None, description="a rank, or [first, last] with 1 <= first <= last")
    top: Annotated[StrictInt, Field(ge=1)] | None = Field(None, description="a positive whole number")
    field: Text | None = Field(None, description="the name of a wave metadata field (e.g. fieldwork)")
    vacuous: Text | None = Field(None, description="why the statement holds on any data, as text")
    loose: Text | None = Field(None, description="why the range is looser than the words might suggest, as text")
    test: Literal[EXACT_TEST] | None = Field(None, description=f"'{EXACT_TEST}': the exact test of the two groups")

    @field_validator("ranks")
    @classmethod
    def _first_to_last(cls, ranks: tuple[int, int] | None) -> tuple[int, int] | None:
        if ranks is not None and not 1 <= ranks[0] <= ranks[1]:
            raise Invalid()
        return ranks

    @model_validator(mode="after")
    def _fits_measure_and_codebook(self, info: ValidationInfo) -> _ClaimEntry:
        codebook: Codebook | None = (info.context or {}).get("codebook")
        found = self._parameters()
        question = self._question(codebook, found)
        if codebook is not None:
            found += self._options(question, self, ())
            found += _within_problems(self.within, codebook, ("within",))
            if self.versus is not None:
                found += _within_problems(self.versus.within, codebook, ("versus", "within"))
                found += self._options(question, self.versus, ("versus",))
            for position, group in enumerate(self.groups or ()):
                found += _group_problems(group, question, ("groups", position))
        found += self._allowed(question)
        if self.test is not None and (self.versus is None or self.versus.within is None or self.versus.within == self.within):
            found.append(Invalid("test compares two groups of respondents", key=("test",), value=None,
                                 expected="a share_difference whose versus names another within (e.g. {sector: other})"))
        raise_all(found)
        return self

    def _parameters(self) -> list[Invalid]:
        """The parameters given are those of the measure, and only one selector."""
        required, optional, _ = MEASURES[self.measure]
        used = _COMMON + required + optional
        parameters = ", ".join(required + optional)
        takes = f"its parameters: {parameters}" if parameters else f"no parameter ({self.measure} takes none)"
        found = [Invalid(f"parameter {key!r} not used by measure {self.measure!r}", key=(key,), value=None, expected=takes)
                 for key in type(self).model_fields if key in self.model_fields_set and key not in used]
        found += [Invalid(f"measure {self.measure!r} needs {key}", key=(key,), value=None)
                  for key in required if getattr(self, key) is None]
        selectors = [key for key in SELECTORS if getattr(self, key) is not None]
        if len(selectors) > 1:
            found.append(Invalid(f"give one of {', '.join(SELECTORS)}, not {', '.join(selectors)}", key=(selectors[1],),
                                 value=None, expected=f"only {selectors[0]}"))
        if self.measure in _NEEDS_SELECTOR and not selectors:
            choices = ", ".join(s for s in SELECTORS if s in required + optional)
            found.append(Invalid(f"measure {self.measure!r} needs one of {choices}", value=None, expected=f"one of {choices}"))
        return found

    def _question(self, codebook: Codebook | None, found: list[Invalid]) -> Question | None:
        """The codebook's question the claim is about (None: none, no codebook, or an error added to `found`)."""
        needs_question = MEASURES[self.measure][2]
        if not needs_question:
            if self.question is not None:
                found.append(Invalid(f"measure {self.measure!r} takes no question", key=("question",), expected="null"))
            return None
        if self.question is None:
            found.append(Invalid(f"measure {self.measure!r} needs a question", key=("question",), value=None,
                                 expected="a question id of the codebook"))
            return None
        if codebook is None:
            return None
        if self.question not in codebook:
            found.append(Invalid(f"unknown question {self.question!r}", key=("question",), value=None,
                                 expected="a question id of the codebook: " + ", ".join(codebook.ids())))
            return None
        question = codebook[self.question]
        if self.measure in _NEEDS_MULTI and not question.is_multi:
            found.append(Invalid(f"{self.measure} needs a multi question; {question.id!r} is {question.type}",
                                 key=("question",), value=None, expected="a multi question"))
        return question

    def _options(self, question: Question | None, selected: Any, key: yamlfile.KeyPath) -> list[Invalid]:
        """Options and groups named by `selected` (the claim, or its versus) exist; a share of mentions needs substance."""
        if question is None:
            return []
        found = _group_problems(selected.group, question, key + ("group",)) if selected.group is not None else []
        for name in ("options", "options_except"):
            for position, code in enumerate(getattr(selected, name) or ()):
                found += _code_problems(code, question, key + (name, position))
                if self.measure == "share_of_mentions" and code in question.exclusive_codes():
                    found.append(Invalid(f"option {code!r} is exclusive: ticking it mentions nothing, so it has no share "
                                         "of mentions", key=key + (name, position), value=None,
                                         expected="an option that is an answer in its own right"))
        return found

    def _allowed(self, question: Question | None) -> list[Invalid]:
        """A rank claim's allowed names the options at its ranks; no other claim's names options."""
        given = self.allowed.model_fields_set
        if self.measure != "rank":
            if "options" in given:
                return [Invalid("allowed.options is only for rank claims", key=("allowed", "options"), value=None,
                                expected="bounds (" + ", ".join(BOUNDS) + ") or equals")]
            return []
        if given != {"options"}:
            return [Invalid("a rank claim's allowed is {options: [...]}: the options expected at those ranks",
                            key=("allowed",), value=None, expected="{options: [...]} alone")]
        codes = self.allowed.options or []
        found = [problem for position, code in enumerate(codes)
                 for problem in (_code_problems(code, question, ("allowed", "options", position)) if question else [])]
        if self.ranks is not None and len(codes) != self.ranks[1] - self.ranks[0] + 1:
            first, last = self.ranks
            found.append(Invalid(f"allowed.options names {len(codes)} option(s) for ranks {first}–{last}",
                                 key=("allowed", "options"), value=None,
                                 expected=f"{last - first + 1} option(s), one for each rank (ties share a rank)"))
        return found


def _code_problems(code: str, question: Question, key: yamlfile.KeyPath) -> list[Invalid]:
    if code in question.codes():
        return []
    return [Invalid(f"question {question.id!r} has no option {code!r}", key=key, value=None,
                    expected="one of its codes: " + ", ".join(question.codes()))]


def _group_problems(group: str, question: Question | None, key: yamlfile.KeyPath) -> list[Invalid]:
    if question is None or question.codes_in_group(group):
        return []
    groups = ", ".join(dict.fromkeys(o.group for o in question.options if o.group)) or "none"
    return [Invalid(f"question {question.id!r} has no option in group {group!r}", key=key, value=None,
                    expected=f"one of its groups: {groups}")]


def _within_problems(within: Mapping[str, str] | None, codebook: Codebook, key: yamlfile.KeyPath) -> list[Invalid]:
    found = []
    for question_id, code in (within or {}).items():
        here = key + (question_id,)
        if question_id not in codebook:
            found.append(Invalid(f"unknown question {question_id!r}", key=here, value=None,
                                 expected="a single-choice question id of the codebook"))
        elif codebook[question_id].is_multi:
            found.append(Invalid(f"{question_id!r} is a multi question; use a single-choice question", key=here,
                                 value=None, expected="a single-choice question id of the codebook"))
        else:
            found += _code_problems(code, codebook[question_id], here)
    return found


class _Ledger(Schema):
    wave: Id | None = Field(None, description="the wave the article reports (e.g. '2022')")
    article: Text | None = Field(None, description="the article's title")
    claims: Annotated[list[_ClaimEntry], Field(min_length=1)] = Field(description="a non-empty list of claims")

    @model_validator(mode="after")
    def _ids_once(self) -> _Ledger:
        first: dict[str, int] = {}
        found = []
        for position, claim in enumerate(self.claims):
            if claim.id in first:
                found.append(Invalid("duplicate id", key=("claims", position), value=None,
                                     expected=f"an id no other claim has (claims[{first[claim.id]}] has it)"))
            first.setdefault(claim.id, position)
        raise_all(found)
        return self


def load_claims(path: str | Path, codebook: Codebook | None = None) -> list[Claim]:
    """Read and check a claims ledger; ClaimsError naming the file, the claim, the line and the key of every problem.

    Question and option codes are checked against `codebook` (by default the
    `codebook.yml` of the data folder the ledger is in: data/claims/ -> data/).
    """
    path = Path(path)
    if codebook is None:
        codebook = load_codebook(path.resolve().parent.parent / "codebook.yml")
    try:
        document = yamlfile.read(path, expected="a claims ledger, a YAML mapping with a list of claims")
    except yamlfile.UnreadableFile as unreadable:
        raise ClaimsError(str(unreadable)) from None
    return _claims(document, codebook)


def claim_from_mapping(raw: Any, codebook: Codebook) -> Claim:
    """One ledger entry, checked against the measure's parameters and the codebook; ClaimsError naming the claim."""
    return _claims(yamlfile.from_data({"claims": [raw]}, ""), codebook)[0]


def _claims(document: yamlfile.Document, codebook: Codebook) -> list[Claim]:
    try:
        ledger = _Ledger.model_validate(document.data, context={"codebook": codebook})
    except ValidationError as error:
        messages = [_message(path, problem, document) for path, problem in yamlfile.findings(error, document, _Ledger)]
        summary = f"{len(messages)} problems in {document.file or 'the claim'}:"
        raise ClaimsError(messages[0] if len(messages) == 1 else "\n  ".join([summary, *messages])) from None
    return [_claim(entry) for entry in ledger.claims]


def _message(path: yamlfile.KeyPath, problem: Problem, document: yamlfile.Document) -> str:
    """'<file>, line 57, claim 'x', key allowed.min: got ...; expected ...': a problem named by its claim."""
    where = [problem.file] if problem.file else []
    if problem.row is not None:
        where.append(f"line {problem.row}")
    key = path
    if len(path) >= 2 and path[0] == "claims" and isinstance(path[1], int):
        claim_id = document.value(("claims", path[1], "id"))
        where.append(f"claim {claim_id!r}" if claim_id is not None else f"entry {path[1] + 1} of claims")
        key = path[2:]
    if key:
        where.append(f"key {yamlfile.key_text(key)}")
    return ", ".join(where) + str(problem).removeprefix(problem.location())


def _words(text: str | None) -> str | None:
    return " ".join(text.split()) if text is not None else None


def _allowed(entry: _AllowedEntry) -> Allowed:
    if entry.options is not None:
        return Allowed(options=tuple(entry.options))
    if "equals" in entry.model_fields_set:
        return Allowed(equals=entry.equals)
    return Allowed(**{key: getattr(entry, key) for key in BOUNDS if getattr(entry, key) is not None})


def _versus(entry: _VersusEntry | None) -> dict[str, Any] | None:
    """The comparison as evaluation reads it: only the keys given, option lists as tuples."""
    if entry is None:
        return None
    versus: dict[str, Any] = {}
    if entry.within is not None:
        versus["within"] = dict(entry.within)
    for key in ("options", "options_except"):
        if getattr(entry, key) is not None:
            versus[key] = tuple(getattr(entry, key))
    if entry.group is not None:
        versus["group"] = entry.group
    return versus


def _claim(entry: _ClaimEntry) -> Claim:
    return Claim(
        id=entry.id,
        section=_words(entry.section),
        article_words=_words(entry.article_words),
        question=entry.question,
        measure=entry.measure,
        allowed=_allowed(entry.allowed),
        reading=_words(entry.reading),
        options=tuple(entry.options) if entry.options is not None else None,
        options_except=tuple(entry.options_except) if entry.options_except is not None else None,
        group=entry.group,
        groups=tuple(entry.groups) if entry.groups is not None else None,
        within=dict(entry.within) if entry.within is not None else None,
        versus=_versus(entry.versus),
        ranks=entry.ranks,
        top=entry.top,
        field=entry.field,
        vacuous=_words(entry.vacuous),
        loose=_words(entry.loose),
        test=entry.test,
    )


# --------------------------------------------------------------------------- formatting


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%".replace(".0%", "%")


def _points(diff: float) -> str:
    """A difference of shares in percentage points: '+9.7 points', '-12 points', '0 points'."""
    text = f"{diff * 100:+.1f}".removesuffix(".0")
    return ("0" if text in ("+0", "-0") else text) + " points"


def _plain(value: float) -> str:
    return f"{value:g}"


def format_allowed(claim: Claim, codebook: Codebook | None = None) -> str:
    """The allowed range in words: '55%–60%', 'under 5%', 'exactly 112', ...; options by their labels when the
    codebook is given ('rank 1: Bonus (cash)')."""
    allowed = claim.allowed
    if allowed.options is not None:
        ranks = claim.ranks or (1, 1)
        where = f"rank {ranks[0]}" if ranks[0] == ranks[1] else f"ranks {ranks[0]}–{ranks[1]}"
        names = [_option_name(codebook, claim.question, code) for code in allowed.options]
        return f"{where}: {'; '.join(names) if codebook is not None else ', '.join(names)}"
    if allowed.equals is not None:
        return f"exactly {allowed.equals}"
    if claim.measure in SHARE_MEASURES:
        fmt = _pct
    elif claim.measure == "share_difference":
        fmt = lambda v: _points(v)  # noqa: E731
    else:
        fmt = _plain
    low = (allowed.min, "at least") if allowed.min is not None else (allowed.min_exclusive, "over")
    high = (allowed.max, "at most") if allowed.max is not None else (allowed.max_exclusive, "under")
    if low[0] is not None and high[0] is not None:
        if allowed.min is not None and allowed.max is not None:
            if allowed.min == allowed.max:
                return f"exactly {fmt(allowed.min)}"
            text = f"{fmt(allowed.min)} to {fmt(allowed.max)}" if claim.measure == "share_difference" else f"{fmt(allowed.min)}–{fmt(allowed.max)}"
            return text
        return f"{low[1]} {fmt(low[0])}, {high[1]} {fmt(high[0])}"
    if low[0] is not None:
        return f"{low[1]} {fmt(low[0])}"
    return f"{high[1]} {fmt(high[0])}"


def _option_name(codebook: Codebook | None, question_id: str | None, code: str) -> str:
    """An option as a reader knows it: its label (its code when no codebook is given)."""
    if codebook is None or question_id is None or question_id not in codebook:
        return code
    return codebook[question_id].label(code)


def _proportion_text(p: Proportion, what: str = "") -> str:
    return f"{_pct(p.share)} ({p.count} of {p.base}{what})"


# --------------------------------------------------------------------------- evaluation


def _subset(frame: pd.DataFrame, codebook: Codebook, within: Mapping[str, str] | None, subsets=None) -> pd.DataFrame:
    if not within:
        return frame
    for question_id in within:
        if not tabulate.is_present(frame, codebook[question_id]):
            raise CannotCompute(f"question {question_id} is not in this wave")
    subset = subsets(within) if subsets is not None else tabulate.within(frame, codebook, within)
    if subset.empty:
        raise CannotCompute(f"no respondents with {_within_text(within)} in this wave")
    return subset


def _within_text(within: Mapping[str, str] | None) -> str:
    return ", ".join(f"{q} = {o}" for q, o in (within or {}).items())


def _present_codes(frame: pd.DataFrame, question: Question, wave: str | None, substantive: bool) -> list[str]:
    """Options of `question` that this wave asked (multi: their columns exist)."""
    codes = question.substantive_codes(wave) if substantive else question.codes(wave)
    if question.is_multi:
        codes = [c for c in codes if question.column(c) in frame.columns]
    return codes


def _selected(claim_like: Mapping[str, Any], frame: pd.DataFrame, question: Question, wave: str | None) -> list[str]:
    """Option codes named by options / options_except / group, checked to be in this wave."""
    present = _present_codes(frame, question, wave, substantive=False)
    if claim_like.get("options_except") is not None:
        excluded = set(claim_like["options_except"])
        return [c for c in _present_codes(frame, question, wave, substantive=True) if c not in excluded]
    if claim_like.get("group") is not None:
        codes = [c for c in question.codes_in_group(claim_like["group"]) if c in present]
        if not codes:
            raise CannotCompute(f"no option of group {claim_like['group']} of {question.id} is in this wave")
        return codes
    codes = list(claim_like.get("options") or [])
    for code in codes:
        if code not in present:
            raise CannotCompute(f"option {code} of {question.id} is not in this wave")
    return codes


def _selectors(claim: Claim) -> dict[str, Any]:
    return {"options": claim.options, "options_except": claim.options_except, "group": claim.group}


def _ranked(frame: pd.DataFrame, question: Question, wave: str | None) -> pd.DataFrame:
    """Options present in this wave with their counts and competition ranks (mentions for multi)."""
    percent_of = tabulate.MENTIONS if question.is_multi else tabulate.RESPONDENTS
    table = tabulate.option_table(frame, question, percent_of=percent_of)
    present = set(_present_codes(frame, question, wave, substantive=question.is_multi))
    table = table[table["code"].isin(present)]
    order = tabulate.rank_options(table)
    table = table.set_index("code").loc[order].reset_index()
    table["rank"] = table["count"].rank(method="min", ascending=False).astype(int)
    return table


def _ranked_text(table: pd.DataFrame, codes: list[str], question: Question) -> str:
    """Options by their labels, each with its count: 'Sales (75); Customer feedback (58)'."""
    counts = table.set_index("code")["count"]
    return "; ".join(f"{question.label(code)} ({int(counts[code])})" for code in codes)


def _require_answers(frame: pd.DataFrame, question: Question, within: Mapping[str, str] | None) -> int:
    base = int(tabulate.answered(frame, question).sum())
    if base < 1:
        suffix = f" among respondents with {_within_text(within)}" if within else ""
        raise CannotCompute(f"base under 1: nobody answered {question.id}{suffix}")
    return base


def _compute(claim: Claim, frame: pd.DataFrame, codebook: Codebook, meta: Any, subsets=None) -> tuple[Any, str, int | None]:
    """(value, value_text, n) of the claim's measure; raises CannotCompute."""
    wave = getattr(meta, "wave", None)
    if claim.measure == "respondents":
        return len(frame), f"{len(frame)}", len(frame)
    if claim.measure == "question_count":
        present = [q.id for q in codebook if tabulate.is_present(frame, q)]
        return len(present), f"{len(present)}", len(frame)
    if claim.measure == "meta":
        value = getattr(meta, claim.field, None) if meta is not None else None
        if value is None:
            raise CannotCompute(f"the wave's metadata has no {claim.field}")
        return value, str(value), None

    question = codebook[claim.question]
    if not tabulate.is_present(frame, question):
        raise CannotCompute(f"question {question.id} is not in this wave")
    subset = _subset(frame, codebook, claim.within, subsets)
    base = _require_answers(subset, question, claim.within)

    if claim.measure == "share_of_respondents":
        p = tabulate.share_of_respondents(subset, question, _selected(_selectors(claim), subset, question, wave))
        return _fraction(p), _proportion_text(p), base
    if claim.measure == "share_of_mentions":
        p = tabulate.share_of_mentions(subset, question, _selected(_selectors(claim), subset, question, wave))
        if p.base < 1:
            raise CannotCompute(f"base under 1: no options of {question.id} were ticked")
        return _fraction(p), _proportion_text(p, " mentions"), base
    if claim.measure == "mean_choices":
        per = tabulate.choices_per_respondent(subset, question)
        mean = tabulate.mean_choices(subset, question)
        return Fraction(int(per.sum()), base), f"{mean:.2f} per respondent ({int(per.sum())} ticks, {base} respondents)", base
    if claim.measure == "share_from_every_group":
        for group in claim.groups or ():
            if not [c for c in question.codes_in_group(group) if c in _present_codes(subset, question, wave, False)]:
                raise CannotCompute(f"no option of group {group} of {question.id} is in this wave")
        p = tabulate.share_choosing_from_every_group(subset, question, claim.groups or ())
        return _fraction(p), _proportion_text(p), base
    if claim.measure == "rank":
        table = _ranked(subset, question, wave)
        for code in claim.allowed.options or ():
            if code not in set(table["code"]):
                raise CannotCompute(f"option {code} of {question.id} is not in this wave")
        first, last = claim.ranks or (1, 1)
        if last > len(table):
            raise CannotCompute(f"{question.id} has only {len(table)} options in this wave")
        codes = table[(table["rank"] >= first) & (table["rank"] <= last)]["code"].tolist()
        return codes, _ranked_text(table, codes, question) or "no option at these ranks (ties)", base
    if claim.measure in ("not_in_top", "all_in_group"):
        table = _ranked(subset, question, wave)
        if claim.top > len(table):
            raise CannotCompute(f"{question.id} has only {len(table)} options in this wave")
        top = table[table["rank"] <= claim.top]["code"].tolist()
        top_text = f"top {claim.top}: {_ranked_text(table, top, question)}"
        if claim.measure == "not_in_top":
            named = _selected(_selectors(claim), subset, question, wave)
            inside = [c for c in top if c in named]
            what = f"‘{codebook.group_label(claim.group)}’" if claim.group else ", ".join(question.label(c) for c in named)
            return len(inside), f"{len(inside)} of {what} in the {top_text}", base
        outside = [c for c in top if c not in question.codes_in_group(claim.group)]
        return len(outside), f"{len(outside)} outside ‘{codebook.group_label(claim.group)}’ in the {top_text}", base
    if claim.measure == "share_difference":
        versus = dict(claim.versus or {})
        first_codes = _selected(_selectors(claim), subset, question, wave)
        other_within = versus.get("within", claim.within)
        other_frame = _subset(frame, codebook, other_within, subsets)
        other_base = _require_answers(other_frame, question, other_within)
        if any(versus.get(key) is not None for key in SELECTORS):
            second_codes = _selected(versus, other_frame, question, wave)
        else:
            second_codes = first_codes
        first = tabulate.share_of_respondents(subset, question, first_codes)
        second = tabulate.share_of_respondents(other_frame, question, second_codes)
        diff = _fraction(first) - _fraction(second)
        text = f"{_points(float(diff))} ({_proportion_text(first)} vs {_proportion_text(second)})"
        n = base + other_base if other_within != claim.within else base
        if claim.test == EXACT_TEST:
            return diff, text, n, compare_proportions(first, second)
        return diff, text, n
    raise CannotCompute(f"measure {claim.measure} is not implemented")  # unreachable: checked on load


def evaluate_claim(claim: Claim, frame: pd.DataFrame, codebook: Codebook, meta: Any = None, *,
                   subsets: Callable[[Mapping[str, str]], pd.DataFrame] | None = None) -> ClaimResult:
    """Compute the claim's measure on a wave's frame and say whether the article's words still hold.

    `subsets(within)`, if given, returns `tabulate.within(frame, codebook, within)`, e.g. from a
    chapter's cache of the rows of each sector. The value is compared exactly (`Allowed.admits`);
    `ClaimResult.value` keeps it as a float.
    """
    allowed_text = format_allowed(claim, codebook)
    try:
        value, value_text, n, *tested = _compute(claim, frame, codebook, meta, subsets)
    except CannotCompute as reason:
        return ClaimResult(claim, CANNOT_COMPUTE, allowed_text=allowed_text, reason=str(reason))
    if isinstance(value, float) and math.isnan(value):
        return ClaimResult(claim, CANNOT_COMPUTE, allowed_text=allowed_text, reason="base under 1", n=n)
    status = HOLDS if claim.allowed.admits(value) else DOES_NOT_HOLD
    shown = float(value) if isinstance(value, Fraction) else value
    if not tested:
        return ClaimResult(claim, status, value=shown, value_text=value_text, allowed_text=allowed_text, n=n)
    if getattr(meta, "reconstructed", False):
        return ClaimResult(claim, status, value=shown, allowed_text=allowed_text, n=n,
                           value_text=f"{value_text}; not tested: the groups are the reconstruction's choice")
    comparison = tested[0]
    p_text = f"p = {comparison.p_value:.2f}" if comparison.p_value >= 0.01 else "p < 0.01"
    if status == HOLDS and not comparison.p_value < TEST_LEVEL:
        status, value_text = DOES_NOT_HOLD, f"{value_text}; chance alone could give this ({comparison.test_name} {p_text})"
    else:
        value_text = f"{value_text}; {comparison.test_name} {p_text}"
    return ClaimResult(claim, status, value=shown, value_text=value_text, allowed_text=allowed_text, n=n,
                       p_value=comparison.p_value)


def _fraction(p: Proportion) -> Fraction:
    """A share as the exact fraction count/base (NaN when the base is 0, as `Proportion.share`)."""
    return Fraction(int(p.count), int(p.base)) if p.base else math.nan


RESULT_COLUMNS = ["id", "section", "article_words", "question", "value_text", "allowed_text", "status", "reason", "n"]


def results_frame(results: list[ClaimResult]) -> pd.DataFrame:
    rows = [
        {
            "id": r.claim.id,
            "section": r.claim.section,
            "article_words": r.claim.article_words,
            "question": r.claim.question,
            "value_text": r.value_text,
            "allowed_text": r.allowed_text,
            "status": r.status,
            "reason": r.reason,
            "n": r.n,
        }
        for r in results
    ]
    frame = pd.DataFrame(rows, columns=RESULT_COLUMNS)
    frame["n"] = frame["n"].astype("Int64")
    return frame


def evaluate_claims(claims: list[Claim], wave: Any) -> pd.DataFrame:
    """One row per claim for a `kamsurvey.data.waves.Wave` (or anything with responses, codebook, meta)."""
    return results_frame([evaluate_claim(c, wave.responses, wave.codebook, wave.meta) for c in claims])
