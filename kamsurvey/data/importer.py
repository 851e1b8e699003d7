"""Importing a wave from the file an analyst actually has: a survey tool's export, as it comes.

    result = import_responses(path, codebook, wave)          # the tool is recognised
    result = import_responses(path, codebook, wave, format="qualtrics", mapping="mapping.yml",
                              not_asked=["bonus_size"], include_incomplete=False)

reads Qualtrics' "Download Data" CSV, SurveyMonkey's "All individual responses" (.xlsx or
.csv), Google Forms' responses sheet, Microsoft Forms' workbook, an SPSS .sav file (as
Qualtrics or SurveyMonkey write it), a table of the codebook's labels, or the data
contract's own responses.csv (see kamsurvey.data.formats), and returns, writing nothing:

- `responses`: the wave in the contract's form (option codes, one 1/0/empty column per option
  of a multi-select question, codebook order), each respondent under a new neutral id
  (R001, R002, ... in the file's order), never the tool's id, an e-mail or a name;
- `mapping`: which column was read as which question or option and which were dropped and
  why (`result.mapping.write(path)` for review; pass the file back as `mapping=`);
- `dropped`: the columns left out and why (personal data, typed text, tool metadata), never
  a value; `incomplete`: how many responses the tool marks unfinished (left out unless
  `include_incomplete`); `fieldwork`: the first and last kept response's days, when the
  export has timestamps, and where they were read (None otherwise: never guessed);
- `describe()`: a paragraph for the wave's README.

Personal data stops here: timestamps, IP addresses, locations, e-mails, names, recipient and
panel fields, external references, custom data, user agents and typed text are recognised
(by the tool's own columns, and by content for columns matching no question) and dropped;
a typed "Other" answer ticks "Other" and the text goes nowhere. Every problem in the file
is reported at once (`ImportFailed`), naming file, line (or row, or case), the new
respondent id and column; a value is shown only where it cannot be personal or typed text.
A question of the codebook with no column is an error unless declared `not_asked`.

What the importer does *not* judge is left to `kamsurvey.data.validate` (skip logic,
exclusive options, respondents answering nothing, ...), which runs on its output. Answers
are read once per distinct value of a column, not per cell.
"""

from __future__ import annotations

import difflib
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from kamsurvey.data import mapping as colmap
from kamsurvey.data.codebook import Codebook, Question
from kamsurvey.data.fieldwork import Fieldwork, Unreadable, read_days
from kamsurvey.data.formats import TOOLS, plain, read_export
from kamsurvey.data.formats.export import BY_LAST_QUESTION, BY_MARKER, EVERY_ROW, SUBMITTED_ONLY, Export, Field
from kamsurvey.data.personal import (ENDED, FINISHED, PROGRESS, RECORDED, STARTED, SUBMITTED, content_reason,
                                     may_be_personal, reason)
from kamsurvey.data.problems import MAX_PER_CHECK, MAX_SHOWN, Problem, line_order, render_problems
from kamsurvey.data.readers import ID_COLUMN, Column, letter_ranges

TICKED, UNTICKED = "1", "0"
OTHER = "other"  # the option a typed "Other" answer ticks (found by its label's key)

# How a question was found in the file (ImportResult.layout).
CODES = "codes"
LABELS = "labels"
OPTION_COLUMNS = "one column per option"


def joined_layout(separator: str) -> str:
    return f"one column, labels separated by '{separator.strip() or separator}'"


JOINED = joined_layout(";")
UNKNOWN_OPTION = "an option the codebook does not have"
NOT_SHOWN = "a value that is not shown (it may be personal data or typed text)"


def normalise(text: Any) -> str:
    """Case and spacing do not matter: ' Strongly  AGREE' -> 'strongly agree'."""
    return " ".join(str(text).split()).casefold()


class ImportFailed(ValueError):
    """The file cannot be turned into a wave; `.problems` lists every problem found."""

    def __init__(self, problems: Sequence[Problem], *, source: str | Path, tool: str | None = None):
        self.problems = list(problems)
        self.source = str(source)
        self.tool = tool
        super().__init__(self.render())

    def summary(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        what = f" (read as a {TOOLS[self.tool]})" if self.tool in TOOLS else ""
        return (f"{count} {noun} importing {self.source}{what}: fix each one named below "
                "(row 1 is the first header row) and import it again")

    def render(self) -> str:
        return render_problems(self.summary(), self.problems, MAX_SHOWN)

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self):
        return (_rebuild_failed, (self.problems, self.source, self.tool))


def _rebuild_failed(problems: list[Problem], source: str, tool: str | None) -> ImportFailed:
    return ImportFailed(problems, source=source, tool=tool)


