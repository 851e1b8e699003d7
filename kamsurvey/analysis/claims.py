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
- share_difference            [options | group, versus: {within | options | group | options_except}]
                              share minus the share it is compared with

Ranks are competition ranks by count ("1224"): options tied at a boundary all
share the better rank, so a tie can never silently confirm a top-k claim.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import pandas as pd
import yaml

from kamsurvey.analysis import tabulate
from kamsurvey.data.codebook import Codebook, Question, load_codebook
from kamsurvey.analysis.stats import Proportion

HOLDS = "holds"
DOES_NOT_HOLD = "does not hold"
CANNOT_COMPUTE = "cannot compute"
STATUSES = (HOLDS, DOES_NOT_HOLD, CANNOT_COMPUTE)

SELECTORS = ("options", "options_except", "group")
_COMMON = ("id", "section", "article_words", "question", "measure", "allowed", "reading")
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
    "share_difference": (("versus",), SELECTORS + ("within",), True),
}
SHARE_MEASURES = ("share_of_respondents", "share_of_mentions", "share_from_every_group")
ALLOWED_KEYS = ("min", "max", "min_exclusive", "max_exclusive", "equals", "options")
VERSUS_KEYS = ("within",) + SELECTORS
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


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
        if self.options is not None:
            return isinstance(value, (list, tuple)) and sorted(value) == sorted(self.options)
        if self.equals is not None:
            return value == self.equals
        if isinstance(value, float) and math.isnan(value):
            return False
        return (
            (self.min is None or value >= self.min)
            and (self.max is None or value <= self.max)
            and (self.min_exclusive is None or value > self.min_exclusive)
            and (self.max_exclusive is None or value < self.max_exclusive)
        )


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

    @property
    def holds(self) -> bool:
        return self.status == HOLDS


# --------------------------------------------------------------------------- loading


def load_claims(path: str | Path, codebook: Codebook | None = None) -> list[Claim]:
    """Read and check a claims ledger; a bad entry raises ClaimsError naming its id.

    Question and option codes are checked against `codebook` (by default the
    `codebook.yml` of the data folder the ledger is in: data/claims/ -> data/).
    """
    path = Path(path)
    if codebook is None:
        codebook = load_codebook(path.resolve().parent.parent / "codebook.yml")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ClaimsError(f"{path}: not valid YAML: {exc}") from None
    entries = raw.get("claims") if isinstance(raw, Mapping) else raw
    if not isinstance(entries, list) or not entries:
        raise ClaimsError(f"{path}: expected a non-empty list under 'claims'")
    claims: list[Claim] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        where = f"{path}: claim {entry.get('id')!r}" if isinstance(entry, Mapping) else f"{path}: entry {position}"
        try:
            claim = claim_from_mapping(entry, codebook)
        except ClaimsError as exc:
            raise ClaimsError(f"{where}: {exc}") from None
        if claim.id in seen:
            raise ClaimsError(f"{where}: duplicate id")
        seen.add(claim.id)
        claims.append(claim)
    return claims


