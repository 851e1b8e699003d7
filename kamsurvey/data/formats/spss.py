"""An SPSS data file (.sav) as Qualtrics and SurveyMonkey export it: answers as codes with value labels.

Qualtrics' SPSS download keeps the CSV's field names as variable names (StartDate, ...,
Finished, ResponseId, Q1, Q3_1, Q3_11_TEXT) with the question text as variable label; "the
text of the responses are used as value labels" of numeric codes (Kent State University
Libraries, "Qualtrics: coding"); a multiple-answer question has one variable per choice
(Q3_1, Q3_2, ...: "Recode Values ... appear as response column names"), 1 where the choice
was selected. Whatever tool wrote the file, it is read through its labels alone: a variable
is named by its label (its name when it has none); a numeric answer is replaced by its value
label; a variable whose only labelled value is 1 holds one option of a multiple-answer
question (the label), 1 meaning ticked; string variables that are not the tool's metadata
are typed text. Case numbers stand for line numbers.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from kamsurvey.data.formats.export import BY_LAST_QUESTION, BY_MARKER, Export, Field
from kamsurvey.data.personal import FINISHED, PROGRESS, compact, metadata_role
from kamsurvey.data.problems import Problem
from kamsurvey.data.readers import Column

NAME = "spss"
TITLE = "SPSS data file"
SELECTED_CHOICE = re.compile(r"\s+-\s+selected choice\b", re.IGNORECASE)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _texts(series: pd.Series, labels: dict | None) -> list[str]:
    """Each case's value as text: a value label where there is one, '' for missing."""
    out = []
    for value in series.tolist():
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
            out.append("")
        elif hasattr(value, "isoformat"):
            out.append(value.isoformat())
        elif isinstance(value, (int, float, np.integer, np.floating)):
            out.append(str(labels.get(float(value), labels.get(int(value), _number_text(value)))) if labels
                       else _number_text(value))
        else:
            out.append(str(value))
    return out


def read(path: Path, file: str) -> tuple[Export | None, list[Problem]]:
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
    except Exception as error:  # pyreadstat raises its own kinds for a damaged file
        return None, [Problem(file, None, None, None, None, "an SPSS data file (.sav)", f"cannot be read: {error}")]
    labels = meta.column_names_to_labels
    value_labels = meta.variable_value_labels
    types = meta.readstat_variable_types
    fields, cells = [], []
    for i, name in enumerate(meta.column_names):
        label = SELECTED_CHOICE.sub("", str(labels.get(name) or name)).strip()
        own = value_labels.get(name) or {}
        role = metadata_role(name)
        if role is not None:
            fields.append(Field(i, name, label, role=role))
            cells.append(Column(name, pd.Series(_texts(frame[name], own), dtype=object)))
            continue
        if types.get(name) == "string":
            fields.append(Field(i, name, label, free_text=True))
            typed = ["1" if t.strip() else "" for t in _texts(frame[name], None)]  # whether, never what
            cells.append(Column(name, pd.Series(typed, dtype=object)))
            continue
        if set(own) == {1.0}:  # one choice of a multiple-answer question: 1 = selected
            option = str(own[1.0])
            question = label[: -len(option)].rstrip(" -:") if label.endswith(option) and label != option else label
            ticks = ["" if t != "1" else option for t in _texts(frame[name], None)]
            fields.append(Field(i, name, question, option))
            cells.append(Column(name, pd.Series(ticks, dtype=object)))
            continue
        fields.append(Field(i, name, label))
        cells.append(Column(name, pd.Series(_texts(frame[name], own), dtype=object)))
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)
    marked = any(f.role in (FINISHED, PROGRESS) for f in fields)
    export = Export(NAME, file, "case", fields, cells, lines, BY_MARKER if marked else BY_LAST_QUESTION)
    if any(compact(f.key) == "responseid" for f in fields):
        export.notes.append("an SPSS file from Qualtrics")
    elif any(compact(f.key) in ("respondentid", "collectorid") for f in fields):
        export.notes.append("an SPSS file from SurveyMonkey")
    return export, []