@dataclass
class ImportResult:
    """The wave's responses in contract form, and everything the import decided on the way."""

    responses: pd.DataFrame
    source: Path
    tool: str = "labels"
    layout: dict[str, str] = field(default_factory=dict)
    mapping: colmap.Mapping | None = None
    not_asked: list[str] = field(default_factory=list)
    responses_in_file: int = 0
    incomplete: int = 0
    include_incomplete: bool = False
    completion: str = EVERY_ROW
    fieldwork: Fieldwork | None = None
    other_typed: dict[str, int] = field(default_factory=dict)  # question -> answers read as "Other" from typed text
    notes: list[str] = field(default_factory=list)

    @property
    def canonical(self) -> bool:
        return all(kind == CODES for kind in self.layout.values())

    @property
    def left_out(self) -> list[str]:
        """The questions not asked in this wave (declared)."""
        return list(self.not_asked)

    @property
    def dropped(self) -> list[tuple[str, str]]:
        """(column, why) of every column left out: names and reasons, never values."""
        return [(e.column, e.drop) for e in self.mapping.dropped()] if self.mapping else []

    @property
    def ignored(self) -> list[str]:
        return [e.column for e in self.mapping.dropped() if e.origin == colmap.ON_REQUEST] if self.mapping else []

    def describe(self) -> str:
        """One paragraph for the wave's README: what the file held, how it was read, what was left out."""
        kinds = sorted(set(self.layout.values()))
        text = (f"{len(self.responses):,} respondents and {len(self.layout)} questions were read from "
                f"`{self.source.name}`, a {TOOLS.get(self.tool, self.tool)}")
        text += " (the canonical format: option codes)." if self.canonical else f" ({', '.join(kinds)})."
        parts = [text]
        if self.completion != EVERY_ROW:
            rule = {BY_MARKER: "by the tool's own completion marker",
                    SUBMITTED_ONLY: "the tool records only submitted responses",
                    BY_LAST_QUESTION: "a response is complete when it answered the last question asked of it"}
            told = rule.get(self.completion, f"by {self.completion}")
            if self.incomplete:
                fate = "kept (include_incomplete)" if self.include_incomplete else "left out"
                parts.append(f"{self.incomplete:,} of the {self.responses_in_file:,} responses in the file are "
                             f"incomplete ({told}) and were {fate}.")
            else:
                parts.append(f"All {self.responses_in_file:,} responses in the file are complete ({told}).")
        if self.not_asked:
            parts.append("Not asked in this wave: " + ", ".join(self.not_asked) + ".")
        dropped = self.dropped
        if dropped:
            reasons: dict[str, int] = {}
            for _, why in dropped:
                reasons[why] = reasons.get(why, 0) + 1
            listed = "; ".join(f"{why}: {count}" for why, count in reasons.items())
            parts.append(f"{len(dropped)} columns were dropped at import and never stored ({listed}).")
        if self.other_typed:
            typed = ", ".join(f"{q} ({n})" for q, n in self.other_typed.items())
            parts.append(f"Answers typed into \"Other\" count as \"Other\"; the text was not kept: {typed}.")
        if self.fieldwork is not None:
            parts.append(f"Fieldwork: {self.fieldwork.start} to {self.fieldwork.end}, from {self.fieldwork.source}.")
        parts.extend(note if note.endswith(".") else note + "." for note in self.notes)
        return " ".join(parts)


# --------------------------------------------------------------------------- problems, named after the ids are known


@dataclass
class _RowIssue:
    rows: np.ndarray  # indexes of the responses at fault
    column: str
    shown: list[str | None]  # per row: the value to show, or None
    expected: list[str]
    issue: str


class _Collector:
    """Problems of the file (named at once) and of rows (named once it is known which rows are kept)."""

    def __init__(self, export: Export | None, file: str):
        self.export = export
        self.file = file
        self.problems: list[Problem] = []
        self.row_issues: list[_RowIssue] = []
        self.unit = export.unit if export is not None else "line"

    def header(self, column: str | None, expected: str, issue: str, value: Any = None, row: int | None = 1) -> None:
        self.problems.append(Problem(self.file, row if self.unit != "case" else None, None, column, value, expected,
                                     issue, unit=self.unit))

    def whole(self, column: str | None, expected: str, issue: str) -> None:
        self.problems.append(Problem(self.file, None, None, column, None, expected, issue, unit=self.unit))

    def rows(self, mask: np.ndarray, column: str, shown: list[str | None], expected: list[str], issue: str) -> None:
        """Rows at fault in a column: `shown`/`expected` are per row (only the rows at fault)."""
        rows = np.flatnonzero(mask)
        if len(rows):
            self.row_issues.append(_RowIssue(rows, column, shown, expected, issue))

    def finish(self, keep: np.ndarray, ids: dict[int, str]) -> list[Problem]:
        """Every problem, rows of responses left out forgotten, at most MAX_PER_CHECK a column and check."""
        problems, summaries = list(self.problems), []
        for item in self.row_issues:
            listed = 0
            left = 0
            for k, row in enumerate(item.rows):
                if not keep[row]:
                    continue
                if listed >= MAX_PER_CHECK:
                    left += 1
                    continue
                problems.append(Problem(self.file, self.export.line(int(row)), ids.get(int(row)), item.column,
                                        item.shown[k], item.expected[k], item.issue, unit=self.unit))
                listed += 1
            if left:
                summaries.append(Problem(self.file, None, None, item.column, None, "as above",
                                         f"{left} more rows like these", unit=self.unit))
        return sorted(problems, key=line_order) + summaries


def _closest(value: str, candidates: Sequence[str], n: int = 3) -> list[str]:
    """The candidates most like `value` (compared without case or spacing), best first."""
    by_key = {normalise(c): c for c in candidates}
    keys = difflib.get_close_matches(normalise(value), list(by_key), n=n, cutoff=0.0)
    return [by_key[k] for k in keys]


def _quoted(items: Iterable[str]) -> str:
    return ", ".join(f"'{item}'" for item in items)


def _strict(export: Export) -> bool:
    """A survey tool's export holds personal data beside the answers: show a wrong answer only if it reads as a label."""
    return export.tool not in (plain.LABELS, plain.CANONICAL)