def claim_from_mapping(raw: Any, codebook: Codebook) -> Claim:
    """One ledger entry, checked against the measure's parameters and the codebook."""
    if not isinstance(raw, Mapping):
        raise ClaimsError(f"an entry must be a mapping, got {raw!r}")
    missing = [key for key in _COMMON if key not in raw]
    if missing:
        raise ClaimsError(f"missing {', '.join(missing)}")
    claim_id = str(raw["id"])
    if not _ID.match(claim_id):
        raise ClaimsError("id must be snake_case")
    measure = raw["measure"]
    if measure not in MEASURES:
        raise ClaimsError(f"unknown measure {measure!r}; known: {', '.join(MEASURES)}")
    required, optional, needs_question = MEASURES[measure]
    unknown = [key for key in raw if key not in _COMMON + required + optional]
    if unknown:
        raise ClaimsError(f"parameter(s) {', '.join(map(repr, unknown))} not used by measure {measure!r}")
    absent = [key for key in required if raw.get(key) is None]
    if absent:
        raise ClaimsError(f"measure {measure!r} needs {', '.join(absent)}")
    for key in ("section", "article_words", "reading"):
        if not str(raw[key] or "").strip():
            raise ClaimsError(f"{key} is empty")

    question_id = raw["question"]
    question: Question | None = None
    if needs_question:
        if question_id is None:
            raise ClaimsError(f"measure {measure!r} needs a question")
        if question_id not in codebook:
            raise ClaimsError(f"unknown question {question_id!r}")
        question = codebook[question_id]
    elif question_id is not None:
        raise ClaimsError(f"measure {measure!r} takes no question (question: null)")

    selectors = [key for key in SELECTORS if raw.get(key) is not None]
    if len(selectors) > 1:
        raise ClaimsError(f"give one of {', '.join(SELECTORS)}, not {', '.join(selectors)}")
    if measure in ("share_of_respondents", "share_of_mentions", "share_difference", "not_in_top") and not selectors:
        raise ClaimsError(f"measure {measure!r} needs one of {', '.join(s for s in SELECTORS if s in required + optional)}")
    if measure == "share_of_mentions" and question is not None and not question.is_multi:
        raise ClaimsError(f"share_of_mentions needs a multi question; {question_id!r} is {question.type}")
    if measure in ("mean_choices", "share_from_every_group") and question is not None and not question.is_multi:
        raise ClaimsError(f"{measure} needs a multi question; {question_id!r} is {question.type}")

    options = _codes(raw.get("options"), question, "options")
    if measure == "share_of_mentions" and question is not None:
        for code in (options or ()) + tuple(raw.get("options_except") or ()):
            if code in question.exclusive_codes():
                raise ClaimsError(f"option {code!r} is exclusive: ticking it mentions nothing, so it has no share of mentions")
    options_except = _codes(raw.get("options_except"), question, "options_except")
    group = _group(raw.get("group"), question)
    groups = tuple(_group(g, question) for g in raw["groups"]) if raw.get("groups") is not None else None
    within = _within(raw.get("within"), codebook, "within")
    versus = _versus(raw.get("versus"), question, codebook)

    ranks = None
    if raw.get("ranks") is not None:
        value = raw["ranks"]
        value = [value, value] if isinstance(value, int) else list(value)
        if len(value) != 2 or not all(isinstance(v, int) for v in value) or not 1 <= value[0] <= value[1]:
            raise ClaimsError(f"ranks must be a rank or [first, last] with 1 <= first <= last, got {raw['ranks']!r}")
        ranks = (value[0], value[1])
    top = raw.get("top")
    if top is not None and (not isinstance(top, int) or top < 1):
        raise ClaimsError(f"top must be a positive integer, got {top!r}")

    allowed = _allowed(raw["allowed"], question, measure, ranks)
    if measure == "meta" and not isinstance(raw["field"], str):
        raise ClaimsError("field must be the name of a wave metadata field")
    return Claim(
        id=claim_id,
        section=" ".join(str(raw["section"]).split()),
        article_words=" ".join(str(raw["article_words"]).split()),
        question=question_id,
        measure=measure,
        allowed=allowed,
        reading=" ".join(str(raw["reading"]).split()),
        options=options,
        options_except=options_except,
        group=group,
        groups=groups,
        within=within,
        versus=versus,
        ranks=ranks,
        top=top,
        field=raw.get("field"),
    )


def _codes(value: Any, question: Question | None, key: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, list) or not value:
        raise ClaimsError(f"{key} must be a non-empty list of option codes")
    codes = tuple(str(v) for v in value)
    if question is not None:
        for code in codes:
            if code not in question.codes():
                raise ClaimsError(f"{key}: question {question.id!r} has no option {code!r}")
    return codes


def _group(value: Any, question: Question | None) -> str | None:
    if value is None:
        return None
    if question is not None and not question.codes_in_group(str(value)):
        raise ClaimsError(f"question {question.id!r} has no option in group {value!r}")
    return str(value)


