"""A problem with an input file, named precisely enough to fix it without searching.

Every reader and checker of the data layer (validation, import, wave.yml) reports what is
wrong as `Problem`s: the file, the line (or spreadsheet row), the respondent, the column,
the value and what was expected. `render_problems` prints them, a line each, after a
summary saying how to fix them; `WaveValidationError` carries every problem of a wave.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

MAX_PER_CHECK = 1000  # problems listed per check and column; the rest are counted in one line
MAX_SHOWN = 200  # problems printed in the message of WaveValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a wave's files, precise enough to fix without searching.

    `row` is the line number in the file (the CSV header is line 1, so the first
    respondent is line 2), or the row number of a spreadsheet (`unit="row"`: Excel numbers
    rows, not lines); None for a problem with the whole file or column. `issue` says what
    is wrong where `value` and `expected` alone would not.
    """

    file: str
    row: int | None
    respondent_id: str | None
    column: str | None
    value: Any
    expected: str
    issue: str = ""
    unit: str = "line"

    def location(self) -> str:
        where = printable(self.file)
        if self.row is not None:
            where += f", {self.unit} {self.row}"
            if self.respondent_id:
                where += f" (respondent {printable(self.respondent_id)})"
        if self.column is not None:
            kind = "key" if str(self.file).endswith((".yml", ".yaml")) else "column"
            where += f", {kind} {printable(self.column)}" if self.column != "" else f", {kind} '' (no name)"
        return where

    def __str__(self) -> str:
        text = self.location() + ": "
        if self.issue:
            text += printable(self.issue) + ": "
        if self.value is not None:
            text += f"got {quote_value(self.value)}; "
        return text + f"expected {printable(self.expected)}"


def printable(text: Any) -> str:
    """Text from a file (a column name, a respondent id, a file name) with nothing a terminal would act on: an escape
    sequence, a new line or a control byte is shown escaped (\\x1b), never sent to the terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in str(text))


def quote_value(value: Any) -> str:
    """A value from a file as a message shows it: quoted, at most 80 characters, and nothing in it a terminal would
    act on (an escape sequence in a data cell, a new line, a byte of a binary file read as text: shown escaped)."""
    if isinstance(value, str):
        shown = value if len(value) <= 80 else value[:77] + "..."
        return "'" + printable(shown).replace("'", "\\'") + "'"
    return repr(value)


def render_problems(summary: str, problems: Sequence[object], limit: int) -> str:
    """A summary line, then at most `limit` problems, one per line, and how many more were left out."""
    lines = [summary, *(f"  {p}" for p in problems[:limit])]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return "\n".join(lines)



def line_order(problem: Problem) -> tuple:
    return (problem.row is not None, problem.row or 0)



class WaveValidationError(ValueError):
    """A wave's files break the data contract; `.problems` lists every problem found."""

    def __init__(self, problems: Sequence[Problem], *, wave_dir: str | Path | None = None, limit: int = MAX_SHOWN):
        self.problems: list[Problem] = list(problems)
        self.wave_dir = str(wave_dir) if wave_dir is not None else None
        self.limit = limit
        super().__init__(self.render())

    def summary(self) -> str:
        files = list(dict.fromkeys(p.file for p in self.problems))
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        rerun = f"kam validate {self.wave_dir}" if self.wave_dir else "kam validate <wave dir>"
        header_note = " (line 1 is the CSV header)" if any(f.endswith(".csv") for f in files) else ""
        return (
            f"{count} {noun} in {', '.join(files)}: fix each one in the file and line named below"
            f"{header_note}, then re-run `{rerun}`."
        )

    def render(self, limit: int | None = None) -> str:
        return render_problems(self.summary(), self.problems, self.limit if limit is None else limit)

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self):  # picklable (e.g. across processes) despite the keyword arguments
        return (_rebuild_error, (self.problems, self.wave_dir, self.limit))


def _rebuild_error(problems: list[Problem], wave_dir: str | None, limit: int) -> WaveValidationError:
    return WaveValidationError(problems, wave_dir=wave_dir, limit=limit)