def _showable(value: str, labels: Sequence[str], strict: bool) -> bool:
    """Whether a wrong answer may be shown: never what may be personal or typed text.

    A short value is shown (a misspelt label, 'yes' for a tick) in the analyst's own table; in a
    survey tool's export (`strict`), only a value that reads as a misspelt label.
    """
    if may_be_personal(value):
        return False
    if difflib.get_close_matches(normalise(value), [normalise(label) for label in labels], n=1, cutoff=0.6):
        return True
    return not strict and len(value) <= 20


# --------------------------------------------------------------------------- columns -> questions


def _given_mapping(mapping: colmap.Mapping | str | Path | None, file: str) -> colmap.Mapping | None:
    if mapping is None or isinstance(mapping, colmap.Mapping):
        return mapping
    try:
        return colmap.read_mapping(mapping)
    except colmap.MappingError as error:
        raise ImportFailed(error.problems, source=file) from None


def _use_from_entry(entry: colmap.Entry, targets: colmap.Targets, out: _Collector, where: str) -> colmap.Use:
    if entry.drop is not None:
        return colmap.Use(drop=entry.drop, origin=colmap.BY_FILE)
    codebook = targets.codebook
    if entry.question not in codebook:
        out.problems.append(Problem(where, None, None, entry.column, entry.question,
                                    f"a question of the codebook: {_quoted(_closest(entry.question or '', codebook.ids()))}",
                                    "unknown question in the mapping file"))
        return colmap.Use(drop="unknown question in the mapping file", origin=colmap.BY_FILE)
    question = codebook[entry.question]
    if entry.option is not None and entry.option not in question.codes(None):
        out.problems.append(Problem(where, None, None, entry.column, entry.option,
                                    f"an option code of {question.id}: {_quoted(_closest(entry.option, question.codes(None)))}",
                                    "unknown option in the mapping file"))
        return colmap.Use(drop="unknown option in the mapping file", origin=colmap.BY_FILE)
    return colmap.Use(question.id, entry.option, origin=colmap.BY_FILE)


def _match_field(f: Field, cells: Column, targets: colmap.Targets, out: _Collector) -> colmap.Use:
    """What one column holds, from the tool's layout and its header (and, for a dropped column, its content)."""
    if f.role is not None:
        return colmap.Use(drop=reason(f.role), origin=colmap.BY_TOOL)
    if f.option_text is not None:
        question = targets.question(f.question_text)
        if question is None:
            return colmap.Use(drop=reason("free text") if f.free_text else reason("unknown"), origin=colmap.BY_WORDING)
        code = targets.option(question, f.option_text)
        if code is not None:
            return colmap.Use(question, code)
        if f.free_text:
            return colmap.Use(drop=reason("free text"), origin=colmap.BY_TOOL)
        options = [o.label for o in targets.codebook[question].options]
        out.header(f.header, f"an option of {question}; closest: {_quoted(_closest(f.option_text, options))}",
                   "unknown option")
        return colmap.Use(question, drop=UNKNOWN_OPTION, origin=colmap.BY_WORDING)
    if f.free_text:
        return colmap.Use(drop=reason("free text"), origin=colmap.BY_TOOL)
    if not f.question_text.strip():
        has_data = any(v.strip() for v in cells.values)
        return colmap.Use(drop="column without a name" if has_data else "empty column", origin=colmap.BY_CONTENT)
    question = targets.question(f.question_text)
    if question is not None:
        return colmap.Use(question)
    question, code, unknown = targets.split(f.question_text)
    if code is not None:
        return colmap.Use(question, code)
    if question is not None:
        labels = [o.label for o in targets.codebook[question].options]
        out.header(f.header, "a column named by a question's id or wording, or an option of a multi-select question "
                   f"(e.g. 'rewarded_with__bonus_cash' or 'rewarded_with [Bonus (cash)]'); closest: "
                   f"{_quoted(_closest(f.question_text, [f'{question} [{label}]' for label in labels]))}",
                   "unknown column")
        return colmap.Use(question, drop=UNKNOWN_OPTION, origin=colmap.BY_WORDING)
    return colmap.Use(drop=content_reason(cells.values), origin=colmap.BY_CONTENT)


def _match(export: Export, targets: colmap.Targets, given: colmap.Mapping | None, ignore: Iterable[str],
           out: _Collector) -> list[colmap.Use]:
    ignored = {normalise(name) for name in ignore}
    entries = given.by_column() if given else {}
    uses = []
    for f, cells in zip(export.fields, export.cells):
        if f.key in entries:
            uses.append(_use_from_entry(entries[f.key], targets, out, f"mapping file ({given.source or 'given'})"))
        elif normalise(f.key) in ignored or normalise(f.header) in ignored:
            uses.append(colmap.Use(drop="left out on request", origin=colmap.ON_REQUEST))
        else:
            uses.append(_match_field(f, cells, targets, out))
    if given:
        keys = {f.key for f in export.fields}
        for column, entry in entries.items():
            if column not in keys and entry.drop is None:
                out.whole(column, "a column of the export (or take the entry out of the mapping file)",
                          "the mapping file names a column the export does not have")
    unnamed = [f.index for f, u in zip(export.fields, uses) if u.drop == "column without a name"]
    if unnamed:
        out.whole(None, "a name in the header row for every column holding answers (or export the file again as it "
                  "comes)", f"columns {letter_ranges(unnamed)} have no name but hold answers")
    return uses


