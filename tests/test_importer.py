"""Importing a wave: the canonical file and survey-tool exports (labels) round-trip; bad exports are named precisely."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import pytest
import yaml

from conftest import DATA
from kamsurvey.data.importer import (
    CODES,
    JOINED,
    LABELS,
    OPTION_COLUMNS,
    ImportFailed,
    export_labels,
    import_responses,
    responses_csv,
    wave_yaml,
    write_table,
)
from kamsurvey.data.wavemeta import check_meta

CANONICAL = DATA / "waves" / "2022" / "responses.csv"


@pytest.fixture(scope="module")
def canonical(codebook) -> pd.DataFrame:
    return import_responses(CANONICAL, codebook, "2022").responses


def problems(error: ImportFailed) -> list[str]:
    return [str(p) for p in error.problems]


def export(tmp_path, frame: pd.DataFrame, name: str = "export.csv"):
    path = tmp_path / name
    write_table(frame, path)
    return path


def labels_export(canonical, codebook, **options) -> pd.DataFrame:
    return export_labels(canonical, codebook, "2022", **options)


# ------------------------------------------------------------------ round trips


def test_the_canonical_file_comes_back_byte_for_byte(codebook):
    result = import_responses(CANONICAL, codebook, "2022")
    assert responses_csv(result.responses) == CANONICAL.read_bytes()
    assert result.canonical and set(result.layout.values()) == {CODES}
    assert result.left_out == []


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("multi", ["columns", "joined"])
@pytest.mark.parametrize("headers", ["ids", "wording"])
def test_a_labels_export_round_trips_to_the_canonical_file(tmp_path, codebook, canonical, suffix, multi, headers):
    path = export(tmp_path, labels_export(canonical, codebook, multi=multi, headers=headers), f"export{suffix}")
    result = import_responses(path, codebook, "2022")
    assert responses_csv(result.responses) == CANONICAL.read_bytes()
    expected_multi = OPTION_COLUMNS if multi == "columns" else JOINED
    assert {result.layout[q.id] for q in codebook if q.is_multi} == {expected_multi}
    assert {result.layout[q.id] for q in codebook if not q.is_multi} == {LABELS}


def test_labels_and_headers_match_whatever_their_case_and_spacing(tmp_path, codebook, canonical):
    frame = labels_export(canonical, codebook, multi="joined")
    frame = frame.rename(columns={"reflects_job": "  REFLECTS_JOB ", "sector": "In which SECTOR does your  organisation operate?"})
    frame["  REFLECTS_JOB "] = frame["  REFLECTS_JOB "].str.upper().radd("  ")
    frame["rewarded_with"] = frame["rewarded_with"].str.replace("; ", " ;").str.lower()
    result = import_responses(export(tmp_path, frame), codebook, "2022")
    assert responses_csv(result.responses) == CANONICAL.read_bytes()


def test_one_tick_per_option_column_as_1_or_empty_and_trailing_separators(tmp_path, codebook, canonical):
    """Survey tools export a ticked option as 1 with the others empty, and joined answers with a trailing ';'."""
    frame = labels_export(canonical, codebook, multi="columns")
    for column in [c for c in frame.columns if c.startswith("targets_set [")]:
        frame[column] = frame[column].map(lambda v: "1" if v else "")
    frame["downsides"] = labels_export(canonical, codebook, multi="joined")["downsides"].map(lambda v: v + ";" if v else v)
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("downsides [")])
    result = import_responses(export(tmp_path, frame), codebook, "2022")
    assert responses_csv(result.responses) == CANONICAL.read_bytes()


def test_a_question_left_out_of_the_export_is_an_error_unless_declared_not_asked(tmp_path, codebook, canonical):
    frame = labels_export(canonical, codebook).drop(columns=["bonus_size", "sector"])
    with pytest.raises(ImportFailed) as caught:
        import_responses(export(tmp_path, frame), codebook, "2023")
    text = problems(caught.value)
    assert [t for t in text if "is missing" in t] == [t for t in text]
    assert any("question bonus_size is missing" in t for t in text)
    assert any("question sector is missing" in t and "In which sector does your organisation operate?" in t
               for t in text)
    result = import_responses(export(tmp_path, frame), codebook, "2023", not_asked=["bonus_size", "sector"])
    assert result.left_out == result.not_asked == ["bonus_size", "sector"]
    assert "bonus_size" not in result.responses.columns
    assert "Not asked in this wave: bonus_size, sector" in result.describe()


def test_a_question_declared_not_asked_but_present_is_an_error(tmp_path, codebook, canonical):
    with pytest.raises(ImportFailed, match="bonus_size is declared not asked in this wave, but the export holds it"):
        import_responses(export(tmp_path, labels_export(canonical, codebook)), codebook, "2022", not_asked=["bonus_size"])
    with pytest.raises(ImportFailed, match="'no_such', declared not asked, is no question of the codebook"):
        import_responses(CANONICAL, codebook, "2022", not_asked=["no_such"])


def test_columns_the_codebook_does_not_know_are_dropped_and_listed_or_ignored_on_request(tmp_path, codebook, canonical):
    frame = labels_export(canonical, codebook).assign(**{"Start date": "2023-03-01 10:00", "Interviewer": "A"})
    result = import_responses(export(tmp_path, frame), codebook, "2022", ignore=["INTERVIEWER"])
    assert responses_csv(result.responses) == CANONICAL.read_bytes()
    assert dict(result.dropped) == {"respondent_id": "the survey tool's respondent id (personal data: replaced by a "
                                                     "new neutral id)",
                                    "Start date": "timestamp (personal data)", "Interviewer": "left out on request"}
    assert result.ignored == ["Interviewer"]
    assert result.fieldwork.start == result.fieldwork.end == dt.date(2023, 3, 1)


# ------------------------------------------------------------------ errors


def test_an_unknown_label_names_row_respondent_column_and_the_closest_labels(tmp_path, codebook, canonical):
    frame = labels_export(canonical, codebook)
    frame.loc[3, "reflects_job"] = "Strongly agre"
    with pytest.raises(ImportFailed) as caught:
        import_responses(export(tmp_path, frame), codebook, "2023")
    (problem,) = caught.value.problems
    assert (problem.row, problem.respondent_id, problem.column, problem.value) == (5, "R004", "reflects_job", "Strongly agre")
    assert "unknown label" in str(problem)
    assert "closest: 'Strongly agree'" in str(problem)


def test_the_count_of_rows_not_listed_comes_after_the_rows_it_counts(tmp_path, codebook, canonical):
    frame = pd.concat([labels_export(canonical, codebook)] * 10, ignore_index=True)  # 1,120 rows
    frame["respondent_id"] = [f"R{i:05d}" for i in range(len(frame))]
    frame["reflects_job"] = "Strongly agre"
    with pytest.raises(ImportFailed) as caught:
        import_responses(export(tmp_path, frame), codebook, "2023")
    found = caught.value.problems
    assert [p.row for p in found[:-1]] == list(range(2, 2 + len(found) - 1))
    assert found[-1].row is None and "more rows like these" in str(found[-1])


def test_an_unknown_label_among_joined_answers_is_named(tmp_path, codebook, canonical):
    frame = labels_export(canonical, codebook, multi="joined")
    frame.loc[0, "rewarded_with"] = "Bonus (cash); Recogniton"
    with pytest.raises(ImportFailed) as caught:
        import_responses(export(tmp_path, frame), codebook, "2022")
    text = problems(caught.value)
    assert len(text) == 1
    assert "line 2 (respondent R001), column rewarded_with" in text[0]
    assert "got 'Recogniton'" in text[0] and "closest: 'Recognition'" in text[0]


def test_every_problem_is_reported_at_once_with_spreadsheet_rows(tmp_path, codebook, canonical):
    frame = labels_export(canonical, codebook)
    frame.loc[0, "sector"] = "Pharmaceuticals"
    frame.loc[9, "rewarded_with [Recognition]"] = "yes"
    frame = frame.rename(columns={"downsides [Discourages teamwork]": "downsides [Discourage teamwork]"})
    with pytest.raises(ImportFailed) as caught:
        import_responses(export(tmp_path, frame, "export.xlsx"), codebook, "2022")
    text = problems(caught.value)
    assert len(text) == 3
    assert text[0].startswith(f"{tmp_path / 'export.xlsx'}, row 1, column downsides [Discourage teamwork]: unknown column")
    assert "closest:" in text[0]
    assert "row 2 (respondent R001), column sector" in text[1] and "closest: 'Pharma'" in text[1]
    assert "row 11 (respondent R010), column rewarded_with [Recognition]" in text[2]
    assert "expected 1, 0, empty, or the option's label 'Recognition'" in text[2]


def test_a_malformed_line_and_a_bad_label_are_both_reported(tmp_path, codebook, canonical):
    rows = list(csv.reader(io.StringIO(labels_export(canonical, codebook).to_csv(index=False))))
    rows[2][rows[0].index("reflects_job")] = "Agreee"
    rows[4] = rows[4][:7]
    path = tmp_path / "export.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, lineterminator="\n").writerows(rows)
    with pytest.raises(ImportFailed) as caught:
        import_responses(path, codebook, "2022")
    text = problems(caught.value)
    assert "line 3 (respondent R002), column reflects_job: unknown label: got 'Agreee'" in text[0]
    assert "line 5" in text[1] and "malformed CSV: 7 fields" in text[1]


def test_respondents_get_new_neutral_ids_whatever_the_file_calls_them(tmp_path, codebook, canonical):
    frame = labels_export(canonical, codebook)
    frame["respondent_id"] = [f"kam{i}@example.org" for i in range(len(frame))][::-1]
    result = import_responses(export(tmp_path, frame), codebook, "2022")
    assert responses_csv(result.responses) == CANONICAL.read_bytes()  # R001, R002, ... in the file's order
    assert "@" not in responses_csv(result.responses).decode() + result.mapping.to_yaml() + result.describe()
    without = import_responses(export(tmp_path, frame.drop(columns=["respondent_id"])), codebook, "2022")
    assert responses_csv(without.responses) == CANONICAL.read_bytes()


def test_a_question_given_twice_is_an_error(tmp_path, codebook, canonical):
    frame = labels_export(canonical, codebook)
    frame["In which sector does your organisation operate?"] = frame["sector"]
    with pytest.raises(ImportFailed) as caught:
        import_responses(export(tmp_path, frame), codebook, "2022")
    assert any("names the same thing as column 'sector'" in t for t in problems(caught.value))
    joined = labels_export(canonical, codebook, multi="joined")["downsides"]
    with pytest.raises(ImportFailed) as caught:
        import_responses(export(tmp_path, labels_export(canonical, codebook).assign(downsides=joined)), codebook, "2022")
    assert any("is also given one column per option" in t for t in problems(caught.value))


def test_a_file_that_is_not_utf8_names_the_line(tmp_path, codebook):
    path = tmp_path / "export.csv"
    path.write_bytes(CANONICAL.read_bytes().replace(b"R003,", "R\xe903,".encode("cp1252"), 1))
    with pytest.raises(ImportFailed) as caught:
        import_responses(path, codebook, "2022")
    assert "line 4" in problems(caught.value)[0] and "not UTF-8" in problems(caught.value)[0]


def test_a_file_that_is_no_export_is_named(tmp_path, codebook):
    path = tmp_path / "export.sav"
    path.write_bytes(b"\x00")
    with pytest.raises(ImportFailed, match="not an SPSS data file: the file holds binary data"):
        import_responses(path, codebook, "2022")


# ------------------------------------------------------------------ wave.yml


def test_wave_yaml_writes_the_2022_file_byte_for_byte():
    raw = yaml.safe_load((DATA / "waves" / "2022" / "wave.yml").read_text(encoding="utf-8"))
    raw["fieldwork"] = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in raw["fieldwork"].items()}
    raw["published"] = raw["published"].isoformat()
    assert wave_yaml(raw) == (DATA / "waves" / "2022" / "wave.yml").read_text(encoding="utf-8")


def test_wave_yaml_of_a_new_wave_passes_validation():
    meta = {"wave": "2023", "title": "Survey: 2023 'edition'", "fieldwork": {"start": "2023-03-01", "end": "2023-05-31"},
            "population": "Key account managers " * 8, "n": 150, "source": "AKAM survey, 2023",
            "provenance": "original", "provenance_note": "Imported from export.xlsx.", "published": dt.date(2024, 1, 2).isoformat()}
    parsed = yaml.safe_load(wave_yaml(meta))
    assert check_meta(parsed, file="wave.yml", wave_dir_name="2023", n_rows=150) == []
    assert parsed["title"] == meta["title"] and parsed["wave"] == "2023"
