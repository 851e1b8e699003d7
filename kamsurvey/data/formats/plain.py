"""A table with one header row naming questions: the data contract's responses.csv, or labels.

The canonical file (respondent_id, then one column per question, `<question>__<option>` per
option of a multi-select question, option codes) and an analyst's own export holding the
codebook's labels: a column per question (or per option, holding 1/0 or the option's
label), a multi-select question's labels joined by ';'. Columns the tools add (a response
id, timestamps, e-mails, ...) are known by their names; a response is complete when it
answered the last question asked of it (the contract's file is a wave already: every row).
"""

from __future__ import annotations

from kamsurvey.data.codebook import Codebook
from kamsurvey.data.formats.export import BY_LAST_QUESTION, EVERY_ROW, Export, Field
from kamsurvey.data.formats.tables import body
from kamsurvey.data.personal import metadata_role
from kamsurvey.data.problems import Problem
from kamsurvey.data.readers import ID_COLUMN, Table, column_letter

LABELS, CANONICAL = "labels", "canonical"
TITLES = {LABELS: "table of labels", CANONICAL: "responses.csv of the data contract"}
SEPARATOR = ";"


def is_canonical(table: Table, codebook: Codebook) -> bool:
    columns = set(codebook.columns(None))
    return bool(table.header) and table.header[0] == ID_COLUMN and all(h in columns for h in table.header)


def read(table: Table, file: str, codebook: Codebook) -> tuple[Export | None, list[Problem]]:
    canonical = is_canonical(table, codebook)
    fields = [Field(i, name.strip() or column_letter(i), name.strip(), role=metadata_role(name))
              for i, name in enumerate(table.header)]
    cells, lines = body(table, 0)
    return Export(CANONICAL if canonical else LABELS, file, table.unit, fields, cells, lines,
                  EVERY_ROW if canonical else BY_LAST_QUESTION, separator=SEPARATOR, sheet=table.sheet,
                  notes=list(table.notes)), []
