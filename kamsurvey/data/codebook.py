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
from typing import Annotated, Any, Literal, Mapping

from pydantic import Field, StrictBool, StrictInt, StrictStr, model_validator

from kamsurvey.data import yamlfile
from kamsurvey.data.yamlfile import Id, Invalid, Schema, Text, raise_all

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


# --------------------------------------------------------------------------- the file's shape


class _OptionEntry(Schema):
    code: Id = Field(description="the option's code, as in responses.csv (e.g. strongly_agree)")
    label: Text = Field(description="the option's label, as text")
    group: Id | None = Field(None, description="the name of an analysis group (a key of groups)")
    exclusive: StrictBool = False
    reconstructed: StrictBool = False
    since: Id | None = Field(None, description="the first wave that offered the option (e.g. '2023')")
    score: StrictInt | None = Field(None, description="the option's score on the scale, a whole number")


class _ConditionEntry(Schema):
    question: Id = Field(description="the id of a question of this codebook")
    option: Id = Field(description="the code of one of that question's options")


class _QuestionEntry(Schema):
    id: Id = Field(description="the question's id, the column name in responses.csv")
    number: Annotated[StrictInt, Field(ge=1)] | None = Field(None, description="its number on the questionnaire, from 1")
    type: Literal[QUESTION_TYPES]
    wording: Text = Field(description="the exact wording shown to respondents")
    short_title: Text | None = Field(None, description="a short title, as text")
    options: Annotated[list[_OptionEntry], Field(min_length=1)] | None = None
    options_from: Id | None = Field(None, description="the id of a question whose options this one re-uses")
    asked_of: _ConditionEntry | None = None
    answer_among: Id | None = Field(None, description="the id of a multi question of this codebook")
    wording_by_wave: dict[Id, Text] = Field({}, description="a mapping of wave: the wording used in that wave")
    note: Text | None = Field(None, description="a note on the question for readers, as text")
    reconstructed: StrictBool = False

    @model_validator(mode="after")
    def _options_once(self) -> _QuestionEntry:
        if self.options is None and self.options_from is None:
            raise Invalid("no options", value=None, expected="options, or options_from naming a question to re-use")
        if self.options is not None and self.options_from is not None:
            raise Invalid("both options and options_from", key=("options_from",), expected="one of them")
        first: dict[str, int] = {}
        found = []
        for position, option in enumerate(self.options or ()):
            if option.code in first:
                found.append(Invalid("duplicate option codes", key=("options", position, "code"),
                                     expected=f"a code no other option of question '{self.id}' has "
                                              f"(options[{first[option.code]}] has it)"))
            first.setdefault(option.code, position)
        raise_all(found)
        return self


class _RuleEntry(Schema):
    id: Id = Field(description="the rule's name")
    if_: _ConditionEntry = Field(alias="if")
    forbids: _ConditionEntry
    message: StrictStr = Field("", description="what a respondent breaking the rule did, as text")


