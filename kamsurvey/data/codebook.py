"""The questionnaire as data: `data/codebook.yml` parsed into small immutable objects.

Everything that needs a question's wording, an option's label, the order of options,
skip logic or which options are exclusive asks the codebook, so that a change of
wording is made once and reaches validation, tables, charts and the appendix alike.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

QUESTION_TYPES = ("single", "multi", "likert")
MULTI_SEPARATOR = "__"


class CodebookError(ValueError):
    """The codebook itself is malformed; raised while loading, before any data is read."""


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    group: str | None = None
    exclusive: bool = False
    reconstructed: bool = False
    since: str | None = None
    score: int | None = None

    def offered_in(self, wave: str | None) -> bool:
        """Options added in a later wave were not on the questionnaire of earlier ones."""
        return wave is None or self.since is None or str(wave) >= str(self.since)


@dataclass(frozen=True)
class SkipCondition:
    """A question is asked only of respondents who gave `option` at `question`."""

    question: str
    option: str


@dataclass(frozen=True)
class Question:
    id: str
    number: int
    type: str
    wording: str
    short_title: str
    options: tuple[Option, ...]
    asked_of: SkipCondition | None = None
    answer_among: str | None = None
    wording_by_wave: Mapping[str, str] = field(default_factory=dict)
    note: str | None = None
    reconstructed: bool = False

    @property
    def is_multi(self) -> bool:
        return self.type == "multi"

    def option(self, code: str) -> Option:
        for option in self.options:
            if option.code == code:
                return option
        raise KeyError(f"question {self.id!r} has no option {code!r}; valid: {', '.join(self.codes())}")

    def codes(self, wave: str | None = None) -> list[str]:
        return [o.code for o in self.options if o.offered_in(wave)]

    def label(self, code: str) -> str:
        return self.option(code).label

    def labels(self) -> dict[str, str]:
        return {o.code: o.label for o in self.options}

    def exclusive_codes(self) -> list[str]:
        return [o.code for o in self.options if o.exclusive]

    def substantive_codes(self, wave: str | None = None) -> list[str]:
        """Options that are answers in their own right, i.e. not 'none'/'nothing'."""
        return [o.code for o in self.options if not o.exclusive and o.offered_in(wave)]

    def codes_in_group(self, group: str) -> list[str]:
        return [o.code for o in self.options if o.group == group]

    def column(self, code: str) -> str:
        """Column holding one option of a multi-select question in responses.csv."""
        return f"{self.id}{MULTI_SEPARATOR}{code}"

    def columns(self, wave: str | None = None) -> list[str]:
        if self.is_multi:
            return [self.column(code) for code in self.codes(wave)]
        return [self.id]

    def wording_in(self, wave: str | None) -> str:
        if wave is not None and str(wave) in self.wording_by_wave:
            return self.wording_by_wave[str(wave)]
        return self.wording

    def fingerprint(self, wave: str | None) -> str:
        """Identity of what was asked in a wave: two waves can be trended only if equal."""
        payload = json.dumps(
            {"wording": " ".join(self.wording_in(wave).split()), "type": self.type, "options": self.codes(wave)},
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Rule:
    """Cross-question consistency: giving `if_` at one question forbids `forbids` at another."""

    id: str
    if_: SkipCondition
    forbids: SkipCondition
    message: str


@dataclass(frozen=True)
class Codebook:
    survey: str
    publisher: str
    questions: tuple[Question, ...]
    groups: Mapping[str, str]
    rules: tuple[Rule, ...] = ()

    def __getitem__(self, question_id: str) -> Question:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(f"no question {question_id!r} in the codebook; known: {', '.join(self.ids())}")

    def __contains__(self, question_id: object) -> bool:
        return any(q.id == question_id for q in self.questions)

    def __iter__(self):
        return iter(self.questions)

    def ids(self) -> list[str]:
        return [q.id for q in self.questions]

    def columns(self, wave: str | None = None) -> list[str]:
        """Every data column of responses.csv, in questionnaire order (respondent_id first)."""
        columns = ["respondent_id"]
        for question in self.questions:
            columns.extend(question.columns(wave))
        return columns

    def group_label(self, group: str) -> str:
        return self.groups.get(group, group)


def _option_from_mapping(raw: Mapping[str, Any], where: str) -> Option:
    if "code" not in raw or "label" not in raw:
        raise CodebookError(f"{where}: every option needs a code and a label, got {dict(raw)!r}")
    return Option(
        code=str(raw["code"]),
        label=str(raw["label"]),
        group=raw.get("group"),
        exclusive=bool(raw.get("exclusive", False)),
        reconstructed=bool(raw.get("reconstructed", False)),
        since=str(raw["since"]) if raw.get("since") is not None else None,
        score=raw.get("score"),
    )


def _condition(raw: Mapping[str, Any] | None, where: str) -> SkipCondition | None:
    if raw is None:
        return None
    try:
        return SkipCondition(question=str(raw["question"]), option=str(raw["option"]))
    except KeyError as missing:
        raise CodebookError(f"{where}: a condition needs 'question' and 'option', missing {missing}") from None


def codebook_from_mapping(raw: Mapping[str, Any]) -> Codebook:
    """Build and cross-check a codebook from its parsed YAML."""
    raw_questions: list[Mapping[str, Any]] = list(raw.get("questions") or [])
    if not raw_questions:
        raise CodebookError("the codebook lists no questions")
    by_id = {str(q.get("id")): q for q in raw_questions}
    questions: list[Question] = []
    for raw_q in raw_questions:
        qid = str(raw_q.get("id"))
        where = f"codebook question {qid!r}"
        qtype = raw_q.get("type")
        if qtype not in QUESTION_TYPES:
            raise CodebookError(f"{where}: type must be one of {QUESTION_TYPES}, got {qtype!r}")
        source = raw_q
        if "options_from" in raw_q:
            source = by_id.get(str(raw_q["options_from"]))
            if source is None:
                raise CodebookError(f"{where}: options_from names unknown question {raw_q['options_from']!r}")
        options = tuple(_option_from_mapping(o, where) for o in source.get("options") or [])
        if not options:
            raise CodebookError(f"{where}: no options")
        codes = [o.code for o in options]
        if len(set(codes)) != len(codes):
            raise CodebookError(f"{where}: duplicate option codes in {codes}")
        questions.append(
            Question(
                id=qid,
                number=int(raw_q.get("number", len(questions) + 1)),
                type=qtype,
                wording=" ".join(str(raw_q["wording"]).split()),
                short_title=str(raw_q.get("short_title", qid)),
                options=options,
                asked_of=_condition(raw_q.get("asked_of"), where),
                answer_among=raw_q.get("answer_among"),
                wording_by_wave={str(k): " ".join(str(v).split()) for k, v in (raw_q.get("wording_by_wave") or {}).items()},
                note=raw_q.get("note"),
                reconstructed=bool(raw_q.get("reconstructed", False)),
            )
        )
    rules = tuple(
        Rule(
            id=str(r["id"]),
            if_=_condition(r["if"], f"codebook rule {r.get('id')!r}"),
            forbids=_condition(r["forbids"], f"codebook rule {r.get('id')!r}"),
            message=str(r.get("message", "")),
        )
        for r in raw.get("rules") or []
    )
    codebook = Codebook(
        survey=str(raw.get("survey", "")),
        publisher=str(raw.get("publisher", "")),
        questions=tuple(questions),
        groups=dict(raw.get("groups") or {}),
        rules=rules,
    )
    _check_references(codebook)
    return codebook


def _check_references(codebook: Codebook) -> None:
    """Skip logic and rules must point at questions and options that exist."""

    def check(condition: SkipCondition | None, where: str) -> None:
        if condition is None:
            return
        if condition.question not in codebook:
            raise CodebookError(f"{where}: refers to unknown question {condition.question!r}")
        if condition.option not in codebook[condition.question].codes():
            raise CodebookError(f"{where}: {condition.question!r} has no option {condition.option!r}")

    for question in codebook.questions:
        check(question.asked_of, f"codebook question {question.id!r} asked_of")
        if question.answer_among is not None:
            among = codebook[question.answer_among] if question.answer_among in codebook else None
            if among is None or not among.is_multi:
                raise CodebookError(f"codebook question {question.id!r}: answer_among must name a multi question")
    for rule in codebook.rules:
        check(rule.if_, f"codebook rule {rule.id!r}")
        check(rule.forbids, f"codebook rule {rule.id!r}")


def load_codebook(path: str | Path) -> Codebook:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CodebookError(f"{path}: codebook not found") from None
    except yaml.YAMLError as exc:
        raise CodebookError(f"{path}: not valid YAML: {exc}") from None
    try:
        return codebook_from_mapping(raw or {})
    except CodebookError as exc:
        raise CodebookError(f"{path}: {exc}") from None