@dataclass
class _Plan:
    """How one question is read: a whole column, one column per option, and perhaps a typed "Other"."""

    question: Question
    whole: int | None = None  # field index
    options: dict[str, int] = field(default_factory=dict)  # code -> field index


def _plan(export: Export, uses: list[colmap.Use], codebook: Codebook, wave: str | None, not_asked: set[str],
          targets: colmap.Targets, out: _Collector) -> dict[str, _Plan]:
    plans: dict[str, _Plan] = {}
    taken: dict[tuple[str, str | None], int] = {}
    flagged = {use.question for use in uses if use.drop == UNKNOWN_OPTION}  # already named: an unknown option
    for i, use in enumerate(uses):
        if use.drop is not None or use.question is None:
            continue
        f = export.fields[i]
        target = (use.question, use.option)
        if target in taken:
            out.header(f.header, "each question or option in one column only",
                       f"names the same thing as column '{export.fields[taken[target]].header}'")
            continue
        taken[target] = i
        plan = plans.setdefault(use.question, _Plan(codebook[use.question]))
        if use.option is None:
            plan.whole = i
        else:
            plan.options[use.option] = i
    for question_id, plan in list(plans.items()):
        question = plan.question
        if question_id in not_asked:
            columns = [export.fields[i].header for i in ([plan.whole] if plan.whole is not None else []) + list(plan.options.values())]
            out.whole(columns[0], f"no column for {question_id}, or {question_id} not declared not asked",
                      f"{question_id} is declared not asked in this wave, but the export holds it")
            del plans[question_id]
            continue
        if question.is_multi and plan.whole is not None and plan.options:
            typed_other = set(plan.options) == {_other_code(question)} and export.fields[plan.options[_other_code(question)]].free_text
            if not typed_other:
                out.header(export.fields[plan.whole].header,
                           f"either one column for {question_id} or one column per option, not both",
                           f"{question_id} is also given one column per option "
                           f"({_quoted(export.fields[i].header for i in plan.options.values())})")
                del plans[question_id]
                continue
        if not question.is_multi and plan.whole is None:
            out.whole(None, f"a column holding the answer to {question_id}",
                      f"{question_id} has only a column for {_quoted(plan.options)}")
            del plans[question_id]
            continue
        if question.is_multi and plan.whole is None and question_id not in flagged:
            missing = [c for c in question.codes(wave) if c not in plan.options]
            if missing:
                labels = [question.label(c) for c in missing]
                out.whole(None, f"a column for every option of {question_id} offered in this wave",
                          f"no column for {'option' if len(missing) == 1 else 'options'} {_quoted(labels)} of {question_id}")
    unmatched = [f.header for f, u in zip(export.fields, uses)
                 if u.drop is not None and u.origin == colmap.BY_CONTENT and f.question_text.strip()]
    for question in codebook:
        if question.id in plans or question.id in not_asked or question.id in flagged \
                or question.id in {q for (q, _) in taken}:
            continue
        hint = f"; columns left unmatched: {_quoted(_closest(question.wording_in(wave), unmatched))}" if unmatched else ""
        out.whole(None, f"a column headed by its wording ('{question.wording_in(wave)}'), its id or its short title "
                  f"(or declare it not asked in this wave){hint}", f"question {question.id} is missing")
    return plans


def _other_code(question: Question) -> str | None:
    """The option a typed answer stands for: the one labelled "Other" (not, say, "Other sectors")."""
    for option in question.options:
        if colmap.option_key(option.label) == OTHER:
            return option.code
    return None


# --------------------------------------------------------------------------- reading answers (once per distinct value)


def _answer_lookup(question: Question) -> dict[str, str]:
    """Normalised label or code -> code (a code wins over another option's identical label)."""
    lookup = {colmap.option_key(o.label): o.code for o in question.options}
    lookup.update({colmap.option_key(o.code): o.code for o in question.options})
    return lookup


def _bad_values(out: _Collector, bad: np.ndarray, column: Column, header: str, question: Question, what: str,
                issue: str, strict: bool, value_of=None) -> None:
    """Report rows whose value is no answer, showing a value only where it reads as a misspelt label."""
    labels = [o.label for o in question.options]
    rows = np.flatnonzero(bad)
    shown, expected = [], []
    for row in rows:
        value = value_of(row) if value_of else column.values[column.codes[row]]
        visible = _showable(value, labels, strict)
        shown.append(value if visible else None)
        closest = _closest(value, labels) if visible else labels[:3]
        expected.append(f"{what} of {question.id}; closest: {_quoted(closest)}" if visible
                        else f"{what} of {question.id} (got {NOT_SHOWN}); labels: {_quoted(labels)}")
    out.rows(bad, header, shown, expected, issue)


def _read_single(column: Column, question: Question, header: str, export: Export, out: _Collector) -> tuple[np.ndarray, bool, np.ndarray]:
    """Each row's code ('' unanswered), whether the column held codes, and the rows read as a typed "Other"."""
    lookup = _answer_lookup(question)
    other = _other_code(question)
    mapped, typed = [], []
    for value in column.values:
        code = lookup.get(colmap.option_key(value)) if value.strip() else ""
        is_typed = code is None and export.other_in_place and other is not None
        mapped.append(other if is_typed else code)
        typed.append(is_typed)
    bad = np.array([m is None for m in mapped], dtype=bool)[column.codes]
    if bad.any():
        _bad_values(out, bad, column, header, question, "a label (or code)", "unknown label", _strict(export))
    is_code = all(m is None or m == v for m, v in zip(mapped, column.values))
    codes = np.array([m or "" for m in mapped], dtype=object)[column.codes]
    return codes, is_code, np.array(typed, dtype=bool)[column.codes]


