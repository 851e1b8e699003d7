"""Survey tools' exports of the 2022 wave, laid out as each tool lays them out, for the import tests.

Every builder starts from the canonical responses (data/waves/2022/responses.csv) and writes
the file the tool would have given the analyst: its header rows, its metadata columns filled
with realistic personal data (names, e-mails, IP addresses, locations, timestamps, the tool's
ids, custom data), "Other" answers with typed text, and the unfinished responses the tool
records (where it records them). Importing the file must give back the canonical file
(respondents renumbered R001... in the file's order, which is the canonical order), and none
of `Built.secrets` (every personal or typed value written) may reach the result.

Layouts follow the tools' documentation and public code reading their exports; each builder
names its sources. Nothing here is committed data: the files are written to a temporary
folder by the tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kamsurvey.data.codebook import Codebook, Question

ROOT = Path(__file__).resolve().parents[1]
CANONICAL = ROOT / "data" / "waves" / "2022" / "responses.csv"
FIELDWORK = (dt.date(2022, 7, 1), dt.date(2022, 9, 30))  # data/waves/2022/wave.yml
FIRST_NAMES = ["Amelia", "Olivier", "Priya", "Jonas", "Chiara", "Kwame", "Ingrid", "Mateo", "Sakura", "Fergus", "Leila"]
LAST_NAMES = ["Okafor", "Lindqvist", "Marchetti", "Hughes", "Nakamura", "Dubois", "Kowalski", "Ferreira", "Byrne"]
# Typed "Other" answers: free text, some holding the tools' separators, one an e-mail.
TYPED = ["Peer review, by my line manager", "Share of wallet; cross-selling", "Board's discretion",
         "ask me at priv.other@example.net", "Team NPS, quarterly"]
PARTIAL_AFTER = (9, 40, 77, 103)  # unfinished responses are written after these canonical rows


@dataclass
class Built:
    path: Path
    secrets: set[str] = field(default_factory=set)  # every personal or typed value written to the file
    incomplete: int = 0  # unfinished responses the file holds


def canonical() -> pd.DataFrame:
    return pd.read_csv(CANONICAL, dtype=str, keep_default_na=False)


def canonical_frame(codebook: Codebook) -> pd.DataFrame:
    """The canonical wave in the importer's own form (for export_labels)."""
    from kamsurvey.data.importer import import_responses

    return import_responses(CANONICAL, codebook, "2022").responses


class People:
    """Deterministic personal data for response i: who, from where, when."""

    def __init__(self, n: int):
        self.n = n

    def first(self, i: int) -> str:
        return FIRST_NAMES[i % len(FIRST_NAMES)]

    def last(self, i: int) -> str:
        return LAST_NAMES[(i * 7) % len(LAST_NAMES)] + ("" if i < 60 else "-Smith")

    def email(self, i: int) -> str:
        return f"{self.first(i).lower()}.{self.last(i).lower()}{i}@acme-kam.example.com"

    def ip(self, i: int) -> str:
        return f"203.0.113.{(i * 37) % 250 + 1}"

    def latitude(self, i: int) -> str:
        return f"{51.3 + (i % 50) / 97:.4f}"

    def longitude(self, i: int) -> str:
        return f"{-0.9 + (i % 40) / 53:.4f}"

    def started(self, i: int, of: int) -> dt.datetime:
        """From 1 July to 30 September 2022, in order (the first and last kept response fix the dates)."""
        span = (dt.datetime(2022, 9, 30, 16, 5) - dt.datetime(2022, 7, 1, 8, 41)).total_seconds()
        return dt.datetime(2022, 7, 1, 8, 41) + dt.timedelta(seconds=round(span * i / max(of - 1, 1)))

    def ended(self, i: int, of: int) -> dt.datetime:
        return self.started(i, of) + dt.timedelta(minutes=7 + i % 11)


def rows_with_partials(frame: pd.DataFrame) -> list[tuple[int | None, int]]:
    """(canonical row or None for an unfinished response, position) in the order the file holds them."""
    order: list[tuple[int | None, int]] = []
    for i in range(len(frame)):
        order.append((i, len(order)))
        if i in PARTIAL_AFTER:
            order.append((None, len(order)))
    return order


