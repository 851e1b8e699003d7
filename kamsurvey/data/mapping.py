"""Which column of an export holds which question (or option), and which columns are left out, and why.

Columns are matched to the codebook by what names them in the file: a question's id, its
wording (as asked in this wave or an earlier one) or its short title, and an option by its
code or label. The tools decorate question text; the decorations do not count: case and
spacing, numbering ('Q3.', 'Q3 ', '3)', 'Question 3:'), Qualtrics' ' - Selected Choice', a
trailing '?', '.' or ':', a '*' marking a required question, typographic quotes, and
SurveyMonkey's '(please specify)' after "Other". A misspelling is never matched.

The mapping that was used is a `Mapping`: one `Entry` per column, naming its question and
option, or why it was dropped (never a value). It is written as YAML for review
(`Mapping.to_yaml`, `Mapping.write`), can be corrected by hand, and read back
(`read_mapping`) and passed to the importer, which then takes each column it names as
the file says instead of matching it: a later wave of the same survey imports the same way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from kamsurvey.data.codebook import MULTI_SEPARATOR, Codebook
from kamsurvey.data.problems import Problem

# Where an entry's decision came from.
BY_WORDING = "matched by wording"
BY_FILE = "mapping file"
BY_TOOL = "survey tool's own column"
BY_CONTENT = "judged by content"
ON_REQUEST = "left out on request"

QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})
SELECTED_CHOICE = re.compile(r"\s+-\s+selected choice\b")
NUMBERING = re.compile(r"^(?:(?:q|question|item)\s*)?\d+[a-z]?(?:[.):]\s*|\s+)(?=\S)")
PLEASE_SPECIFY = re.compile(r"\s*\(?\s*please\s+specify\s*\)?\s*:?\s*$")
OPTION_SEPARATORS = (MULTI_SEPARATOR, " - ", ": ", " | ", " \u2014 ")
MAPPING_KEYS = ("column", "letter", "header", "question", "option", "drop", "origin")


def _plain(text: Any) -> str:
    return " ".join(unicodedata.normalize("NFKC", str(text)).translate(QUOTES).split()).casefold()


@lru_cache(maxsize=1 << 16)
def question_key(text: Any) -> str:
    """What a question's name says once the tools' decorations are taken off."""
    key = SELECTED_CHOICE.sub("", _plain(text))
    key = NUMBERING.sub("", key)
    previous = None
    while key != previous:
        previous = key
        key = key.strip(" *").rstrip(" ?.:")
    return key


@lru_cache(maxsize=1 << 16)
def option_key(text: Any) -> str:
    """What an option's label says: 'Other (please specify)' is 'other'."""
    return PLEASE_SPECIFY.sub("", _plain(text)).rstrip(" :")


@dataclass(frozen=True)
class Use:
    """What the importer does with one column: read a question (or one option of it), or drop it."""

    question: str | None = None
    option: str | None = None  # an option's code: the column holds that option (ticks, or the typed "Other")
    drop: str | None = None  # why the column is left out
    origin: str = BY_WORDING


class Targets:
    """Every name of every question and option of the codebook, normalised, for one wave."""

    def __init__(self, codebook: Codebook, wave: str | None):
        self.codebook = codebook
        names: dict[str, str] = {}
        ambiguous: set[str] = set()
        for question in codebook:
            candidates = [question.id, question.wording_in(wave), question.wording, question.short_title,
                          *question.wording_by_wave.values()]
            for name in candidates:
                key = question_key(name)
                if not key:
                    continue
                if names.get(key, question.id) != question.id:
                    ambiguous.add(key)
                names.setdefault(key, question.id)
        self.questions = {k: v for k, v in names.items() if k not in ambiguous}
        self.options: dict[str, dict[str, str]] = {}
        for question in codebook:
            lookup = {option_key(o.label): o.code for o in question.options}
            lookup.update({option_key(o.code): o.code for o in question.options})
            self.options[question.id] = lookup
        self.suggestions = list(dict.fromkeys(codebook.ids() + codebook.columns(None)
                                              + [q.wording_in(wave) for q in codebook]))

    def question(self, text: Any) -> str | None:
        return self.questions.get(question_key(text))

    def option(self, question: str, text: Any) -> str | None:
        return self.options[question].get(option_key(text))

    def split(self, header: str) -> tuple[str | None, str | None, str | None]:
        """(question, option code, unknown option text) of a header naming one option of a question.

        'downsides [No downsides]', 'downsides__none', 'Are there any downsides ...? - No downsides';
        a header whose question part is known but whose option is not gives that option's text.
        """
        text = SELECTED_CHOICE.sub("", str(header).strip())
        candidates: list[tuple[str, str]] = []
        bracket = re.match(r"^(.*\S)\s*\[(.*)\]\s*$", text)
        if bracket:
            candidates.append((bracket.group(1), bracket.group(2)))
        for separator in OPTION_SEPARATORS:
            start = text.find(separator)
            while start > 0:
                candidates.append((text[:start], text[start + len(separator):]))
                start = text.find(separator, start + 1)
        unknown: tuple[str, str] | None = None
        for left, right in candidates:
            question = self.question(left)
            if question is None:
                continue
            code = self.option(question, right)
            if code is not None:
                return question, code, None
            unknown = unknown or (question, right.strip())
        if unknown:
            return unknown[0], None, unknown[1]
        return None, None, None


