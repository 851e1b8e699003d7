"""Survey tools' exports as they come: each format reads to the canonical 2022 wave, personal data never gets through.

The exports are built by tests/toolexports.py from data/waves/2022/responses.csv, laid out as
each tool documents them, with personal data, metadata, unfinished responses and typed
"Other" answers. Importing one gives the canonical file back byte for byte (new ids R001...
in the file's order), and no personal or typed value of the file appears in the result, the
mapping file, the README paragraph or any error message.
"""

from __future__ import annotations

import csv
import datetime as dt

import pytest

import toolexports as tx
from kamsurvey.data.codebook import codebook_from_mapping
from kamsurvey.data.importer import ImportFailed, export_labels, import_responses, responses_csv, write_table
from kamsurvey.data.mapping import BY_FILE, read_mapping

CANONICAL = tx.CANONICAL.read_bytes()


@pytest.fixture(scope="module")
def codebook_text() -> str:
    return (tx.ROOT / "data" / "codebook.yml").read_text(encoding="utf-8")

BUILDERS = {
    "qualtrics": (tx.qualtrics, "qualtrics-export.csv", "qualtrics"),
    "surveymonkey-xlsx": (tx.surveymonkey_xlsx, "surveymonkey.xlsx", "surveymonkey"),
    "surveymonkey-csv": (tx.surveymonkey_csv, "surveymonkey.csv", "surveymonkey"),
    "google-forms": (tx.google_forms, "Form responses 1.csv", "google-forms"),
    "microsoft-forms": (tx.microsoft_forms, "KAM survey(1-112).xlsx", "microsoft-forms"),
    "spss-qualtrics": (tx.spss_qualtrics, "qualtrics.sav", "spss"),
    "spss-surveymonkey": (tx.spss_surveymonkey, "surveymonkey.sav", "spss"),
}


def build(name, codebook, tmp_path, **options):
    builder, file, _ = BUILDERS[name]
    return builder(codebook, tmp_path / file, **options)


def leaks(secrets, *texts) -> list[str]:
    """The personal or typed values of the file found in any of the texts."""
    text = "\n".join(texts)
    return sorted(s for s in secrets if s and s in text)


def everything_said(result) -> list[str]:
    return [responses_csv(result.responses).decode(), result.mapping.to_yaml(), result.describe(),
            repr(result.dropped), repr(result.fieldwork), repr(result.notes)]


def failure_text(error: ImportFailed) -> str:
    return str(error) + "\n".join(repr(p) for p in error.problems)


# ------------------------------------------------------------------ every format, as it comes


@pytest.mark.parametrize("name", list(BUILDERS))
def test_each_export_imports_as_it_comes_to_the_canonical_wave(tmp_path, codebook, name):
    built = build(name, codebook, tmp_path)
    result = import_responses(built.path, codebook, "2022")
    assert result.tool == BUILDERS[name][2]
    assert responses_csv(result.responses) == CANONICAL
    assert (result.incomplete, result.responses_in_file) == (built.incomplete, 112 + built.incomplete)
    assert (result.fieldwork.start, result.fieldwork.end) == tx.FIELDWORK
    assert leaks(built.secrets, *everything_said(result)) == []
    dropped = dict(result.dropped)
    assert any("personal data" in why for why in dropped.values())
    assert all(why for why in dropped.values())


@pytest.mark.parametrize("name", list(BUILDERS))
def test_the_mapping_file_reads_back_and_imports_the_same_with_no_guessing(tmp_path, codebook, name):
    built = build(name, codebook, tmp_path)
    first = import_responses(built.path, codebook, "2022")
    mapping_file = first.mapping.write(tmp_path / "mapping.yml")
    again = import_responses(built.path, codebook, "2022", mapping=mapping_file)
    assert responses_csv(again.responses) == CANONICAL
    assert {e.origin for e in again.mapping.entries} == {BY_FILE}
    assert read_mapping(mapping_file).by_column().keys() == first.mapping.by_column().keys()
    assert leaks(built.secrets, mapping_file.read_text(encoding="utf-8")) == []


def test_a_question_retitled_in_the_form_is_read_through_a_corrected_mapping(tmp_path, codebook):
    built = tx.google_forms(codebook, tmp_path / "responses.csv")
    rows = list(csv.reader(built.path.open(encoding="utf-8", newline="")))
    sector = rows[0].index("In which sector does your organisation operate?") if \
        "In which sector does your organisation operate?" in rows[0] else len(rows[0]) - 1
    rows[0][sector] = "Your industry"
    with built.path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(ImportFailed) as caught:
        import_responses(built.path, codebook, "2022")
    (problem,) = caught.value.problems
    assert "question sector is missing" in str(problem) and "columns left unmatched: 'Your industry'" in str(problem)
    assert leaks(built.secrets, failure_text(caught.value)) == []
    text = import_responses(built.path, codebook, "2022", not_asked=["sector"]).mapping.to_yaml()
    corrected = text.replace("- column: Your industry\n  letter: L\n  drop: not a question of the codebook\n"
                             "  origin: judged by content", "- column: Your industry\n  question: sector")
    assert corrected != text
    (tmp_path / "mapping.yml").write_text(corrected, encoding="utf-8")
    result = import_responses(built.path, codebook, "2022", mapping=tmp_path / "mapping.yml")
    assert responses_csv(result.responses) == CANONICAL