def _segments(text: str, separator: str, lookup: dict[str, str]) -> tuple[set[str], list[str]]:
    """The codes of the labels joined in `text`, and the stretches that are no label.

    Labels may hold the separator ('Yes, due to their age' joined by ', '): the longest run of
    pieces that is a label wins, so a label is never cut at its own comma.
    """
    mark = separator.strip() or separator
    pieces = [(m.start(), m.end()) for m in re.finditer(f"[^{re.escape(mark)}]+", text)]
    codes: set[str] = set()
    unknown: list[str] = []
    run: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        for j in range(len(pieces), i, -1):
            code = lookup.get(colmap.option_key(text[pieces[i][0]:pieces[j - 1][1]]))
            if code is not None:
                if run:
                    unknown.append(text[run[0][0]:run[-1][1]].strip())
                    run = []
                codes.add(code)
                i = j
                break
        else:
            if text[pieces[i][0]:pieces[i][1]].strip():
                run.append(pieces[i])
            i += 1
    if run:
        unknown.append(text[run[0][0]:run[-1][1]].strip())
    return codes, unknown


def _read_joined(column: Column, question: Question, header: str, wave: str | None, export: Export,
                 out: _Collector) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One column of labels joined by the tool's separator -> per option: 0 empty, 1 unticked, 2 ticked."""
    lookup = _answer_lookup(question)
    other = _other_code(question)
    separator = export.separator or ";"
    chosen: list[set[str] | None] = []
    unknown: list[str | None] = []
    typed: list[bool] = []
    for value in column.values:
        codes, strangers = _segments(value, separator, lookup) if value.strip() else (None, [])
        in_place = bool(strangers) and export.other_in_place and other is not None  # one typed text, cut at its separators
        if in_place:
            codes.add(other)  # Google and Microsoft Forms write the typed "Other" where its label would be
        chosen.append(codes)
        unknown.append(strangers[0] if strangers and not in_place else None)
        typed.append(in_place)
    bad = np.array([u is not None for u in unknown], dtype=bool)[column.codes]
    if bad.any():
        _bad_values(out, bad, column, header, question, "a label (or code)",
                    f"unknown label among the answers separated by '{separator.strip() or separator}'",
                    _strict(export), value_of=lambda row: unknown[column.codes[row]])
    used = set().union(*(c for c in chosen if c))
    codes = [c for c in question.codes(None) if c in question.codes(wave) or c in used]
    answered = np.array([c is not None for c in chosen], dtype=bool)[column.codes]
    states = {}
    for code in codes:
        has = np.array([bool(c) and code in c for c in chosen], dtype=bool)[column.codes]
        states[code] = np.where(answered, np.where(has, 2, 1), 0).astype(np.int8)
    return states, np.array(typed, dtype=bool)[column.codes]


def _read_option(column: Column, question: Question, code: str, header: str, typed_text: bool, strict: bool,
                 out: _Collector) -> tuple[np.ndarray, bool]:
    """Per row: 0 empty, 1 unticked ('0'), 2 ticked ('1', the option's label, or any typed text for "Other")."""
    option = question.option(code)
    ticked_names = {colmap.option_key(option.label), colmap.option_key(option.code)}
    classes, labelled = [], False
    for value in column.values:
        key = normalise(value)
        if key == "":
            classes.append(0)
        elif typed_text:
            classes.append(2)
        elif key == UNTICKED:
            classes.append(1)
        elif key == TICKED:
            classes.append(2)
        elif colmap.option_key(value) in ticked_names:
            classes.append(2)
            labelled = True
        else:
            classes.append(3)
    states = np.array(classes, dtype=np.int8)[column.codes]
    bad = states == 3
    if bad.any():
        rows = np.flatnonzero(bad)
        shown = [column.values[column.codes[r]] if _showable(column.values[column.codes[r]], [option.label], strict) else None
                 for r in rows]
        expected = f"1, 0, empty, or the option's label '{option.label}'"
        out.rows(bad, header, shown, [expected if s is not None else f"{expected} (got {NOT_SHOWN})" for s in shown],
                 f"not a tick of option {code}")
        states = np.where(bad, 0, states).astype(np.int8)
    return states, labelled


@dataclass
class _Answers:
    """One question's answers over every response of the file."""

    single: np.ndarray | None = None  # codes ('' unanswered)
    states: dict[str, np.ndarray] | None = None  # multi: code -> 0 empty / 1 unticked / 2 ticked
    typed_other: np.ndarray | None = None  # rows whose "Other" came from typed text
    present: np.ndarray | None = None  # rows with anything in the question's columns (a wrong answer too)

    def answered(self) -> np.ndarray:
        return self.present

    def chose(self, code: str, n: int) -> np.ndarray:
        if self.single is not None:
            return self.single == code
        state = (self.states or {}).get(code)
        return state == 2 if state is not None else np.zeros(n, dtype=bool)


def _read_answers(export: Export, plans: dict[str, _Plan], wave: str | None,
                  out: _Collector) -> tuple[dict[str, _Answers], dict[str, str]]:
    answers: dict[str, _Answers] = {}
    layout: dict[str, str] = {}
    for question_id, plan in plans.items():
        answers[question_id], layout[question_id] = _read_question(export, plan, wave, out)
    return answers, layout