# --------------------------------------------------------------------------- the mapping file


@dataclass(frozen=True)
class Entry:
    """One column of the export and what was done with it (its header is the tool's text, never a value)."""

    column: str  # the column's identity (Qualtrics' field name, SurveyMonkey's 'question [option]', the header)
    letter: str = ""
    header: str = ""
    question: str | None = None
    option: str | None = None
    drop: str | None = None
    origin: str = ""

    def as_dict(self) -> dict[str, str]:
        out = {"column": self.column, "letter": self.letter}
        if self.header and self.header != self.column:
            out["header"] = self.header
        if self.drop is not None:
            out["drop"] = self.drop
        else:
            out["question"] = self.question or ""
            if self.option is not None:
                out["option"] = self.option
        if self.origin:
            out["origin"] = self.origin
        return out


@dataclass
class Mapping:
    """How each column of one export was read: the import's decisions, for review and reuse."""

    tool: str
    source: str  # the export's file name
    entries: list[Entry] = field(default_factory=list)

    def by_column(self) -> dict[str, Entry]:
        return {e.column: e for e in self.entries}

    def dropped(self) -> list[Entry]:
        return [e for e in self.entries if e.drop is not None]

    def to_yaml(self) -> str:
        import yaml

        head = (f"# How {self.source} was read: one entry per column of the export ({self.tool}).\n"
                "# Review it. To change how a column is read, set its `question` (a codebook id) and, for a column\n"
                "# holding one option, its `option` (the option's code); to leave it out, replace them with\n"
                "# `drop: <why>`. Import again with this file: every column it names is read as it says, and a\n"
                "# later wave of the same survey imports the same way. Values from the file are never written here.\n")
        body = {"tool": self.tool, "source": self.source, "columns": [e.as_dict() for e in self.entries]}
        return head + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=1000, default_flow_style=False)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_yaml(), encoding="utf-8")
        return path


class MappingError(ValueError):
    """A mapping file that cannot be used; `.problems` names each entry at fault."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def mapping_from_data(raw: Any, file: str) -> Mapping:
    """A Mapping from parsed YAML, checked for shape (the codebook is checked when it is used)."""
    def problem(key: str | None, expected: str, issue: str) -> Problem:
        return Problem(file, None, None, key, None, expected, issue)

    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), list):
        raise MappingError([problem(None, "a mapping with a list of `columns` (as written by the import)",
                                    "not a mapping file")])
    problems, entries, seen = [], [], set()
    for n, item in enumerate(raw["columns"], start=1):
        where = f"columns[{n}]"
        if not isinstance(item, dict) or not str(item.get("column", "")).strip():
            problems.append(problem(where, "an entry with a `column`", "entry without a column"))
            continue
        unknown = sorted(set(item) - set(MAPPING_KEYS))
        if unknown:
            problems.append(problem(where, f"only the keys {', '.join(MAPPING_KEYS)}", f"unknown key {unknown[0]!r}"))
        column = str(item["column"])
        if column in seen:
            problems.append(problem(where, "each column once", f"column {column!r} is listed twice"))
        seen.add(column)
        drop = item.get("drop")
        question = item.get("question")
        if (drop is None) == (question in (None, "")):
            problems.append(problem(where, "either `question` (and perhaps `option`) or `drop`",
                                    f"column {column!r} has {'both' if drop is not None else 'neither'}"))
            continue
        entries.append(Entry(column, str(item.get("letter", "")), str(item.get("header", "")),
                             str(question) if drop is None else None,
                             str(item["option"]) if drop is None and item.get("option") is not None else None,
                             str(drop) if drop is not None else None, BY_FILE))
    if problems:
        raise MappingError(problems)
    return Mapping(str(raw.get("tool", "")), str(raw.get("source", "")), entries)


def read_mapping(path: str | Path) -> Mapping:
    """A mapping file written by the import (and perhaps corrected); MappingError if it cannot be used."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError([Problem(str(path), None, None, None, None, "an existing mapping file", "file not found")]) from None
    except yaml.YAMLError as error:
        raise MappingError([Problem(str(path), None, None, None, None, "a YAML mapping file", f"not valid YAML: {error}")]) from None
    return mapping_from_data(raw, str(path))
