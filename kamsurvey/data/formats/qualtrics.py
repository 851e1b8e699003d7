"""Qualtrics' "Download Data" CSV (or workbook), exported with choice text.

The layout, as Qualtrics documents it ("Understanding your dataset": "CSV and TSV files come
with 3 rows of headers. The first header is the internal Qualtrics ID of the field (e.g.,
EndDate, Q1, Q2 ...). The second header is the field's name or text ... The third header has
import IDs"; respondent data start on the fourth row) and as public parsers read it (the
R package qualtRics' sample.csv; excluder's qualtrics_text data): metadata columns first
(StartDate, EndDate, Status, IPAddress, Progress, Duration (in seconds), Finished,
RecordedDate, ResponseId, RecipientLastName, RecipientFirstName, RecipientEmail,
ExternalReference, LocationLatitude, LocationLongitude, DistributionChannel, UserLanguage),
then one column per question (ImportId QID...), a multiple-answer question in one column
holding the chosen labels joined by ',' (no space), a question with a text-entry choice
headed '<question> - Selected Choice' beside a '<question> - <choice> - Text' column
(ImportId ..._TEXT), embedded data after the questions (ImportId: the field's name).
Finished is True/False (1/0 with numeric values); Progress a percentage.
"""

from __future__ import annotations

import json
import re

from kamsurvey.data.formats.export import BY_MARKER, Export, Field
from kamsurvey.data.formats.tables import body, header_row
from kamsurvey.data.personal import metadata_role
from kamsurvey.data.problems import Problem
from kamsurvey.data.readers import Table

NAME = "qualtrics"
TITLE = "Qualtrics export"
SIGNATURE = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Finished", "RecordedDate", "ResponseId"]
QUESTION_ID = re.compile(r"^(\d+_)?QID\d+")
SEPARATOR = ","
NUMERIC = re.compile(r"^\s*-?\d+(\s*,\s*-?\d+)*\s*$")
HOW = ("download the responses again from Data & Analysis > Export & Import > Export Data (CSV, 'Use choice "
       "text') and import the file as it comes, all three header rows included")


def looks_like(table: Table) -> bool:
    """Qualtrics' own field names (written as Qualtrics writes them), or its row of ImportIds."""
    exact = set(SIGNATURE) & {h.strip() for h in table.header}
    if len(exact) >= 3:
        return True
    ids = [_import_id(c) for c in header_row(table, 1)] if len(table.frame) >= 2 else []
    return sum(i is not None for i in ids) > len(table.header) // 2


def _import_id(cell: str) -> str | None:
    """'{"ImportId":"QID3"}' -> 'QID3'; None when the cell is not Qualtrics' third header row."""
    text = cell.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return str(value.get("ImportId")) if isinstance(value, dict) and "ImportId" in value else None


def read(table: Table, file: str) -> tuple[Export | None, list[Problem]]:
    found = [h for h in table.header if h.strip() in SIGNATURE]
    import_ids = [_import_id(c) for c in header_row(table, 1)] if len(table.frame) >= 2 else []
    if sum(i is not None for i in import_ids) < max(1, len(table.header) // 2):
        issue = (f"this looks like a Qualtrics export (columns {', '.join(found[:4])}) without its three header rows "
                 "(the field names, the question text, the ImportIds)")
        return None, [Problem(file, None, None, None, None, HOW, issue, unit=table.unit)]
    texts = header_row(table, 0)
    fields = []
    for i, name in enumerate(table.header):
        import_id = import_ids[i] or ""
        if QUESTION_ID.match(import_id):
            free = "_TEXT" in import_id.upper() or name.upper().endswith("_TEXT")
            fields.append(Field(i, name, texts[i], free_text=free))
        else:
            fields.append(Field(i, name, texts[i] or name, role=metadata_role(name) or "custom"))
    cells, lines = body(table, 2)
    answers = [c for f, c in zip(fields, cells) if f.role is None and not f.free_text]
    values = {v for c in answers for v in c.values if v.strip()}
    if values and all(NUMERIC.match(v) for v in values):
        issue = "this Qualtrics export holds numeric values, not the choices' text"
        return None, [Problem(file, None, None, None, None, HOW, issue, unit=table.unit)]
    return Export(NAME, file, table.unit, fields, cells, lines, BY_MARKER, separator=SEPARATOR,
                  sheet=table.sheet, notes=list(table.notes)), []
