"""Survey tools' exports as they come: recognised by their layout, read into one form (`Export`).

    export, problems = read_export(path, codebook)                 # detected
    export, problems = read_export(path, codebook, format="qualtrics")  # forced

A workbook or CSV file is recognised by its columns (Qualtrics: StartDate, Finished,
ResponseId, ... above two more header rows; SurveyMonkey: Respondent ID, Collector ID, ...
above a row of options; Microsoft Forms: ID, Start time, Completion time, Email, Name;
Google Forms: Timestamp first; the data contract's responses.csv; otherwise a table of
labels), an SPSS file by its content. Each tool's module says which documentation and
public code its reading follows.
"""

from __future__ import annotations

from pathlib import Path

from kamsurvey.data.codebook import Codebook
from kamsurvey.data.formats import googleforms, msforms, plain, qualtrics, spss, surveymonkey
from kamsurvey.data.formats.export import BY_LAST_QUESTION, EVERY_ROW, Export, Field
from kamsurvey.data.problems import Problem
from kamsurvey.data.readers import Table, file_kind, read_table

TOOLS = {
    qualtrics.NAME: qualtrics.TITLE,
    surveymonkey.NAME: surveymonkey.TITLE,
    googleforms.NAME: googleforms.TITLE,
    msforms.NAME: msforms.TITLE,
    spss.NAME: spss.TITLE,
    plain.LABELS: plain.TITLES[plain.LABELS],
    plain.CANONICAL: plain.TITLES[plain.CANONICAL],
}
FORMATS = tuple(TOOLS)

__all__ = ["Export", "Field", "FORMATS", "TOOLS", "detect", "read_export"]


def detect(table: Table, codebook: Codebook) -> str:
    """The tool whose layout the table has (the most specific signature first)."""
    if qualtrics.looks_like(table):
        return qualtrics.NAME
    if surveymonkey.looks_like(table):
        return surveymonkey.NAME
    if msforms.looks_like(table):
        return msforms.NAME
    if googleforms.looks_like(table):
        return googleforms.NAME
    return plain.CANONICAL if plain.is_canonical(table, codebook) else plain.LABELS


def _binary(path: Path) -> bool:
    with path.open("rb") as handle:
        return b"\x00" in handle.read(4096)


def read_export(path: str | Path, codebook: Codebook, format: str | None = None) -> tuple[Export | None, list[Problem]]:
    """The export in the importer's form, and every problem met reading it (None: it cannot be read)."""
    path = Path(path)
    file = str(path)
    if format is not None and format not in TOOLS:
        return None, [Problem(file, None, None, None, format, f"one of {', '.join(FORMATS)}", "unknown format")]
    if not path.is_file():
        return None, [Problem(file, None, None, None, None, "an existing file", "file not found")]
    kind = file_kind(path)
    if kind == "csv" and _binary(path):
        what = "an SPSS data file" if path.suffix.lower() == ".sav" else "text"
        return None, [Problem(file, None, None, None, None, "a survey tool's export: .csv, .xlsx or .sav",
                              f"not {what}: the file holds binary data that is no workbook or SPSS file")]
    if format == spss.NAME and kind != "sav":
        return None, [Problem(file, None, None, None, None, "an SPSS data file (.sav)",
                              f"the format was given as {spss.NAME}, but the file is {'a workbook' if kind == 'xlsx' else 'text'}")]
    if kind == "sav":
        if format not in (None, spss.NAME):
            return None, [Problem(file, None, None, None, None, f"a {TOOLS[format]}",
                                  f"the format was given as {format}, but the file is an SPSS data file (.sav)")]
        return spss.read(path, file)
    table, problems = read_table(path)
    if table is None:
        return None, problems
    tool = format or detect(table, codebook)
    if tool == qualtrics.NAME:
        export, more = qualtrics.read(table, file)
    elif tool == surveymonkey.NAME:
        export, more = surveymonkey.read(table, file)
    elif tool == googleforms.NAME:
        export, more = googleforms.read(table, file)
    elif tool == msforms.NAME:
        export, more = msforms.read(table, file)
    else:
        export, more = plain.read(table, file, codebook)
        if export is not None and tool != export.tool:  # forced: the contract's own file read as labels, or the reverse
            export.tool = tool
            export.completion = EVERY_ROW if tool == plain.CANONICAL else BY_LAST_QUESTION
    return export, problems + more
