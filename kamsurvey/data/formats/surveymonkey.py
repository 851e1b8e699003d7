"""SurveyMonkey's "All individual responses" export, expanded columns, actual answer text (.xlsx or .csv).

The layout, as public parsers of these exports read it (a SurveyMonkey CSV parser "with
multi-row header handling" whose METADATA_COLUMNS are Respondent ID, Collector ID, Start
Date, End Date, IP Address, Email Address, First Name, Last Name, Custom Data 1; the
SurveyMonkeyConverter reading "Row 0: full question wording; Row 1: 'Open-Ended Response'
-> open question, 'Other (please specify)' -> text, anything else -> option label";
doubleheadr: "a column and a second row containing column-name data", the question's
text heading only its first column): two header rows. The first names the question
above its first column (the cells above its other columns are empty); the second holds
'Response' for a single-choice question, each option's label above its column for a
multiple-choice one ("a ticked option holds its label", an unticked one is empty),
'Other (please specify)' above the typed text of "Other", 'Open-Ended Response' above
a free answer. The metadata columns have nothing in the second row. The file holds no
completion marker.
"""

from __future__ import annotations

from kamsurvey.data.formats.export import BY_LAST_QUESTION, Export, Field
from kamsurvey.data.formats.tables import body, header_row, named
from kamsurvey.data.personal import compact, metadata_role
from kamsurvey.data.problems import Problem
from kamsurvey.data.readers import Table, column_letter, letter_ranges

NAME = "surveymonkey"
TITLE = "SurveyMonkey export"
SIGNATURE = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address"]
OPEN_ENDED = ("openendedresponse", "openended")
HOW = ("export again from Analyze Results > Save as > Export file > All individual responses (expanded columns, "
       "actual answer text) and import the file as it comes, both header rows included")


def looks_like(table: Table) -> bool:
    found = {compact(h) for h in named(table, SIGNATURE)}
    return {"respondentid", "collectorid"} <= found or len(found) >= 4


def is_other_text(option: str) -> bool:
    """'Other (please specify)' and its translations of the same shape: typed text standing for "Other"."""
    key = compact(option)
    return "specify" in key or key.startswith("other(") or key == "otherpleasespecify"


def read(table: Table, file: str) -> tuple[Export | None, list[Problem]]:
    found = named(table, SIGNATURE)
    second = header_row(table, 0) if len(table.frame) else [""] * len(table.header)
    metadata = [i for i, h in enumerate(table.header) if metadata_role(h) is not None or compact(h).startswith("customdata")]
    if not second or any(second[i] for i in metadata) or not any(second):
        issue = (f"this looks like a SurveyMonkey export (columns {', '.join(found[:4])}) whose second header row "
                 "(each column's option: 'Response', the options' labels, 'Other (please specify)') is missing: "
                 f"{table.unit} 2 holds a response")
        unnamed = [i for i, h in enumerate(table.header) if not h.strip()]
        if unnamed:
            issue += f", and columns {letter_ranges(unnamed)} have no name"
        return None, [Problem(file, None, None, None, None, HOW, issue, unit=table.unit)]
    fields = []
    question = ""
    for i, name in enumerate(table.header):
        option = second[i]
        if name.strip():
            question = name.strip()
        if i in metadata or not option:
            role = metadata_role(name) or ("custom" if name.strip() else "unknown")
            fields.append(Field(i, name.strip() or column_letter(i), name.strip(), role=role))
            continue
        key = f"{question} [{option}]"
        if compact(option) == "response":
            fields.append(Field(i, key, question))
        elif compact(option) in OPEN_ENDED:
            fields.append(Field(i, key, question, option, free_text=True))
        else:
            fields.append(Field(i, key, question, option, free_text=is_other_text(option)))
    cells, lines = body(table, 1)
    return Export(NAME, file, table.unit, fields, cells, lines, BY_LAST_QUESTION, sheet=table.sheet,
                  notes=list(table.notes)), []