def _present(export: Export, plan: _Plan) -> np.ndarray:
    """Rows with anything in the question's columns: answered, even if wrongly (a wrong answer is named)."""
    present = np.zeros(export.n, dtype=bool)
    for index in ([plan.whole] if plan.whole is not None else []) + list(plan.options.values()):
        column = export.cells[index]
        present |= column.where(lambda v: bool(v.strip()) and v.strip() != UNTICKED)
    return present


def _read_question(export: Export, plan: _Plan, wave: str | None, out: _Collector) -> tuple[_Answers, str]:
    question = plan.question
    present = _present(export, plan)
    if not question.is_multi:
        f = export.fields[plan.whole]
        codes, is_code, typed = _read_single(export.cells[plan.whole], question, f.header, export, out)
        other = _other_code(question)
        if other in plan.options:  # SurveyMonkey: "Other (please specify)" beside the answer
            typed_column = export.cells[plan.options[other]]
            has_text = np.array([bool(v.strip()) for v in typed_column.values], dtype=bool)[typed_column.codes]
            fill = (codes == "") & has_text
            codes = np.where(fill, other, codes)
            typed = typed | fill
        return _Answers(single=codes, typed_other=typed, present=present), \
            CODES if is_code and f.key == question.id else LABELS
    if plan.whole is not None:
        f = export.fields[plan.whole]
        states, typed = _read_joined(export.cells[plan.whole], question, f.header, wave, export, out)
        other = _other_code(question)
        if other in plan.options:
            column = export.cells[plan.options[other]]
            has_text = np.array([bool(v.strip()) for v in column.values], dtype=bool)[column.codes]
            states[other] = np.where(has_text, 2, states.get(other, np.zeros(export.n, dtype=np.int8))).astype(np.int8)
            typed = typed | has_text
        return _Answers(states=states, typed_other=typed, present=present), joined_layout(export.separator or ";")
    states, any_label = {}, False
    for code, index in plan.options.items():
        f = export.fields[index]
        states[code], labelled = _read_option(export.cells[index], question, code, f.header, f.free_text,
                                              _strict(export), out)
        any_label |= labelled
    ticked_somewhere = np.logical_or.reduce([s == 2 for s in states.values()])
    ordered = {}
    for code in question.codes(None):
        if code in states:  # a row with a tick elsewhere: an empty cell is an option left unticked
            ordered[code] = np.where((states[code] == 0) & ticked_somewhere, 1, states[code]).astype(np.int8)
    other = _other_code(question)
    typed = (states[other] == 2) if other in plan.options and export.fields[plan.options[other]].free_text \
        else np.zeros(export.n, dtype=bool)
    canonical = all(export.fields[i].key == question.column(c) for c, i in plan.options.items())
    return _Answers(states=ordered, typed_other=typed, present=present), \
        CODES if canonical and not any_label else OPTION_COLUMNS


# --------------------------------------------------------------------------- complete responses, fieldwork


TRUE_WORDS = {"true", "1", "yes", "finished", "complete", "completed"}
FALSE_WORDS = {"false", "0", "no", "", "partial", "incomplete"}


def _complete(export: Export, answers: dict[str, _Answers], codebook: Codebook,
              out: _Collector) -> tuple[np.ndarray, str]:
    """Which responses are complete, by the tool's own marker where it has one; and the rule used."""
    n = export.n
    if export.completion in (EVERY_ROW, SUBMITTED_ONLY):
        return np.ones(n, dtype=bool), export.completion
    fields = {f.role: (f, c) for f, c in zip(export.fields, export.cells) if f.role in (FINISHED, PROGRESS)}
    if export.completion == BY_MARKER and FINISHED in fields:
        f, column = fields[FINISHED]
        classes = [1 if normalise(v) in TRUE_WORDS else 0 if normalise(v) in FALSE_WORDS else -1 for v in column.values]
        state = np.array(classes, dtype=np.int8)[column.codes]
        bad = state < 0
        if bad.any():
            rows = np.flatnonzero(bad)
            out.rows(bad, f.key, [column.values[column.codes[r]] for r in rows],
                     ["True or False (1 or 0): whether the response was finished"] * len(rows), "not a completion marker")
        return state == 1, f"{BY_MARKER} ({f.key})"
    if export.completion == BY_MARKER and PROGRESS in fields:
        f, column = fields[PROGRESS]
        full = np.array([_number(v) == 100 for v in column.values], dtype=bool)[column.codes]
        return full, f"{BY_MARKER} ({f.key} = 100)"
    return _answered_last_question(answers, codebook, n), BY_LAST_QUESTION


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _answered_last_question(answers: dict[str, _Answers], codebook: Codebook, n: int) -> np.ndarray:
    """A response with no completion marker is complete when it answered the last question asked of it."""
    complete = np.zeros(n, dtype=bool)
    decided = np.zeros(n, dtype=bool)
    for question in reversed(codebook.questions):
        if question.id not in answers:
            continue
        asked = np.ones(n, dtype=bool)
        if question.asked_of is not None and question.asked_of.question in answers:
            asked = answers[question.asked_of.question].chose(question.asked_of.option, n)
        here = asked & ~decided
        complete[here] = answers[question.id].answered()[here]
        decided |= asked
    return complete


