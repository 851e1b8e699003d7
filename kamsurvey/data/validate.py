"""Validating a survey wave: the one entry point every loader uses, and the checks of the data contract.

`read_wave(wave_dir, codebook)` reads `wave.yml` (`kamsurvey.data.wavemeta`) and
`responses.csv` (`kamsurvey.data.readers`), checks both against the codebook and the data
contract, and either returns the metadata and a typed frame or raises
`WaveValidationError` listing *every* problem found in both files at once, each naming
the file, the line, the respondent, the column, the bad value and what was expected. The
checks are pure functions (`check_responses` here, `check_meta` in wavemeta), so they can
be tested without files.

Data contract (data/waves/<wave>/)
  responses.csv  UTF-8, one line per respondent, `respondent_id` unique and non-empty.
                 single/likert question: one column `<id>` holding an option code;
                 multi question: one column per option `<id>__<code>` holding 1, 0,
                 or empty where the question was not asked or skipped.
                 Encoding and CSV syntax are checked while reading (readers); the rest
                 here, one function per check, run in this order by `check_responses`:
                 check_header, check_ids, check_answers, check_skip_logic,
                 check_answer_among, check_rules, check_no_answers.
  wave.yml       see `kamsurvey.data.wavemeta`.

How the checks stay fast (a 1,000,000-row wave is checked in under a second)
  The reader hands over dictionary-encoded (categorical) columns, which `Column` keeps
  as integer codes into a handful of distinct strings. Every check is decided once per
  *distinct value* (a tiny lookup table) and applied to the codes with numpy, so no
  Python code runs per row or per cell; Problem objects are built only for failing
  cells (at most `MAX_PER_CHECK` per check and column, followed by one line counting
  the rest).

Why not pandera
  pandera 0.35 was tried: a schema generated from the codebook (one `Column(str,
  Check.isin(codes))` per column, `unique=True` on respondent_id, lazy=True). It is
  fast enough (1.2 s for a million rows) and its failure cases do give index, column
  and value for those per-column checks. But that is only a third of the contract:
  the cross-question checks (skip logic, answer_among, exclusive options, codebook
  rules, partly answered or all-0 multi questions, rows with no answers) would be
  dataframe-level custom checks whose failure cases carry no column or value, the
  file-level problems (encoding and malformed lines, met by the reader, and the
  header) are outside its reach, and every message would still need rewriting (line
  numbers, respondent, suggestions, what was expected). All the checks here, on the
  categorical codes, take about 0.7 s for the same million rows, in one code path that
  names row, column, value and expectation for every kind of problem; so pandera is
  not used.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Collection, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kamsurvey.data.codebook import MULTI_SEPARATOR, Codebook, Question
from kamsurvey.data.problems import MAX_PER_CHECK, Problem, WaveValidationError, line_order, quote_value
from kamsurvey.data.readers import ID_COLUMN, Column, read_responses_csv
from kamsurvey.data.wavemeta import WAVE_FILE, check_meta, read_meta_file

RESPONSES_FILE = "responses.csv"
MULTI_EXPECTED = "1, 0 or empty"
_EMPTY, _UNTICKED, _TICKED, _NOT_A_TICK = 0, 1, 2, 3  # the states of a multi question's option cell


class _Checker:
    """Where the checks put their problems: a Problem per failing row, up to `limit` per check
    and column, then one line counting the rest (so a million bad rows stay readable)."""

    def __init__(self, file: str, lines: np.ndarray | None, limit: int):
        self.file = file
        self.lines = lines
        self.limit = limit
        self.problems: list[Problem] = []
        self.summaries: list[Problem] = []  # "N more rows like these": listed after the rows
        self.ids: pd.Series | None = None  # names the respondent of each row problem, once known

    def result(self) -> list[Problem]:
        return sorted(self.problems, key=line_order) + self.summaries

    def line(self, i: int) -> int:
        return int(self.lines[i]) if self.lines is not None else int(i) + 2

    def respondent(self, i: int) -> str | None:
        if self.ids is None:
            return None
        value = self.ids.iloc[i]
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return None
        value = str(value)
        return value if value.strip() else None

    def file_problem(self, column: str | None, expected: str, issue: str = "", value: Any = None, row: int | None = None):
        self.problems.append(Problem(self.file, row, None, column, value, expected, issue))

    def rows(self, mask: np.ndarray, column: str | None, expected, *, value=None, issue=""):
        """One Problem per failing row of `mask`; `column`, `value`, `expected`, `issue` may be callables of the row index."""
        if not mask.any():
            return
        failing = np.flatnonzero(mask)
        limit = self.limit
        for i in failing[:limit]:
            i = int(i)
            self.problems.append(
                Problem(
                    file=self.file,
                    row=self.line(i),
                    respondent_id=self.respondent(i),
                    column=column(i) if callable(column) else column,
                    value=value(i) if callable(value) else value,
                    expected=expected(i) if callable(expected) else expected,
                    issue=issue(i) if callable(issue) else issue,
                )
            )
        rest = failing.size - limit
        if rest > 0:
            first = int(failing[limit])
            self.summaries.append(
                Problem(
                    file=self.file,
                    row=None,
                    respondent_id=None,
                    column=column(first) if callable(column) else column,
                    value=None,
                    expected=expected(first) if callable(expected) else expected,
                    issue=f"{rest:,} more rows with the same problem (from line {self.line(first)} on; only the first {limit} are listed)",
                )
            )


class Responses:
    """A responses table as the checks after the header see it, and where they report.

    Shared so that each check takes one argument: `columns` holds each of the wave's
    codebook columns in the file as a `Column` (codes into its distinct values, asked
    once per value), `questions` the codebook questions with columns in the file, and
    `answered` each such question's answering rows, recorded by `check_answers` (from
    the same pass that checks the cells) for the cross-question checks that follow it.
    """

    def __init__(self, check: _Checker, codebook: Codebook, wave: str | None, raw: pd.DataFrame, questions: list[Question]):
        self.check = check
        self.codebook = codebook
        self.wave = wave
        self.questions = questions
        self.n_rows = len(raw)
        header = [str(c) for c in raw.columns]
        wave_columns = codebook.columns(wave)
        self.columns = {name: Column(name, raw[name]) for name in header if name in wave_columns and name != ID_COLUMN}
        if ID_COLUMN in header:
            check.ids = raw[ID_COLUMN]
        self._answered: dict[str, np.ndarray] | None = None

    @property
    def answered(self) -> dict[str, np.ndarray]:
        if self._answered is None:
            raise RuntimeError("check_answers has not run: it records which rows answered each question")
        return self._answered

    @answered.setter
    def answered(self, rows_by_question: dict[str, np.ndarray]) -> None:
        self._answered = rows_by_question

    def column_of(self, question_id: str, code: str) -> str:
        """The column holding `code`: the option's column of a multi question, else the question's."""
        question = self.codebook[question_id]
        return question.column(code) if question.is_multi else question.id

    def chose(self, question_id: str, code: str) -> np.ndarray | None:
        """Rows that gave `code` at a question; None if the question is not in the file."""
        if question_id not in self.answered:
            return None
        column = self.column_of(question_id, code)
        if column not in self.columns:
            return np.zeros(self.n_rows, dtype=bool)
        return self.columns[column].eq("1" if self.codebook[question_id].is_multi else code)

    def shown_value(self, column: str, i: int) -> str:
        return self.columns[column].value(i) if column in self.columns else ""


def _suggest(value: str, candidates: Sequence[str]) -> str | None:
    matches = difflib.get_close_matches(value, list(candidates), n=1, cutoff=0.6)
    if not matches:
        matches = difflib.get_close_matches(value.strip().lower(), list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _one_of(codes: Sequence[str]) -> str:
    return "one of: " + ", ".join(codes)


def check_responses(
    raw: pd.DataFrame,
    codebook: Codebook,
    *,
    file: str,
    wave: str | None,
    lines: Sequence[int] | np.ndarray | None = None,
    max_per_check: int = MAX_PER_CHECK,
    also: Sequence[Problem] = (),
    not_asked: Collection[str] = (),
) -> list[Problem]:
    """Every problem with a responses table; no I/O.

    `not_asked` lists the questions this wave's questionnaire left out (wave.yml's `not_asked`):
    they must have no column, and every other question of the codebook must have its columns.

    Problems are in line order (header first), each "N more rows like these" line after
    the rows; `also` (problems met while reading the file) is merged into that order.
    Problems of one line keep the order of the checks below.

    `raw` holds the file's cells as strings ('' for empty; str, object, string or
    categorical-of-strings columns; NaN is treated as empty), columns in file order
    (duplicates allowed, they are reported). `lines` gives each row's line number in
    the file when it is not simply row index + 2 (blank lines, quoted line breaks).
    """
    check = _Checker(str(file), None if lines is None else np.asarray(lines), max_per_check)
    check.problems.extend(also)
    raw, questions = check_header(check, raw, codebook, wave, not_asked)
    if len(raw) == 0:
        check.file_problem(None, "one line per respondent after the header", "no respondents: the file has a header line but no data rows")
        return check.result()
    responses = Responses(check, codebook, wave, raw, questions)
    check_ids(responses)
    check_answers(responses)  # records what each row answered, which the checks below read
    check_skip_logic(responses)
    check_answer_among(responses)
    check_rules(responses)
    check_no_answers(responses)
    return check.result()


# --------------------------------------------------------------------------- the header


def check_header(check: _Checker, raw: pd.DataFrame, codebook: Codebook, wave: str | None,
                 not_asked: Collection[str] = ()) -> tuple[pd.DataFrame, list[Question]]:
    """Problems of the header line; the frame with each column once, and the questions it has.

    The header decides what every later check can look at, so its problems are found
    first and name the fix at the level of a column: a typo gets the closest column, an
    option of a later wave says when it was first offered, a question partly present
    lists the columns it lacks. A question left out entirely must be declared in wave.yml's
    `not_asked`: a file that lost a column would otherwise publish "not asked" as a fact.
    """
    raw = _without_repeated_columns(check, raw)
    header = [str(c) for c in raw.columns]
    _check_column_names(check, header, codebook, wave)
    if ID_COLUMN not in header:
        check.file_problem(ID_COLUMN, "a respondent_id column naming each respondent", "missing column", row=1)
    return raw, _questions_present(check, set(header), codebook, wave, set(not_asked))


def _without_repeated_columns(check: _Checker, raw: pd.DataFrame) -> pd.DataFrame:
    """The frame with the first of each repeated column: the repeat is reported, never silently preferred."""
    header = [str(c) for c in raw.columns]
    first_field: dict[str, int] = {}
    for position, name in enumerate(header, start=1):
        if name in first_field:
            check.file_problem(
                name,
                "each column once",
                f"duplicate column (fields {first_field[name]} and {position} of the header)",
                row=1,
            )
        else:
            first_field[name] = position
    if len(first_field) == len(header):
        return raw
    return raw.loc[:, ~pd.Index(header).duplicated()]


def _check_column_names(check: _Checker, header: list[str], codebook: Codebook, wave: str | None) -> None:
    """Every column is one of the wave's: respondent_id, a question, or an option of a multi question."""
    wave_columns = codebook.columns(wave)
    all_columns = codebook.columns(None)
    for name in header:
        if name in wave_columns:
            continue
        if name in all_columns:
            question_id, _, code = name.partition(MULTI_SEPARATOR)
            since = codebook[question_id].option(code).since
            check.file_problem(
                name,
                f"no column for it in wave {wave} (remove the column)",
                f"option '{code}' of {question_id} was first offered in wave {since}",
                row=1,
            )
        else:
            _report_unknown_column(check, name, codebook, wave_columns)


