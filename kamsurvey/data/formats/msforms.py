"""Microsoft Forms' Excel download ("Open results in Excel" / "Download a copy").

The layout, as public code reading these workbooks has it (metadata columns "ID", "Start
time", "Completion time", "Email", "Name" -- "a table carrying those five columns is taken
to be a response table" -- and "Last modified time", "Total points", "Quiz feedback", with
"Points - <question>" and "Feedback - <question>" beside each quiz question; multi-select
answers written as "a;b;c;" -- each chosen label followed by ';'): one header row, the
metadata columns first, then one column per question headed by its text. Only submitted
responses are recorded (each has a Completion time); Email reads 'anonymous' when the form
does not collect names. The text typed into "Other" stands in place of a label.
"""

from __future__ import annotations

from kamsurvey.data.formats.export import Export
from kamsurvey.data.formats.tables import form_export, named
from kamsurvey.data.problems import Problem
from kamsurvey.data.readers import Table

NAME = "microsoft-forms"
TITLE = "Microsoft Forms workbook"
SIGNATURE = ["ID", "Start time", "Completion time", "Email", "Name"]
SEPARATOR = ";"


def looks_like(table: Table) -> bool:
    return len(named(table, SIGNATURE)) >= 4


def read(table: Table, file: str) -> tuple[Export | None, list[Problem]]:
    return form_export(table, file, name=NAME, separator=SEPARATOR), []