def _fieldwork(export: Export, keep: np.ndarray, out_notes: list[str]) -> Fieldwork | None:
    """First and last day of the kept responses, from the export's own timestamps; None when it has none."""
    by_role = {f.role: (f, c) for f, c in zip(export.fields, export.cells) if f.role in (STARTED, ENDED, SUBMITTED, RECORDED)}
    first = next((by_role[r] for r in (STARTED, SUBMITTED, RECORDED, ENDED) if r in by_role), None)
    last = next((by_role[r] for r in (ENDED, RECORDED, SUBMITTED, STARTED) if r in by_role), None)
    if first is None or not keep.any():
        return None
    days = {}
    for f, column in {id(first[0]): first, id(last[0]): last}.values():
        values = [column.values[column.codes[i]] for i in np.flatnonzero(keep)]
        try:
            read, why_not = read_days(values)
        except Unreadable as error:
            row = int(np.flatnonzero(keep)[error.index])
            out_notes.append(f"The fieldwork dates could not be read: column {f.key}, {export.unit} {export.line(row)} "
                             "holds no date the importer can read (not shown: timestamps are personal data); give them")
            return None
        if why_not:
            out_notes.append(f"The fieldwork dates could not be read from column {f.key}: {why_not}; give them")
            return None
        days[f.key] = [d for d in read if d is not None]
    start_days, end_days = days[first[0].key], days[last[0].key]
    if not start_days or not end_days:
        return None
    n = int(keep.sum())
    what = (f"the {first[0].key} timestamps" if first[0].key == last[0].key
            else f"the earliest {first[0].key} and the latest {last[0].key}")
    source = f"{what} of the {n:,} responses kept ({TOOLS.get(export.tool, export.tool)} {Path(export.file).name})"
    return Fieldwork(min(start_days), max(end_days), source)


# --------------------------------------------------------------------------- the import


def neutral_ids(n: int) -> list[str]:
    """R001, R002, ... (wider when there are more respondents): the house's ids, meaning nothing."""
    width = max(3, len(str(n)))
    return [f"R{i:0{width}d}" for i in range(1, n + 1)]


def import_responses(path: str | Path, codebook: Codebook, wave: str | None, *, format: str | None = None,
                     mapping: colmap.Mapping | str | Path | None = None, not_asked: Iterable[str] = (),
                     include_incomplete: bool = False, ignore: Iterable[str] = ()) -> ImportResult:
    """Read a survey tool's export (or the canonical file) into the contract's form; write nothing.

    `format` forces a tool (kamsurvey.data.formats.FORMATS) instead of recognising it;
    `mapping` (a Mapping or a mapping file) says how columns are read; `not_asked` names the
    codebook's questions this wave did not ask; `include_incomplete` keeps unfinished
    responses; `ignore` names further columns to leave out. Raises ImportFailed listing
    every problem.
    """
    path = Path(path)
    file = str(path)
    given = _given_mapping(mapping, file)
    export, read_problems = read_export(path, codebook, format)
    if export is None:
        raise ImportFailed(read_problems, source=path, tool=format)
    out = _Collector(export, file)
    out.problems.extend(read_problems)
    not_asked = list(dict.fromkeys(str(q) for q in not_asked))
    for question_id in not_asked:
        if question_id not in codebook:
            out.whole(None, f"a question of the codebook: {_quoted(_closest(question_id, codebook.ids()))}",
                      f"{question_id!r}, declared not asked, is no question of the codebook")
    targets = colmap.Targets(codebook, wave)
    uses = _match(export, targets, given, ignore, out)
    plans = _plan(export, uses, codebook, wave, set(not_asked), targets, out)
    answers, layout = _read_answers(export, plans, wave, out)
    complete, rule = _complete(export, answers, codebook, out)
    keep = np.ones(export.n, dtype=bool) if include_incomplete else complete
    kept_rows = np.flatnonzero(keep)
    ids = dict(zip(kept_rows.tolist(), neutral_ids(len(kept_rows))))
    problems = out.finish(keep, ids)
    if problems:
        raise ImportFailed(problems, source=path, tool=export.tool)

    columns: dict[str, Any] = {}
    other_typed: dict[str, int] = {}
    for question in codebook:
        if question.id not in answers:
            continue
        a = answers[question.id]
        if a.single is not None:
            columns[question.id] = pd.Categorical(a.single[keep])
        else:
            for code, state in a.states.items():
                columns[question.column(code)] = pd.Categorical.from_codes(state[keep], categories=["", UNTICKED, TICKED])
        typed = int(a.typed_other[keep].sum()) if a.typed_other is not None and len(a.typed_other) else 0
        if typed:
            other_typed[question.id] = typed
    order = [c for c in codebook.columns(None) if c in columns]
    data = {ID_COLUMN: np.array(neutral_ids(len(kept_rows)), dtype=object)}
    data.update({name: columns[name] for name in order})
    responses = pd.DataFrame(data)
    notes = list(export.notes)
    fieldwork = _fieldwork(export, keep, notes)
    entries = [colmap.Entry(f.key, f.letter, f.header, u.question, u.option, u.drop, u.origin)
               for f, u in zip(export.fields, uses)]
    return ImportResult(
        responses=responses, source=path, tool=export.tool, layout={q: layout[q] for q in codebook.ids() if q in layout},
        mapping=colmap.Mapping(export.tool, path.name, entries), not_asked=not_asked,
        responses_in_file=export.n, incomplete=int((~complete).sum()), include_incomplete=include_incomplete,
        completion=rule, fieldwork=fieldwork, other_typed=other_typed, notes=notes,
    )