def _report_unknown_column(check: _Checker, name: str, codebook: Codebook, wave_columns: list[str]) -> None:
    issue = "column with no name (a trailing comma on the header line?)" if name == "" else "unknown column"
    expected = "a column of the codebook (respondent_id, a question id, or <question>__<option>)"
    if name in codebook and codebook[name].is_multi:
        issue += f" ({name} is a multi-select question: one column per option, {name}{MULTI_SEPARATOR}<option>, holding 1 or 0)"
    else:
        suggestion = _suggest(name, wave_columns)
        if suggestion:
            expected += f"; did you mean '{suggestion}'?"
    check.file_problem(name, expected, issue, row=1)


def _questions_present(check: _Checker, present: set[str], codebook: Codebook, wave: str | None,
                       not_asked: set[str]) -> list[Question]:
    """The questions with any column in the file; a question missing though not declared not asked, one declared
    not asked though present, and the missing columns of one partly present are reported."""
    questions: list[Question] = []
    left_out: list[Question] = []
    for question in codebook:
        wanted = question.columns(wave)
        have = [c for c in wanted if c in present]
        if question.id in not_asked:
            if have:
                check.file_problem(have[0], f"no column for {question.id}: wave.yml declares it not asked in this wave "
                                   "(remove its columns, or take it out of not_asked)",
                                   f"columns of a question declared not asked ({len(have)} of {len(wanted)})", row=1)
            continue
        if not have:
            left_out.append(question)
            continue
        questions.append(question)
        for missing in (c for c in wanted if c not in present):
            check.file_problem(
                missing,
                "every option column of the question, or none of them if the question was not asked in this wave",
                f"missing column: question {question.id} is partly present ({len(have)} of {len(wanted)} option columns)",
                row=1,
            )
    if not questions:  # not a wave that left questions out: a file of something else (one line says so)
        check.file_problem(None, "the columns of at least one question of the codebook", "no question columns in the header", row=1)
        return questions
    for question in left_out:
        check.file_problem(question.column(question.codes(wave)[0]) if question.is_multi else question.id,
                           f"the column{'s' if question.is_multi else ''} of {question.id}, or {question.id} listed "
                           "under not_asked in wave.yml if this wave did not ask it",
                           f"missing column: question {question.id} is not in the file", row=1)
    return questions