def partial_answers(frame: pd.DataFrame, k: int) -> dict[str, str]:
    """An unfinished response: the first three questions answered (as canonical row k did), the rest empty."""
    row = frame.iloc[k].to_dict()
    keep = ("reflects_job", "targets_set", "assessment_basis")
    return {c: (v if c.split("__")[0] in keep else "") for c, v in row.items()}


def ticked(question: Question, row: dict[str, str]) -> list[str] | None:
    """The codes ticked at a multi question (None: not answered)."""
    cells = {c: row.get(question.column(c), "") for c in question.codes(None)}
    if all(v == "" for v in cells.values()):
        return None
    return [c for c, v in cells.items() if v == "1"]


def has_typed_other(question: Question) -> bool:
    """Whether the question's "Other" takes typed text (an option labelled "Other", not "Other sectors")."""
    return any(o.code == "other" and o.label == "Other" for o in question.options)


def typed_for(i: int) -> str:
    return TYPED[i % len(TYPED)]


# --------------------------------------------------------------------------- Qualtrics


QUALTRICS_META = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"Europe/London"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"Europe/London"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"Europe/London"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("ExternalReference", "External Data Reference", '{"ImportId":"externalDataReference"}'),
    ("LocationLatitude", "Location Latitude", '{"ImportId":"locationLatitude"}'),
    ("LocationLongitude", "Location Longitude", '{"ImportId":"locationLongitude"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
]


def qualtrics(codebook: Codebook, out: Path, *, drop_questions: tuple[str, ...] = ()) -> Built:
    """Qualtrics "Download Data", CSV, "Use choice text".

    Sources: Qualtrics' "Understanding Your Dataset" ("CSV and TSV files come with 3 rows of
    headers. The first header is the internal Qualtrics ID of the field (e.g., EndDate, Q1, Q2
    ...). The second header is the field's name or text ... The third header has import IDs";
    the first columns are information about the respondent); the public CSV snippet in
    davemosk/FinSL-signbank docs/validation_result_model.md (metadata StartDate ... UserLanguage,
    row 3 '{"ImportId":"startDate","timeZone":"Pacific/Auckland"}', a question with a text
    choice as '<q> - Selected Choice' beside '<q> - <choice> - Text' (ImportId QID7_5_TEXT),
    a multiple answer as 'Write a comment,I want to talk about this sign...' -- joined by ','
    without a space); ropensci/qualtRics tests/testthat/files/sample.csv (the three rows,
    '2017-07-18 08:28:09' timestamps); ropensci/excluder's qualtrics_text (Status 'IP Address',
    Finished TRUE/FALSE with choice text). Embedded data follow the questions.
    """
    frame = canonical()
    people = People(len(frame))
    built = Built(out, incomplete=len(PARTIAL_AFTER))
    names, texts, ids = [m[0] for m in QUALTRICS_META], [m[1] for m in QUALTRICS_META], [m[2] for m in QUALTRICS_META]
    layout: list[tuple[Question, str]] = []  # (question, 'answer' | 'text')
    for question in codebook:
        if question.id in drop_questions:
            continue
        other = has_typed_other(question)
        q = f"Q{question.number}"
        names.append(q)
        texts.append(question.wording + (" - Selected Choice" if other else ""))
        ids.append(json.dumps({"ImportId": f"QID{question.number}"}, separators=(",", ":")))
        layout.append((question, "answer"))
        if other:
            k = question.codes(None).index("other") + 1
            names.append(f"{q}_{k}_TEXT")
            texts.append(f"{question.wording} - Other - Text")
            ids.append(json.dumps({"ImportId": f"QID{question.number}_{k}_TEXT"}, separators=(",", ":")))
            layout.append((question, "text"))
    names += ["Department", "panel_contact"]
    texts += ["Department", "panel_contact"]
    ids += ['{"ImportId":"Department"}', '{"ImportId":"panel_contact"}']
    order = rows_with_partials(frame)
    rows = [names, texts, ids]
    for source, position in order:
        finished = source is not None
        row_values = frame.iloc[source].to_dict() if finished else partial_answers(frame, position % len(frame))
        start, end = people.started(position, len(order)), people.ended(position, len(order))
        if not finished:  # unfinished: begun, abandoned; one before fieldwork opened (a pilot link)
            start = dt.datetime(2022, 6, 28, 10, 0) if position == PARTIAL_AFTER[0] + 1 else start
            end = start + dt.timedelta(minutes=4)
        meta = [start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S"), "IP Address",
                people.ip(position), "100" if finished else "27", str(int((end - start).total_seconds())),
                "True" if finished else "False", end.strftime("%Y-%m-%d %H:%M:%S"),
                f"R_{position:04d}xQzK7bPa{position * 13 % 97:02d}", people.last(position), people.first(position),
                people.email(position), f"CRM-{70000 + position * 3}", people.latitude(position),
                people.longitude(position), "email", "EN-GB"]
        built.secrets |= {meta[0], meta[1], meta[3], meta[8], meta[9], meta[10], meta[11], meta[12], meta[13], meta[14]}
        answers = []
        for question, kind in layout:
            if kind == "text":
                chose_other = (row_values.get(question.id) == "other") if not question.is_multi else \
                    row_values.get(question.column("other")) == "1"
                text = typed_for(position) if chose_other else ""
                built.secrets.add(text) if text else None
                answers.append(text)
            elif question.is_multi:
                codes = ticked(question, row_values)
                answers.append("" if codes is None else ",".join(question.label(c) for c in codes))
            else:
                code = row_values.get(question.id, "")
                answers.append(question.label(code) if code else "")
        department = ["Key accounts", "Sales", "Commercial"][position % 3]
        rows.append(meta + answers + [department, people.email(position + 500)])
        built.secrets.add(people.email(position + 500))
    _write_csv(out, rows, bom=True)
    return built