def test_a_mapping_file_naming_an_unknown_question_is_refused(tmp_path, codebook):
    built = tx.google_forms(codebook, tmp_path / "responses.csv")
    text = import_responses(built.path, codebook, "2022").mapping.to_yaml().replace("question: sector", "question: sectr")
    (tmp_path / "mapping.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ImportFailed, match="unknown question in the mapping file: got 'sectr'; expected a question of "
                       "the codebook: 'sector'"):
        import_responses(built.path, codebook, "2022", mapping=tmp_path / "mapping.yml")


def test_a_format_can_be_forced_and_a_wrong_one_is_named(tmp_path, codebook):
    built = tx.surveymonkey_csv(codebook, tmp_path / "export.csv")
    result = import_responses(built.path, codebook, "2022", format="surveymonkey")
    assert responses_csv(result.responses) == CANONICAL
    with pytest.raises(ImportFailed) as caught:
        import_responses(built.path, codebook, "2022", format="qualtrics")
    (problem,) = caught.value.problems
    assert "this looks like a Qualtrics export" in str(problem) and "three header rows" in str(problem)
    with pytest.raises(ImportFailed, match="the format was given as spss, but the file is text"):
        import_responses(built.path, codebook, "2022", format="spss")
    with pytest.raises(ImportFailed, match="unknown format"):
        import_responses(built.path, codebook, "2022", format="typeform")


# ------------------------------------------------------------------ the failures of issue 15


def test_surveymonkey_without_its_second_header_row_fails_with_one_clear_message(tmp_path, codebook):
    built = tx.surveymonkey_xlsx(codebook, tmp_path / "export.xlsx", without_second_row=True)
    with pytest.raises(ImportFailed) as caught:
        import_responses(built.path, codebook, "2022")
    (problem,) = caught.value.problems  # one line, not one per unnamed column
    text = str(problem)
    assert "this looks like a SurveyMonkey export" in text and "second header row" in text
    assert "have no name" in text and "columns L-Q, S-AB" in text  # the unnamed columns, by their letters
    assert "import the file as it comes" in text
    assert leaks(built.secrets, failure_text(caught.value)) == []


def test_an_email_column_never_becomes_the_respondent_id(tmp_path, codebook):
    built = tx.google_forms(codebook, tmp_path / "responses.csv")
    result = import_responses(built.path, codebook, "2022")
    assert result.responses["respondent_id"].tolist()[:3] == ["R001", "R002", "R003"]
    assert dict(result.dropped)["Email Address"] == "e-mail address (personal data)"
    assert "@" not in "".join(everything_said(result))


def test_unfinished_qualtrics_responses_are_left_out_and_counted_or_kept_on_request(tmp_path, codebook):
    built = tx.qualtrics(codebook, tmp_path / "export.csv")
    result = import_responses(built.path, codebook, "2022")
    assert len(result.responses) == 112 and result.incomplete == 4
    assert "4 of the 116 responses in the file are incomplete (by the tool's completion marker (Finished)) and were " \
           "left out" in result.describe()
    kept = import_responses(built.path, codebook, "2022", include_incomplete=True)
    assert len(kept.responses) == 116 and kept.incomplete == 4 and "were kept" in kept.describe()
    partial = kept.responses.iloc[10]  # the first unfinished response follows canonical row 10
    assert partial["respondent_id"] == "R011" and partial["sector"] == "" and partial["reflects_job"] != ""
    # an unfinished response began before fieldwork opened: kept, it moves the start
    assert kept.fieldwork.start < tx.FIELDWORK[0] and result.fieldwork.start == tx.FIELDWORK[0]


def test_a_missing_question_is_an_error_listing_every_one_unless_declared_not_asked(tmp_path, codebook):
    built = tx.qualtrics(codebook, tmp_path / "export.csv", drop_questions=("bonus_size", "downsides"))
    with pytest.raises(ImportFailed) as caught:
        import_responses(built.path, codebook, "2023")
    missing = [str(p) for p in caught.value.problems]
    assert len(missing) == 2
    assert "question bonus_size is missing" in missing[0] and "question downsides is missing" in missing[1]
    assert "declare it not asked" in missing[0]
    result = import_responses(built.path, codebook, "2023", not_asked=["bonus_size", "downsides"])
    assert result.not_asked == ["bonus_size", "downsides"]
    assert not any(c.startswith(("bonus_size", "downsides")) for c in result.responses.columns)