# --------------------------------------------------------------------------- respondent ids


def check_ids(responses: Responses) -> None:
    """Every respondent_id non-empty and unique.

    The id is how a problem, a correction or a withdrawal names a respondent: an empty or
    a repeated one leaves a row that cannot be named, or two people indistinguishable.
    """
    check = responses.check
    if check.ids is None:
        return  # no respondent_id column: reported by check_header
    ids = (check.ids.fillna("") if check.ids.hasnans else check.ids).astype("str")
    empty = ids.str.strip().eq("").to_numpy()
    check.rows(
        empty,
        ID_COLUMN,
        "a non-empty respondent id, unique in the file",
        value=lambda i: str(ids.iloc[i]),
        issue="empty respondent_id",
    )
    _check_ids_unique(check, ids, empty)


def _check_ids_unique(check: _Checker, ids: pd.Series, empty: np.ndarray) -> None:
    """Each repeat of an id, naming the line where the id first appears (looked up for the listed repeats only)."""
    repeated = ids.duplicated(keep="first").to_numpy() & ~empty
    if not repeated.any():
        return
    listed = set(ids.iloc[np.flatnonzero(repeated)[: check.limit]].tolist())
    firsts = np.flatnonzero(ids.isin(listed).to_numpy() & ~repeated)
    first_line = {str(ids.iloc[i]): check.line(int(i)) for i in firsts}
    check.rows(
        repeated,
        ID_COLUMN,
        "each respondent_id once",
        value=lambda i: str(ids.iloc[i]),
        issue=lambda i: f"duplicate respondent_id: also on line {first_line.get(str(ids.iloc[i]), '?')}",
    )