def _within(value: Any, codebook: Codebook, key: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise ClaimsError(f"{key} must be a mapping of question: option")
    for question_id, code in value.items():
        if question_id not in codebook:
            raise ClaimsError(f"{key}: unknown question {question_id!r}")
        if codebook[question_id].is_multi:
            raise ClaimsError(f"{key}: {question_id!r} is a multi question; use a single-choice question")
        if str(code) not in codebook[question_id].codes():
            raise ClaimsError(f"{key}: question {question_id!r} has no option {code!r}")
    return {str(k): str(v) for k, v in value.items()}


def _versus(value: Any, question: Question | None, codebook: Codebook) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping) or not value:
        raise ClaimsError("versus must be a mapping with within and/or one of options, options_except, group")
    unknown = [key for key in value if key not in VERSUS_KEYS]
    if unknown:
        raise ClaimsError(f"versus: unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(VERSUS_KEYS)}")
    selectors = [key for key in SELECTORS if value.get(key) is not None]
    if len(selectors) > 1:
        raise ClaimsError(f"versus: give one of {', '.join(SELECTORS)}, not {', '.join(selectors)}")
    out: dict[str, Any] = {}
    if value.get("within") is not None:
        out["within"] = _within(value["within"], codebook, "versus.within")
    for key in ("options", "options_except"):
        if value.get(key) is not None:
            out[key] = _codes(value[key], question, f"versus.{key}")
    if value.get("group") is not None:
        out["group"] = _group(value["group"], question)
    return out


def _allowed(raw: Any, question: Question | None, measure: str, ranks: tuple[int, int] | None) -> Allowed:
    if not isinstance(raw, Mapping) or not raw:
        raise ClaimsError("allowed must be a non-empty mapping")
    unknown = [key for key in raw if key not in ALLOWED_KEYS]
    if unknown:
        raise ClaimsError(f"allowed: unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(ALLOWED_KEYS)}")
    if measure == "rank":
        if set(raw) != {"options"}:
            raise ClaimsError("a rank claim's allowed is {options: [...]}: the options expected at those ranks")
        codes = _codes(raw["options"], question, "allowed.options")
        assert ranks is not None and codes is not None
        if len(codes) != ranks[1] - ranks[0] + 1:
            raise ClaimsError(f"allowed.options names {len(codes)} option(s) for ranks {ranks[0]}–{ranks[1]}")
        return Allowed(options=codes)
    if "options" in raw:
        raise ClaimsError("allowed.options is only for rank claims")
    if "equals" in raw:
        if len(raw) > 1:
            raise ClaimsError("allowed.equals cannot be combined with bounds")
        return Allowed(equals=raw["equals"])
    bounds = {}
    for key in ("min", "max", "min_exclusive", "max_exclusive"):
        if raw.get(key) is not None:
            if isinstance(raw[key], bool) or not isinstance(raw[key], (int, float)):
                raise ClaimsError(f"allowed.{key} must be a number, got {raw[key]!r}")
            bounds[key] = raw[key]
    if not bounds:
        raise ClaimsError("allowed needs at least one bound")
    low = max((bounds[k] for k in ("min", "min_exclusive") if k in bounds), default=-math.inf)
    high = min((bounds[k] for k in ("max", "max_exclusive") if k in bounds), default=math.inf)
    if low > high:
        raise ClaimsError(f"allowed range is empty ({low} > {high})")
    return Allowed(**bounds)


# --------------------------------------------------------------------------- formatting


def _pct(share: float) -> str:
    return f"{share * 100:.1f}%".replace(".0%", "%")


def _points(diff: float) -> str:
    """A difference of shares in percentage points: '+9.7 points', '-12 points', '0 points'."""
    text = f"{diff * 100:+.1f}".removesuffix(".0")
    return ("0" if text in ("+0", "-0") else text) + " points"


def _plain(value: float) -> str:
    return f"{value:g}"


def format_allowed(claim: Claim) -> str:
    """The allowed range in words: '55%–60%', 'under 5%', 'exactly 112', ..."""
    allowed = claim.allowed
    if allowed.options is not None:
        ranks = claim.ranks or (1, 1)
        where = f"rank {ranks[0]}" if ranks[0] == ranks[1] else f"ranks {ranks[0]}–{ranks[1]}"
        return f"{where}: {', '.join(allowed.options)}"
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