def test_formula_cells_without_a_saved_value_are_named_by_cell(tmp_path, codebook):
    from openpyxl import load_workbook

    built = tx.microsoft_forms(codebook, tmp_path / "export.xlsx")
    workbook = load_workbook(built.path)
    sheet = workbook.active
    sheet["G7"] = '=IF(F7="","Agree","Disagree")'  # openpyxl saves formulas without a result, as an unopened sheet
    sheet["H9"] = "=H8"
    workbook.save(built.path)
    with pytest.raises(ImportFailed) as caught:
        import_responses(built.path, codebook, "2022")
    text = [str(p) for p in caught.value.problems]
    assert any("cell Sheet1!G7 holds a formula without a saved result" in t and "row 7" in t for t in text)
    assert any("cell Sheet1!H9 holds a formula without a saved result" in t for t in text)
    assert "let it calculate, save it" in text[0]


def test_a_hidden_first_sheet_is_not_read(tmp_path, codebook):
    built = tx.surveymonkey_xlsx(codebook, tmp_path / "export.xlsx", hidden_first_sheet=True)
    result = import_responses(built.path, codebook, "2022")
    assert responses_csv(result.responses) == CANONICAL


def test_header_cells_without_a_name_are_named_by_their_letters_in_one_line(tmp_path, codebook):
    frame = export_labels(tx.canonical_frame(codebook), codebook, "2022")
    for k in range(3):
        frame.insert(3 + k, " " * (k + 1), "x")  # three columns with blank headers, holding data
    path = write_table(frame, tmp_path / "export.xlsx")
    with pytest.raises(ImportFailed) as caught:
        import_responses(path, codebook, "2022")
    (problem,) = caught.value.problems
    assert "columns D-F have no name but hold answers" in str(problem)


def test_a_workbook_named_csv_is_read_as_a_workbook(tmp_path, codebook):
    built = tx.microsoft_forms(codebook, tmp_path / "export.xlsx")
    renamed = built.path.rename(tmp_path / "export.csv")
    result = import_responses(renamed, codebook, "2022")
    assert responses_csv(result.responses) == CANONICAL
    assert "`export.csv` is an Excel workbook (named .csv); it was read as a workbook" in result.describe()


# ------------------------------------------------------------------ labels, wording, dates, messages


def test_labels_holding_the_tools_separator_are_resolved_against_the_codebook(tmp_path, codebook, codebook_text):
    with_commas = codebook_from_mapping(__import__("yaml").safe_load(
        codebook_text.replace("Customer profitability / gross margin", '"Customer profitability, gross margin"')
        .replace("{code: sales, label: Sales,", "{code: sales, label: \"Sales, volume and value\",")))
    for builder, name in ((tx.qualtrics, "q.csv"), (tx.google_forms, "g.csv"), (tx.microsoft_forms, "m.xlsx")):
        built = builder(with_commas, tmp_path / name)
        result = import_responses(built.path, with_commas, "2022")
        assert responses_csv(result.responses) == CANONICAL, name


def test_headers_match_whatever_the_tools_decorations(tmp_path, codebook):
    frame = export_labels(tx.canonical_frame(codebook), codebook, "2022", multi="joined", headers="wording")
    decorated = {}
    for number, column in enumerate(frame.columns):
        if column == "Respondent ID":
            continue
        style = number % 4
        text = column.rstrip("?")
        decorated[column] = [f"Q{number}. {column}", f"{number}) {text} *", f"Q{number} {column} - Selected Choice",
                             f"  {text.upper()}  "][style]
    result = import_responses(write_table(frame.rename(columns=decorated), tmp_path / "export.csv"), codebook, "2022")
    assert responses_csv(result.responses) == CANONICAL


def test_dates_that_could_be_day_or_month_first_are_not_guessed(tmp_path, codebook):
    built = tx.google_forms(codebook, tmp_path / "responses.csv")
    rows = list(csv.reader(built.path.open(encoding="utf-8", newline="")))
    for k, row in enumerate(rows[1:]):
        row[0] = f"{1 + k % 12}/{1 + k % 12}/2022 10:00:00" if k else "3/4/2022 10:00:00"
    with built.path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = import_responses(built.path, codebook, "2022")
    assert result.fieldwork is None
    assert any("none of them shows whether the day or the month comes first" in n for n in result.notes)