# --------------------------------------------------------------------------- each question's answers


def check_answers(responses: Responses) -> None:
    """Each question's cells hold answers it can have in this wave; records which rows answered it.

    A code the question does not have (a typo, a score for a code, an option of a later
    wave) or a multi question answered in part would be counted wrongly or silently
    dropped by every table. The rows answering each question come out of the same pass
    over the cells, for the cross-question checks that follow.
    """
    answered: dict[str, np.ndarray] = {}
    for question in responses.questions:
        answered[question.id] = _check_multi(responses, question) if question.is_multi else _check_single(responses, question)
    responses.answered = answered


def _check_single(responses: Responses, question: Question) -> np.ndarray:
    """A single/likert cell is empty or a code of the question in this wave; returns the rows that answered."""
    column = responses.columns[question.id]
    valid = question.codes(responses.wave)
    valid_set = set(valid)
    bad_lut = [v != "" and v not in valid_set for v in column.values]
    if any(bad_lut):
        issues, hints = _explain_bad_codes(question, [v for v, bad in zip(column.values, bad_lut) if bad], valid)
        expected = _one_of(valid) + " (or empty)"
        if question.type == "likert":
            expected = f"a point of the {len(valid)}-point scale, {expected}"
        responses.check.rows(
            np.asarray(bad_lut, dtype=bool)[column.codes],
            question.id,
            lambda i: expected + hints[column.value(i)],
            value=column.value,
            issue=lambda i: issues[column.value(i)],
        )
    return ~column.eq("")