def _ranked_text(table: pd.DataFrame, codes: list[str]) -> str:
    counts = table.set_index("code")["count"]
    return "; ".join(f"{code} ({int(counts[code])})" for code in codes)


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
        return p.share, _proportion_text(p), base
    if claim.measure == "share_of_mentions":
        p = tabulate.share_of_mentions(subset, question, _selected(_selectors(claim), subset, question, wave))
        if p.base < 1:
            raise CannotCompute(f"base under 1: no options of {question.id} were ticked")
        return p.share, _proportion_text(p, " mentions"), base
    if claim.measure == "mean_choices":
        per = tabulate.choices_per_respondent(subset, question)
        mean = tabulate.mean_choices(subset, question)
        return mean, f"{mean:.2f} per respondent ({int(per.sum())} ticks, {base} respondents)", base
    if claim.measure == "share_from_every_group":
        for group in claim.groups or ():
            if not [c for c in question.codes_in_group(group) if c in _present_codes(subset, question, wave, False)]:
                raise CannotCompute(f"no option of group {group} of {question.id} is in this wave")
        p = tabulate.share_choosing_from_every_group(subset, question, claim.groups or ())
        return p.share, _proportion_text(p), base
    if claim.measure == "rank":
        table = _ranked(subset, question, wave)
        for code in claim.allowed.options or ():
            if code not in set(table["code"]):
                raise CannotCompute(f"option {code} of {question.id} is not in this wave")
        first, last = claim.ranks or (1, 1)
        if last > len(table):
            raise CannotCompute(f"{question.id} has only {len(table)} options in this wave")
        codes = table[(table["rank"] >= first) & (table["rank"] <= last)]["code"].tolist()
        return codes, _ranked_text(table, codes) or "no option at these ranks (ties)", base
    if claim.measure in ("not_in_top", "all_in_group"):
        table = _ranked(subset, question, wave)
        if claim.top > len(table):
            raise CannotCompute(f"{question.id} has only {len(table)} options in this wave")
        top = table[table["rank"] <= claim.top]["code"].tolist()
        top_text = f"top {claim.top}: {_ranked_text(table, top)}"
        if claim.measure == "not_in_top":
            named = _selected(_selectors(claim), subset, question, wave)
            inside = [c for c in top if c in named]
            what = f"group {claim.group}" if claim.group else ", ".join(named)
            return len(inside), f"{len(inside)} of {what} in the {top_text}", base
        outside = [c for c in top if c not in question.codes_in_group(claim.group)]
        return len(outside), f"{len(outside)} outside group {claim.group} in the {top_text}", base
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
        diff = first.share - second.share
        text = f"{_points(diff)} ({_proportion_text(first)} vs {_proportion_text(second)})"
        n = base + other_base if other_within != claim.within else base
        return diff, text, n
    raise CannotCompute(f"measure {claim.measure} is not implemented")  # unreachable: checked on load


def evaluate_claim(claim: Claim, frame: pd.DataFrame, codebook: Codebook, meta: Any = None, *,
                   subsets: Callable[[Mapping[str, str]], pd.DataFrame] | None = None) -> ClaimResult:
    """Compute the claim's measure on a wave's frame and say whether the article's words still hold.

    `subsets(within)`, if given, returns `tabulate.within(frame, codebook, within)`, e.g. from a
    chapter's cache of the rows of each sector.
    """
    allowed_text = format_allowed(claim)
    try:
        value, value_text, n = _compute(claim, frame, codebook, meta, subsets)
    except CannotCompute as reason:
        return ClaimResult(claim, CANNOT_COMPUTE, allowed_text=allowed_text, reason=str(reason))
    if isinstance(value, float) and math.isnan(value):
        return ClaimResult(claim, CANNOT_COMPUTE, allowed_text=allowed_text, reason="base under 1", n=n)
    status = HOLDS if claim.allowed.admits(value) else DOES_NOT_HOLD
    return ClaimResult(claim, status, value=value, value_text=value_text, allowed_text=allowed_text, n=n)


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