# --------------------------------------------------------------------------- SurveyMonkey


SURVEYMONKEY_META = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address", "Email Address",
                     "First Name", "Last Name", "Custom Data 1"]
OPEN_QUESTION = "Is there anything else you would like to tell us?"


def surveymonkey_rows(codebook: Codebook, *, as_text: bool) -> tuple[list[list], Built]:
    """SurveyMonkey "All individual responses", expanded columns, actual answer text.

    Sources: the public SurveyMonkey CSV parser "with multi-row header handling" (its
    METADATA_COLUMNS: Respondent ID, Collector ID, Start Date, End Date, IP Address, Email
    Address, First Name, Last Name, Custom Data 1; dates '%m/%d/%Y %I:%M:%S %p'; "New question
    starts when row1 has text", options in row 2, 'Other (please specify)' holding the typed
    text); the SurveyMonkeyConverter ("Row 0: full question wording; Row 1: 'Open-Ended
    Response' -> open question; 'Other (please specify)' -> one-hot + text preserved;
    anything else -> option label"; a ticked option's cell is not empty); mattroumaya/doubleheadr
    ("a column and a second row containing column-name data", the question text above the
    first column of a group, the other header cells empty). A single-choice question's column
    is headed 'Response'. SurveyMonkey records partial responses; the export has no marker.
    """
    frame = canonical()
    people = People(len(frame))
    built = Built(Path(), incomplete=len(PARTIAL_AFTER))
    top, second = list(SURVEYMONKEY_META), [""] * len(SURVEYMONKEY_META)
    columns: list[tuple[Question | None, str | None]] = []  # (question, option code | 'response' | 'other-text')
    for question in codebook:
        options = question.codes(None) if question.is_multi else ["response"]
        if not question.is_multi and has_typed_other(question):
            options = ["response", "other-text"]
        for j, code in enumerate(options):
            top.append(question.wording if j == 0 else "")
            if code == "response":
                second.append("Response")
            elif (code == "other" and has_typed_other(question)) or code == "other-text":
                second.append("Other (please specify)")
                code = "other-text"
            else:
                second.append(question.label(code))
            columns.append((question, code))
    top.append(OPEN_QUESTION)
    second.append("Open-Ended Response")
    columns.append((None, None))
    order = rows_with_partials(frame)
    rows = [top, second]
    for source, position in order:
        finished = source is not None
        values = frame.iloc[source].to_dict() if finished else partial_answers(frame, position % len(frame))
        start, end = people.started(position, len(order)), people.ended(position, len(order))
        stamp = (lambda d: d.strftime("%m/%d/%Y %I:%M:%S %p")) if as_text else (lambda d: d)
        respondent = 11400000000 + position * 7919
        meta = [respondent if not as_text else str(respondent), 403112233 if not as_text else "403112233",
                stamp(start), stamp(end), people.ip(position), people.email(position), people.first(position),
                people.last(position), f"crm-{position:05d}"]
        built.secrets |= {str(respondent), people.ip(position), people.email(position), people.first(position),
                          people.last(position), f"crm-{position:05d}"}
        if as_text:
            built.secrets |= {meta[2], meta[3]}
        cells = []
        for question, code in columns:
            if question is None:
                note = f"Thanks - {people.first(position)} (call {people.ip(position)})" if position % 5 == 0 else ""
                if note:
                    built.secrets.add(note)
                cells.append(note)
            elif code == "response":
                answer = values.get(question.id, "")
                cells.append(question.label(answer) if answer and not (answer == "other" and has_typed_other(question)) else "")
            elif code == "other-text":
                chose = values.get(question.id) == "other" if not question.is_multi else \
                    values.get(question.column("other")) == "1"
                text = typed_for(position) if chose else ""
                if text:
                    built.secrets.add(text)
                cells.append(text)
            else:
                cells.append(question.label(code) if values.get(question.column(code)) == "1" else "")
        rows.append(meta + cells)
    return rows, built


