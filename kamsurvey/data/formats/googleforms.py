"""Google Forms' responses sheet, downloaded as CSV (File > Download > .csv) or as a workbook.

The layout, as public code reading these sheets has it (a responses sheet read with names
['Timestamp', 'Email Address', ...] whose e-mails are popped before analysis; response
records with "Timestamp": "3/18/20 18:42" and checkbox answers such as "Yes, due to their
age (60+), Yes, due to existing medical conditions (...)" -- labels holding commas, joined
by ', '): one header row, Timestamp first (the submission time: only submitted responses
are recorded), then 'Email Address' when the form collects e-mails, then one column per
question headed by its title; a checkbox question's ticked labels joined by ', ', in the
order of the options; the text typed into "Other:" stands in place of a label.
"""

from __future__ import annotations

from kamsurvey.data.formats.export import Export
from kamsurvey.data.formats.tables import form_export
from kamsurvey.data.personal import compact
from kamsurvey.data.problems import Problem
from kamsurvey.data.readers import Table

NAME = "google-forms"
TITLE = "Google Forms responses sheet"
SEPARATOR = ", "


def looks_like(table: Table) -> bool:
    return bool(table.header) and compact(table.header[0]) == "timestamp"


def read(table: Table, file: str) -> tuple[Export | None, list[Problem]]:
    return form_export(table, file, name=NAME, separator=SEPARATOR), []
