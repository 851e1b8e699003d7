"""An export as the importer reads it, whatever tool wrote it: its columns, what each one is, its rows.

Each tool's module (qualtrics, surveymonkey, googleforms, msforms, spss, plain) turns its
own layout into an `Export`: one `Field` per column of the file (what names its question,
which option it holds, whether the tool added it, whether it is typed text) and the cells,
with each response's line (or row, or case) number. Everything after that is the same for
every tool: matching columns to the codebook, dropping personal data, telling complete
responses, reading the answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kamsurvey.data.readers import Column, column_letter

# How the tool says a response is complete (Export.completion).
BY_MARKER = "the tool's completion marker"  # Qualtrics Finished (or Progress)
SUBMITTED_ONLY = "submitted"  # Google Forms, Microsoft Forms: only submitted responses are recorded
BY_LAST_QUESTION = "last question"  # no marker: a response that answered the last question asked is complete
EVERY_ROW = "every row"  # the data contract's own file: already a wave


@dataclass(frozen=True)
class Field:
    """One column of the export, as the tool laid it out."""

    index: int  # 0-based position in the file (the SPSS variable's position)
    key: str  # its identity in the mapping file, stable across waves of one survey
    question_text: str  # what names the question: a header, Qualtrics' second row, an SPSS variable label
    option_text: str | None = None  # the option it holds: SurveyMonkey's second row, an SPSS option label
    role: str | None = None  # a column the tool adds (kamsurvey.data.personal roles), None for an answer
    free_text: bool = False  # typed text: "Other (please specify)", Qualtrics' _TEXT, open answers

    @property
    def letter(self) -> str:
        return column_letter(self.index)

    @property
    def header(self) -> str:
        """The column as a person sees it in the file."""
        if self.option_text is not None and self.question_text:
            return f"{self.question_text} [{self.option_text}]"
        return self.question_text or self.key


@dataclass
class Export:
    tool: str  # a key of kamsurvey.data.formats.TOOLS
    file: str
    unit: str  # "line", "row" or "case": what a response's number counts
    fields: list[Field]
    cells: list[Column]  # one per field: the cells of the responses (header rows removed)
    lines: np.ndarray  # each response's line/row/case number in the file
    completion: str
    separator: str | None = None  # how a multi-answer question's answers share one cell
    other_in_place: bool = False  # typed "Other" text stands where the option's label would
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.lines)

    def line(self, i: int) -> int:
        return int(self.lines[i])