def test_errors_name_row_and_column_but_never_a_personal_or_typed_value(tmp_path, codebook):
    built = tx.google_forms(codebook, tmp_path / "responses.csv")
    rows = list(csv.reader(built.path.open(encoding="utf-8", newline="")))
    secret = "call me on +44 7700 900123 or j.doe@example.org"
    column = next(i for i, h in enumerate(rows[0]) if "properly reflects" in h)
    rows[5][column] = secret  # typed into a question that has no "Other"
    rows[8][0] = "next Tuesday, about 4pm"  # a timestamp the importer cannot read
    with built.path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(ImportFailed) as caught:
        import_responses(built.path, codebook, "2022")
    (problem,) = caught.value.problems
    assert (problem.row, problem.respondent_id, problem.value) == (6, "R005", None)
    assert "not shown (it may be personal data or typed text)" in str(problem)
    assert leaks(built.secrets | {secret, "next Tuesday, about 4pm"}, failure_text(caught.value)) == []
    rows[5][column] = "Agree"
    with built.path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = import_responses(built.path, codebook, "2022")
    assert result.fieldwork is None
    assert any("column Timestamp, line 9 holds no date" in n for n in result.notes)
    assert "next Tuesday" not in " ".join(result.notes) + result.describe()


def test_a_qualtrics_export_with_numeric_values_is_named_with_how_to_fix_it(tmp_path, codebook):
    built = tx.qualtrics(codebook, tmp_path / "export.csv")
    rows = list(csv.reader(built.path.open(encoding="utf-8-sig", newline="")))
    for row in rows[3:]:
        for i, name in enumerate(rows[0]):
            if name.startswith("Q") and not name.endswith("_TEXT") and row[i]:
                row[i] = ",".join(str(1 + k) for k in range(len(row[i].split(","))))
    with built.path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(ImportFailed) as caught:
        import_responses(built.path, codebook, "2022")
    (problem,) = caught.value.problems
    assert "this Qualtrics export holds numeric values, not the choices' text" in str(problem)
    assert "'Use choice text'" in str(problem)


def test_dropped_columns_say_why_and_never_hold_a_value(tmp_path, codebook):
    built = tx.qualtrics(codebook, tmp_path / "export.csv")
    dropped = dict(import_responses(built.path, codebook, "2022").dropped)
    assert dropped["IPAddress"] == "IP address (personal data)"
    assert dropped["RecipientEmail"] == "e-mail address (personal data)"
    assert dropped["LocationLatitude"] == "location (personal data)"
    assert dropped["ExternalReference"] == "external reference (personal data)"
    assert dropped["Q3_11_TEXT"] == "free text (typed answers are never stored)"
    assert dropped["Department"] == "custom or embedded data (may identify a person)"
    assert dropped["panel_contact"] == "recipient or panel field (personal data)"
    assert dropped["ResponseId"].startswith("the survey tool's respondent id")
    assert dt.date(2022, 7, 1).isoformat() not in " ".join(dropped)


# ------------------------------------------------------------------ kam wave, as the analyst runs it


@pytest.fixture(scope="module")
def book_copy(tmp_path_factory):
    """What `kam wave` reads: the book's sources (a copy: the command takes the copy's writer lock)."""
    import shutil

    from kamsurvey.build.website import NOT_SOURCES

    book = tmp_path_factory.mktemp("book") / "book"
    shutil.copytree(tx.ROOT, book, ignore=shutil.ignore_patterns(*NOT_SOURCES), symlinks=True)
    return book


@pytest.mark.parametrize("name", list(BUILDERS))
def test_kam_wave_takes_each_export_as_it_comes(tmp_path, codebook, book_copy, name):
    """`kam wave --check` imports and validates each tool's file exactly as the tool wrote it: the right number of
    respondents, the dates from the export's own timestamps or refused until given (never guessed), and no personal
    or typed value printed."""
    import subprocess
    import sys

    built = build(name, codebook, tmp_path)
    dated = import_responses(built.path, codebook, "2023").fieldwork is not None

    def kam_wave(*extra: str) -> tuple[int, str]:
        result = subprocess.run([sys.executable, "-m", "kamsurvey", "wave", "--book", str(book_copy), "--wave", "2023",
                                 "--data", str(built.path), "--check", *extra],
                                capture_output=True, text=True, timeout=600)
        return result.returncode, result.stdout + result.stderr

    code, said = kam_wave()
    assert leaks(built.secrets, said) == []
    if not dated:
        assert code == 1 and "no response timestamps" in said and "dates are never guessed" in said, said
        code, said = kam_wave("--fieldwork-start", "2022-07-01", "--fieldwork-end", "2022-09-30")
    assert code == 0, said
    assert "OK: 112 respondents, 10 questions" in said
    assert ("Fieldwork dates read from the export" in said) == dated
    assert "nothing was changed (--check)" in said
    assert leaks(built.secrets, said) == []
    assert not (book_copy / "data" / "waves" / "2023").exists()