def _explain_bad_codes(question: Question, bad_values: list[str], valid: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """What is wrong with each bad value and a hint to fix it: an option of a later wave, a score given for a code, or the closest code."""
    issue = "off the scale" if question.type == "likert" else "unknown option code"
    valid_set = set(valid)
    scores = {str(o.score): o.code for o in question.options if o.score is not None and o.code in valid_set}
    every_wave = question.codes(None)
    issues: dict[str, str] = {}
    hints: dict[str, str] = {}
    for value in bad_values:
        issues[value], hints[value] = issue, ""
        if value in every_wave:
            issues[value] = f"{issue} in this wave ('{value}' was first offered in wave {question.option(value).since})"
        elif value.strip() in scores:
            hints[value] = f"; use the code, not the score: did you mean '{scores[value.strip()]}'?"
        else:
            suggestion = _suggest(value, valid)
            if suggestion:
                hints[value] = f"; did you mean '{suggestion}'?"
    return issues, hints


def _check_multi(responses: Responses, question: Question) -> np.ndarray:
    """A multi question's cells are 1, 0 or empty; answered, it has every cell filled, one
    ticked at least, and an exclusive option alone. Returns the rows that answered it."""
    check = responses.check
    cells = [responses.columns[c] for c in question.columns(responses.wave) if c in responses.columns]
    states = [_cell_states(check, cell) for cell in cells]
    empties = [state == _EMPTY for state in states]
    answered = np.zeros(responses.n_rows, dtype=bool)
    nothing_ticked = np.ones(responses.n_rows, dtype=bool)
    for state, empty in zip(states, empties):
        answered |= ~empty
        nothing_ticked &= state == _UNTICKED
    for cell, empty in zip(cells, empties):
        check.rows(
            answered & empty,
            cell.name,
            "1 or 0 (every option of an answered question is 1 or 0)",
            value="",
            issue=f"{question.id} is answered on this row but this cell is empty",
        )
    exclusive = [c for c in question.exclusive_codes() if question.column(c) in responses.columns]
    hint = f" (or {' or '.join(question.column(c) for c in exclusive)} = 1 if no option applies)" if exclusive else ""
    check.rows(
        nothing_ticked,
        f"{question.id}{MULTI_SEPARATOR}*",
        f"at least one option ticked (1){hint}, or every cell empty if the question was skipped",
        value="all 0",
        issue="answered with nothing ticked",
    )
    for code in exclusive:
        _check_exclusive(responses, question, code, [c.name for c in cells if c.name != question.column(code)])
    return answered


def _cell_states(check: _Checker, cell: Column) -> np.ndarray:
    """Each row's state of an option cell (_EMPTY, _UNTICKED, _TICKED or _NOT_A_TICK, which is reported)."""
    state = cell.classify({"": _EMPTY, "0": _UNTICKED, "1": _TICKED}, _NOT_A_TICK)  # one pass over the rows
    check.rows(state == _NOT_A_TICK, cell.name, MULTI_EXPECTED, value=cell.value)
    cell._eq["1"] = state == _TICKED  # the rows that ticked it, asked by the later checks: from this same pass
    return state


def _check_exclusive(responses: Responses, question: Question, code: str, others: list[str]) -> None:
    """An exclusive option ('none of these') is not ticked together with any other option."""
    columns = responses.columns
    name = question.column(code)
    with_others = np.zeros(responses.n_rows, dtype=bool)
    for other in others:
        with_others |= columns[other].eq("1")
    responses.check.rows(
        columns[name].eq("1") & with_others,
        name,
        f"'{code}' alone, or the other options without '{code}'",
        value="1",
        issue=lambda i: (
            f"'{code}' is exclusive but is ticked together with "
            + ", ".join(o.split(MULTI_SEPARATOR, 1)[1] for o in others if columns[o].value(i) == "1")
        ),
    )


# --------------------------------------------------------------------------- across questions


def check_skip_logic(responses: Responses) -> None:
    """No answer to a question the respondent was not asked (its `asked_of` condition unmet).

    Such an answer means the export is misaligned or the skip rule is wrong, and it would
    put the respondent in the question's base (those asked) without being asked.
    """
    for question in responses.questions:
        if question.asked_of is not None:
            _check_asked(responses, question)


def _check_asked(responses: Responses, question: Question) -> None:
    condition = question.asked_of
    asked = responses.chose(condition.question, condition.option)
    source_column = responses.column_of(condition.question, condition.option)
    target = question.id if not question.is_multi else f"{question.id}{MULTI_SEPARATOR}*"
    if asked is None:
        responses.check.file_problem(
            target,
            f"{condition.question} in the file too, or {question.id} left out as well",
            f"{question.id} is asked only of respondents who chose '{condition.option}' at {condition.question}, "
            f"but {condition.question} is not in this file",
        )
        return
    wanted = "1" if responses.codebook[condition.question].is_multi else f"'{condition.option}'"
    responses.check.rows(
        responses.answered[question.id] & ~asked,
        target,
        f"empty (the question is skipped unless {source_column} is {wanted})",
        value=None if question.is_multi else responses.columns[question.id].value,
        issue=lambda i: (
            f"answered though not asked: {question.id} is asked only when {source_column} is {wanted}, "
            f"and this row has {source_column} {quote_value(responses.shown_value(source_column, i))}"
        ),
    )


def check_answer_among(responses: Responses) -> None:
    """A single answer drawn from another question's ticks (`answer_among`) is one of this respondent's ticks there.

    "The most important" of the options a respondent ticked cannot be one they did not
    tick; if it is, the two questions' answers contradict each other.
    """
    for question in responses.questions:
        if question.answer_among is not None:
            _check_among(responses, question, responses.codebook[question.answer_among])


def _check_among(responses: Responses, question: Question, among: Question) -> None:
    columns, wave = responses.columns, responses.wave
    mine = columns[question.id]
    if among.id not in responses.answered:
        responses.check.file_problem(
            question.id,
            f"{among.id} in the file too, or {question.id} left out as well",
            f"{question.id} must be one of the options ticked at {among.id}, but {among.id} is not in this file",
        )
        return
    bad = np.zeros(responses.n_rows, dtype=bool)
    for code in question.codes(wave):
        bad |= mine.eq(code) & ~responses.chose(among.id, code)

    def ticked_on(i: int) -> list[str]:
        return [c for c in among.codes(wave) if among.column(c) in columns and columns[among.column(c)].value(i) == "1"]

    def expected(i: int) -> str:
        ticked = ticked_on(i)
        if ticked:
            return f"one of the options ticked at {among.id} on this row: {', '.join(ticked)}"
        return f"empty: nothing is ticked at {among.id} on this row"

    responses.check.rows(bad, question.id, expected, value=mine.value, issue=f"not among the options this respondent ticked at {among.id}")


def check_rules(responses: Responses) -> None:
    """The codebook's consistency rules: giving one answer forbids another (not rewarded, yet paid a cash bonus).

    A rule whose questions are not both in the file has nothing to compare and is passed over.
    """
    codebook = responses.codebook
    for rule in codebook.rules:
        given = responses.chose(rule.if_.question, rule.if_.option)
        forbidden = responses.chose(rule.forbids.question, rule.forbids.option)
        if given is None or forbidden is None:
            continue
        if_column = responses.column_of(rule.if_.question, rule.if_.option)
        if_value = "1" if codebook[rule.if_.question].is_multi else f"'{rule.if_.option}'"
        forbid_is_multi = codebook[rule.forbids.question].is_multi
        responses.check.rows(
            given & forbidden,
            responses.column_of(rule.forbids.question, rule.forbids.option),
            (f"0 or empty when {if_column} is " if forbid_is_multi else f"an answer other than '{rule.forbids.option}' when {if_column} is ")
            + if_value,
            value="1" if forbid_is_multi else rule.forbids.option,
            issue=f"breaks rule {rule.id} ({rule.message})",
        )


def check_no_answers(responses: Responses) -> None:
    """No line without a single answer.

    Such a line is not a respondent (often a survey tool's record of someone who opened
    the survey and left): kept, it would count among the wave's respondents.
    """
    if not responses.answered:
        return  # no question columns: reported by check_header
    any_answer = np.zeros(responses.n_rows, dtype=bool)
    for rows in responses.answered.values():
        any_answer |= rows
    responses.check.rows(
        ~any_answer,
        None,
        "at least one answered question (remove the line if the respondent answered nothing)",
        issue="no answers at all",
    )


def typed_frame(raw: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """The validated frame for analysis: ids as str, single/likert as string (<NA> for empty), multi as Int8."""
    single_ids = {q.id for q in codebook if not q.is_multi}
    multi_columns = {c for q in codebook if q.is_multi for c in q.columns()}
    out: dict[str, pd.Series | pd.api.extensions.ExtensionArray] = {}
    for name in raw.columns:
        series = raw[name]
        if name == ID_COLUMN:
            out[name] = series.astype("str").array
            continue
        column = Column(name, series)
        if name in multi_columns:
            lut = np.array([{"1": 1, "0": 0}.get(v, -1) for v in column.values], dtype=np.int8)
            values = lut[column.codes]
            out[name] = pd.arrays.IntegerArray(np.maximum(values, 0), values < 0)
        elif name in single_ids:
            empty = np.array([v == "" for v in column.values], dtype=bool)[column.codes]
            indices = pa.array(column.codes.astype(np.int32), mask=empty)
            dictionary = pa.DictionaryArray.from_arrays(indices, pa.array(column.values, type=pa.string()))
            out[name] = pd.arrays.ArrowStringArray(pc.cast(dictionary, pa.string()))
        else:  # not reached for a validated frame
            out[name] = series.array
    return pd.DataFrame(out, index=pd.RangeIndex(len(raw)))


def read_wave(wave_dir: str | Path, codebook: Codebook) -> tuple[dict, pd.DataFrame]:
    """A wave's raw wave.yml and typed responses; raises WaveValidationError with every problem of both files."""
    wave_dir = Path(wave_dir)
    if not wave_dir.is_dir():
        raise WaveValidationError(
            [Problem(str(wave_dir), None, None, None, None, f"a directory holding {WAVE_FILE} and {RESPONSES_FILE}", "no such wave directory")],
            wave_dir=wave_dir,
        )
    raw_meta, problems, key_lines = read_meta_file(wave_dir / WAVE_FILE)
    raw, lines, read_problems, n_records = read_responses_csv(wave_dir / RESPONSES_FILE)
    response_problems = list(read_problems)
    if raw is not None:
        response_problems = check_responses(
            raw, codebook, file=str(wave_dir / RESPONSES_FILE), wave=wave_dir.name, lines=lines, also=read_problems,
            not_asked=_declared_not_asked(raw_meta),
        )
    meta_problems = list(problems)
    unknown = [q for q in _declared_not_asked(raw_meta) if q not in codebook]
    if unknown:
        line = key_lines.get(("not_asked",)) if isinstance(key_lines, dict) else None
        meta_problems.append(Problem(str(wave_dir / WAVE_FILE), line, None, "not_asked", ", ".join(unknown),
                                     "question ids of the codebook: " + ", ".join(codebook.ids()), "unknown question"))
    if raw_meta is not None:
        meta_problems += check_meta(
            raw_meta,
            file=str(wave_dir / WAVE_FILE),
            wave_dir_name=wave_dir.name,
            n_rows=n_records,
            key_lines=key_lines,
        )
    all_problems = response_problems + meta_problems
    if all_problems:
        raise WaveValidationError(all_problems, wave_dir=wave_dir)
    return dict(raw_meta), typed_frame(raw, codebook)


def _declared_not_asked(raw_meta: Any) -> tuple[str, ...]:
    """The question ids wave.yml declares not asked (its own check reports a malformed list)."""
    declared = raw_meta.get("not_asked") if isinstance(raw_meta, dict) else None
    return tuple(str(q) for q in declared) if isinstance(declared, list) else ()


# --------------------------------------------------------------------------- the command


def default_codebook(wave_dir: Path) -> Path:
    """data/waves/<wave> sits next to data/codebook.yml."""
    return wave_dir.resolve().parent.parent / "codebook.yml"


def add_arguments(parser) -> None:
    parser.add_argument("wave_dir", type=Path, help="the wave's directory, e.g. data/waves/2022")
    parser.add_argument("--codebook", type=Path, default=None,
                        help="codebook YAML (default: codebook.yml two levels above the wave directory)")
    parser.add_argument("--max-shown", type=int, default=None, help="print at most this many problems (default: all)")


def command(args) -> int:
    """Prints "OK: <file> — N respondents, M columns" (exit 0), or every problem (exit 1); usage errors exit 2."""
    import sys

    from kamsurvey.data.codebook import CodebookError, load_codebook

    wave_dir: Path = args.wave_dir
    if not wave_dir.is_dir():
        print(f"kam validate: error: {wave_dir} is not a directory (expected e.g. data/waves/2022)", file=sys.stderr)
        return 2
    try:
        codebook = load_codebook(args.codebook or default_codebook(wave_dir))
    except CodebookError as error:
        print(f"kam validate: error: {error}", file=sys.stderr)
        return 2
    try:
        _, frame = read_wave(wave_dir, codebook)
    except WaveValidationError as error:
        print(error.render(limit=args.max_shown if args.max_shown is not None else len(error.problems)))
        return 1
    print(f"OK: {wave_dir / RESPONSES_FILE} — {len(frame):,} respondents, {frame.shape[1]} columns")
    return 0