def surveymonkey_xlsx(codebook: Codebook, out: Path, *, hidden_first_sheet: bool = False,
                      without_second_row: bool = False) -> Built:
    from openpyxl import Workbook

    rows, built = surveymonkey_rows(codebook, as_text=False)
    if without_second_row:
        rows = [rows[0]] + rows[2:]
    workbook = Workbook()
    sheet = workbook.active
    if hidden_first_sheet:  # a sheet a colleague hid: notes, not responses
        sheet.title = "Notes"
        sheet.append(["Do not share", "first draft"])
        sheet.sheet_state = "hidden"
        sheet = workbook.create_sheet("Sheet")
        workbook.active = 1
    else:
        sheet.title = "Sheet"
    for row in rows:
        sheet.append([None if v == "" else v for v in row])
    workbook.save(out)
    built.path = out
    return built


def surveymonkey_csv(codebook: Codebook, out: Path) -> Built:
    rows, built = surveymonkey_rows(codebook, as_text=True)
    _write_csv(out, rows)
    built.path = out
    return built


# --------------------------------------------------------------------------- Google Forms


def google_forms(codebook: Codebook, out: Path, *, numbered: bool = True) -> Built:
    """Google Forms' responses sheet, File > Download > Comma-separated values.

    Sources: public code reading these sheets (RajeevAtla/AP-Stats-Final-Project: columns
    'Timestamp', 'Email Address', then the questions; the e-mails popped before analysis);
    kunalgorithm/surveycovid19 data.js ("Timestamp": "3/18/20 18:42"; checkbox answers joined
    by ', ' such as "Yes, due to their age (60+), Yes, due to existing medical conditions
    (...)" -- labels that hold the separator). A question's header is its title as the form's
    author typed it (here numbered '3. ' for some, as authors do); the text typed into
    "Other:" stands where its label would (last, as "Other" is the last option). Only
    submitted responses are recorded: the sheet has no unfinished ones.
    """
    frame = canonical()
    people = People(len(frame))
    built = Built(out)
    header = ["Timestamp", "Email Address"]
    for question in codebook:
        header.append(f"{question.number}. {question.wording}" if numbered and question.number % 2 else question.wording)
    rows = [header]
    for i in range(len(frame)):
        values = frame.iloc[i].to_dict()
        stamp = people.ended(i, len(frame))
        timestamp = f"{stamp.month}/{stamp.day}/{stamp.year} {stamp.hour}:{stamp.minute:02d}:{stamp.second:02d}"
        row = [timestamp, people.email(i)]
        built.secrets |= {timestamp, people.email(i)}
        for question in codebook:
            if question.is_multi:
                codes = ticked(question, values)
                if codes is None:
                    row.append("")
                    continue
                parts = [typed_for(i) if c == "other" and has_typed_other(question) else question.label(c) for c in codes]
                built.secrets |= {typed_for(i)} if "other" in codes and has_typed_other(question) else set()
                row.append(", ".join(parts))
            else:
                code = values.get(question.id, "")
                if code == "other" and has_typed_other(question):
                    row.append(typed_for(i))
                    built.secrets.add(typed_for(i))
                else:
                    row.append(question.label(code) if code else "")
        rows.append(row)
    _write_csv(out, rows)
    return built


# --------------------------------------------------------------------------- Microsoft Forms