# --------------------------------------------------------------------------- writing


def responses_csv(frame: pd.DataFrame) -> bytes:
    """The contract's CSV bytes: UTF-8, header line, '\\n' line ends, fields quoted only where needed."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header = ",".join(_csv_field(str(c)) for c in frame.columns) + "\n"
    table = pa.table({str(c): _arrow_text(frame[c]) for c in frame.columns})
    buffer = io.BytesIO()
    buffer.write(header.encode("utf-8"))
    try:
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    except Exception:  # a value holding a comma, quote or line break: the csv module quotes it
        import csv

        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([str(c) for c in frame.columns])
        writer.writerows(zip(*(_as_text(frame[c]) for c in frame.columns)))
        return text.getvalue().encode("utf-8")
    return buffer.getvalue()


def _arrow_text(series: pd.Series):
    """A column as an arrow string array without a Python object per cell (categoricals stay cheap)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = pa.array([str(c) for c in series.cat.categories], type=pa.string())
        codes = pa.array(series.cat.codes.to_numpy(), mask=series.isna().to_numpy())
        return pc.cast(pa.DictionaryArray.from_arrays(codes, categories), pa.string())
    return pa.array(_as_text(series), type=pa.string())


def _as_text(series: pd.Series) -> list[str | None]:
    values = series.astype(object).where(series.notna(), None).tolist()
    return [None if v is None or v == "" else str(v) for v in values]


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_responses(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(responses_csv(frame))
    return path


# --------------------------------------------------------------------------- exporting labels (tests, synthetic exports)


def export_labels(frame: pd.DataFrame, codebook: Codebook, wave: str | None, *, multi: str = "columns",
                  headers: str = "ids") -> pd.DataFrame:
    """A contract-form frame as a survey tool would export it: labels instead of codes.

    `multi="columns"`: one column per option holding the label where ticked ('' otherwise);
    `multi="joined"`: one column per question holding the ticked labels separated by '; '.
    `headers="ids"` heads columns with question ids, `"wording"` with the wording asked.
    Skipped questions stay empty. The inverse of `import_responses`.
    """
    if multi not in ("columns", "joined") or headers not in ("ids", "wording"):
        raise ValueError("multi must be 'columns' or 'joined'; headers 'ids' or 'wording'")
    out: dict[str, list[str]] = {"Respondent ID" if headers == "wording" else ID_COLUMN: frame[ID_COLUMN].astype(str).tolist()}
    for question in codebook:
        present = [c for c in question.columns(None) if c in frame.columns]
        if not present:
            continue
        name = question.id if headers == "ids" else question.wording_in(wave)
        if not question.is_multi:
            labels = question.labels()
            out[name] = [labels.get(v, v) if isinstance(v, str) and v else "" for v in frame[question.id].astype(object).where(frame[question.id].notna(), "")]
            continue
        labels = {question.column(c): question.label(c) for c in question.codes(None) if question.column(c) in present}
        cells = {c: frame[c].astype(object).where(frame[c].notna(), "").astype(str).tolist() for c in present}
        if multi == "columns":
            for column in present:
                out[f"{name} [{labels[column]}]"] = [labels[column] if v == TICKED else "" for v in cells[column]]
        else:
            joined = []
            for i in range(len(frame)):
                if all(cells[c][i] == "" for c in present):
                    joined.append("")
                else:
                    joined.append("; ".join(labels[c] for c in present if cells[c][i] == TICKED))
            out[name] = joined
    return pd.DataFrame(out)


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write an export as .csv (UTF-8) or .xlsx (first sheet, text cells; ticks '1'/'0' as numbers)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Responses")
        sheet.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([int(v) if v in (TICKED, UNTICKED) else (v or None) for v in map(_plain, row)])
        workbook.save(path)
        return path
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def _plain(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


# --------------------------------------------------------------------------- the wave's other files


def wave_yaml(meta: Mapping[str, Any]) -> str:
    """wave.yml text in the layout of the 2022 file (keys in the contract's order, folded long text)."""
    import textwrap

    def folded(key: str, text: str) -> str:
        body = textwrap.wrap(" ".join(str(text).split()), width=78)
        return f"{key}: >-\n" + "\n".join(f"  {line}" for line in body) + "\n"

    def scalar(value: Any) -> str:
        import yaml

        return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip().removesuffix("\n...")

    text = f"# Metadata of the {meta['wave']} wave (its keys: kamsurvey/data/wavemeta.py).\n"
    text += f'wave: "{meta["wave"]}"\n'
    text += f"title: {scalar(meta['title'])}\n"
    text += f"fieldwork:\n  start: {meta['fieldwork']['start']}\n  end: {meta['fieldwork']['end']}\n"
    if meta["fieldwork"].get("source"):
        text += f"  source: {meta['fieldwork']['source']}\n"
    text += folded("population", meta["population"])
    text += f"n: {int(meta['n'])}\n"
    text += f"source: {scalar(meta['source'])}\n"
    text += f"provenance: {meta['provenance']}\n"
    text += folded("provenance_note", meta["provenance_note"])
    if meta.get("published"):
        text += f"published: {meta['published']}\n"
    if meta.get("not_asked"):
        text += "not_asked: [" + ", ".join(str(q) for q in meta["not_asked"]) + "]\n"
    return text