class _CodebookFile(Schema):
    survey: Text = Field("", description="the survey's name")
    publisher: Text | None = Field(None, description="who ran the survey, for readers of the file (the book cites "
                                                     "its publisher from CITATION.cff)")
    groups: dict[Id, Text] = Field({}, description="a mapping of group name: label")
    questions: Annotated[list[_QuestionEntry], Field(min_length=1)]
    rules: list[_RuleEntry] = []

    @model_validator(mode="after")
    def _references_exist(self) -> _CodebookFile:
        """Skip logic, re-used options and rules point at questions and options that exist."""
        found: list[Invalid] = []
        by_id = {question.id: question for question in self.questions}
        first: dict[str, int] = {}
        for position, question in enumerate(self.questions):
            here = ("questions", position)
            if question.id in first:
                found.append(Invalid("duplicate question id", key=here + ("id",),
                                     expected=f"an id no other question has (questions[{first[question.id]}] has it)"))
            first.setdefault(question.id, position)
            source = by_id.get(question.options_from) if question.options_from is not None else None
            if question.options_from is not None and (source is None or source.options is None):
                issue = (f"unknown question {question.options_from!r}" if source is None
                         else f"question {question.options_from!r} re-uses options itself")
                found.append(Invalid(issue, key=here + ("options_from",), value=None,
                                     expected="the id of a question of this codebook with options of its own"))
            if question.asked_of is not None:
                found += self._condition(question.asked_of, here + ("asked_of",), by_id)
            if question.answer_among is not None:
                among = by_id.get(question.answer_among)
                if among is None or among.type != "multi":
                    found.append(Invalid(key=here + ("answer_among",)))
        for position, rule in enumerate(self.rules):
            found += self._condition(rule.if_, ("rules", position, "if"), by_id)
            found += self._condition(rule.forbids, ("rules", position, "forbids"), by_id)
        raise_all(found)
        return self

    @staticmethod
    def _condition(condition: _ConditionEntry, key: yamlfile.KeyPath, by_id: Mapping[str, _QuestionEntry]) -> list[Invalid]:
        question = by_id.get(condition.question)
        if question is None:
            return [Invalid(f"unknown question {condition.question!r}", key=key + ("question",), value=None,
                            expected="the id of a question of this codebook: " + ", ".join(by_id))]
        codes = [option.code for option in _own_options(question, by_id)]
        if condition.option not in codes:
            return [Invalid(f"{condition.question!r} has no option {condition.option!r}", key=key + ("option",),
                            value=None, expected="one of its codes: " + ", ".join(codes))]
        return []


def _own_options(question: _QuestionEntry, by_id: Mapping[str, _QuestionEntry]) -> list[_OptionEntry]:
    if question.options is not None:
        return question.options
    source = by_id.get(question.options_from or "")
    return list(source.options or ()) if source is not None else []


# --------------------------------------------------------------------------- building the codebook


def _option(entry: _OptionEntry) -> Option:
    return Option(code=entry.code, label=entry.label, group=entry.group, exclusive=entry.exclusive,
                  reconstructed=entry.reconstructed, since=entry.since, score=entry.score)


def _skip_condition(entry: _ConditionEntry | None) -> SkipCondition | None:
    return SkipCondition(question=entry.question, option=entry.option) if entry is not None else None


def _codebook(checked: _CodebookFile) -> Codebook:
    by_id = {question.id: question for question in checked.questions}
    questions = tuple(
        Question(
            id=entry.id,
            number=entry.number if entry.number is not None else position,
            type=entry.type,
            wording=" ".join(entry.wording.split()),
            short_title=entry.short_title if entry.short_title is not None else entry.id,
            options=tuple(_option(option) for option in _own_options(entry, by_id)),
            asked_of=_skip_condition(entry.asked_of),
            answer_among=entry.answer_among,
            wording_by_wave={wave: " ".join(text.split()) for wave, text in entry.wording_by_wave.items()},
            note=entry.note,
            reconstructed=entry.reconstructed,
        )
        for position, entry in enumerate(checked.questions, start=1)
    )
    rules = tuple(Rule(id=rule.id, if_=_skip_condition(rule.if_), forbids=_skip_condition(rule.forbids),
                       message=rule.message) for rule in checked.rules)
    return Codebook(survey=checked.survey, questions=questions, groups=dict(checked.groups), rules=rules)


def codebook_from_mapping(raw: Any, *, file: str = "codebook.yml") -> Codebook:
    """A codebook from its parsed YAML, cross-checked; CodebookError naming every problem and its key."""
    return _codebook(yamlfile.checked(_CodebookFile, yamlfile.from_data(raw, file), CodebookError))


def load_codebook(path: str | Path) -> Codebook:
    """The codebook in `path`; CodebookError naming the file, the line and the key of every problem."""
    try:
        document = yamlfile.read(path, expected="the questionnaire's codebook, a YAML mapping with questions")
    except yamlfile.UnreadableFile as unreadable:
        raise CodebookError(str(unreadable)) from None
    return _codebook(yamlfile.checked(_CodebookFile, document, CodebookError))