def microsoft_forms(codebook: Codebook, out: Path) -> Built:
    """Microsoft Forms' workbook (Responses > Open results in Excel / Download a copy).

    Sources: public code reading these workbooks -- a Graph client's response-table test
    ("a table whose header starts with the columns Forms itself fills -- ID, Start time,
    Completion time, Email, Name -- followed by one column per question, titled with the
    question"), a feedback importer dropping "ID", "Start time", "Completion time", "Email",
    "Name", "Total points", "Quiz feedback", "Last modified time", a sample export with
    headers ID, Start time, Completion time, Email, Name, Last modified time, and fake data
    writing multi-select answers as ";".join(choices) + ";". Only submitted responses are
    recorded. The text typed into "Other" stands where its label would.
    """
    from openpyxl import Workbook

    frame = canonical()
    people = People(len(frame))
    built = Built(out)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append(["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]
                 + [q.wording for q in codebook])
    for i in range(len(frame)):
        values = frame.iloc[i].to_dict()
        start, end = people.started(i, len(frame)), people.ended(i, len(frame))
        name = f"{people.first(i)} {people.last(i)}"
        row = [i + 1, start, end, people.email(i), name, None]
        built.secrets |= {people.email(i), name}
        for question in codebook:
            if question.is_multi:
                codes = ticked(question, values)
                if codes is None:
                    row.append(None)
                    continue
                parts = [typed_for(i) if c == "other" and has_typed_other(question) else question.label(c) for c in codes]
                built.secrets |= {typed_for(i)} if "other" in codes and has_typed_other(question) else set()
                row.append("".join(p + ";" for p in parts))
            else:
                code = values.get(question.id, "")
                typed = code == "other" and has_typed_other(question)
                if typed:
                    built.secrets.add(typed_for(i))
                row.append(typed_for(i) if typed else (question.label(code) if code else None))
        sheet.append(row)
    workbook.save(out)
    return built


# --------------------------------------------------------------------------- SPSS


def spss_qualtrics(codebook: Codebook, out: Path) -> Built:
    """Qualtrics' SPSS download (.sav), written with pyreadstat.write_sav.

    Sources: Kent State University Libraries, "Qualtrics: coding" ("When your survey data is
    exported to Excel or SPSS, those numeric codes appear in the dataset as 'shorthand', and
    the text of the responses are used as value labels"); ctesta01's "Using Recode Values in
    Qualtrics" (a multiple answer question's recode values "appear as response column names":
    Q3_1, Q3_2, ..., 1 where selected); the CSV's field names (StartDate ... UserLanguage,
    Q3_11_TEXT) as variable names and its second row (the question text) as variable labels.
    Finished is 1/0 labelled True/False.
    """
    import numpy as np
    import pyreadstat

    frame = canonical()
    people = People(len(frame))
    built = Built(out, incomplete=len(PARTIAL_AFTER))
    order = rows_with_partials(frame)
    data: dict[str, list] = {k: [] for k in ["StartDate", "EndDate", "Status", "IPAddress", "Progress",
                                             "Finished", "ResponseId", "RecipientEmail", "RecipientFirstName",
                                             "LocationLatitude"]}
    labels = {"StartDate": "Start Date", "EndDate": "End Date", "Finished": "Finished", "Status": "Response Type"}
    value_labels: dict[str, dict] = {"Finished": {0.0: "False", 1.0: "True"}, "Status": {0.0: "IP Address"}}
    answer_columns: dict[str, list] = {}
    for source, position in order:
        finished = source is not None
        values = frame.iloc[source].to_dict() if finished else partial_answers(frame, position % len(frame))
        data["StartDate"].append(people.started(position, len(order)))
        data["EndDate"].append(people.ended(position, len(order)))
        data["Status"].append(0.0)
        data["IPAddress"].append(people.ip(position))
        data["Progress"].append(100.0 if finished else 33.0)
        data["Finished"].append(1.0 if finished else 0.0)
        data["ResponseId"].append(f"R_{position:04d}sav")
        data["RecipientEmail"].append(people.email(position))
        data["RecipientFirstName"].append(people.first(position))
        data["LocationLatitude"].append(float(people.latitude(position)))
        built.secrets |= {people.ip(position), f"R_{position:04d}sav", people.email(position)}
        for question in codebook:
            q = f"Q{question.number}"
            if question.is_multi:
                codes = ticked(question, values)
                for k, code in enumerate(question.codes(None), start=1):
                    name = f"{q}_{k}"
                    labels[name] = f"{question.wording} - {question.label(code)}"
                    value_labels[name] = {1.0: question.label(code)}
                    answer_columns.setdefault(name, []).append(1.0 if codes and code in codes else np.nan)
            else:
                code = values.get(question.id, "")
                labels[q] = question.wording + (" - Selected Choice" if has_typed_other(question) else "")
                value_labels[q] = {float(k): o.label for k, o in enumerate(question.options, start=1)}
                answer_columns.setdefault(q, []).append(float(question.codes(None).index(code) + 1) if code else np.nan)
            if has_typed_other(question):
                name = f"{q}_{question.codes(None).index('other') + 1}_TEXT"
                chose = (values.get(question.column("other")) == "1") if question.is_multi else values.get(question.id) == "other"
                answer_columns.setdefault(name, []).append(typed_for(position) if chose else "")
                labels[name] = f"{question.wording} - Other - Text"
                if chose:
                    built.secrets.add(typed_for(position))
    table = pd.DataFrame({**data, **answer_columns})
    pyreadstat.write_sav(table, str(out), column_labels={k: labels.get(k, k) for k in table.columns},
                         variable_value_labels=value_labels)
    return built


def spss_surveymonkey(codebook: Codebook, out: Path) -> Built:
    """An SPSS file laid out as SurveyMonkey's spreadsheet is (its SPSS layout is not in the sources found).

    No public documentation or code of SurveyMonkey's own .sav layout was found; this file
    carries the spreadsheet export's metadata (Respondent ID ... Custom Data 1, as variable
    names respondent_id, ..., custom_1), a question's wording as variable label and each
    option of a multiple-choice question as a variable labelled '<question> - <option>' whose
    value 1 is labelled with the option. The reader relies on labels only, so the test shows
    that any such file reads, not that SurveyMonkey writes exactly this one. It holds no
    completion marker: unfinished responses are those without an answer to the last question.
    """
    import numpy as np
    import pyreadstat

    frame = canonical()
    people = People(len(frame))
    built = Built(out, incomplete=len(PARTIAL_AFTER))
    order = rows_with_partials(frame)
    columns: dict[str, list] = {k: [] for k in ["respondent_id", "collector_id", "date_created", "date_modified",
                                                "ip_address", "email_address", "first_name", "last_name", "custom_1"]}
    labels = {"respondent_id": "Respondent ID", "collector_id": "Collector ID", "date_created": "Start Date",
              "date_modified": "End Date", "ip_address": "IP Address", "email_address": "Email Address",
              "first_name": "First Name", "last_name": "Last Name", "custom_1": "Custom Data 1"}
    value_labels: dict[str, dict] = {}
    for source, position in order:
        values = frame.iloc[source].to_dict() if source is not None else partial_answers(frame, position % len(frame))
        for key, value in zip(columns, [float(11400000000 + position), 403112233.0, people.started(position, len(order)),
                                        people.ended(position, len(order)), people.ip(position), people.email(position),
                                        people.first(position), people.last(position), f"crm-{position:05d}"]):
            columns[key].append(value)
        built.secrets |= {people.ip(position), people.email(position), f"crm-{position:05d}"}
        for question in codebook:
            q = f"q{question.number:04d}"
            if question.is_multi:
                codes = ticked(question, values)
                for k, code in enumerate(question.codes(None), start=1):
                    name = f"{q}_{k:04d}"
                    labels[name] = f"{question.wording} - {question.label(code)}"
                    value_labels[name] = {1.0: question.label(code)}
                    columns.setdefault(name, []).append(1.0 if codes and code in codes else np.nan)
            else:
                code = values.get(question.id, "")
                labels[q] = question.wording
                value_labels[q] = {float(k): o.label for k, o in enumerate(question.options, start=1)}
                columns.setdefault(q, []).append(float(question.codes(None).index(code) + 1) if code else np.nan)
    table = pd.DataFrame(columns)
    pyreadstat.write_sav(table, str(out), column_labels={k: labels.get(k, k) for k in table.columns},
                         variable_value_labels=value_labels)
    return built


def _write_csv(path: Path, rows: list[list], *, bom: bool = False) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([["" if v is None else str(v) for v in row] for row in rows])
