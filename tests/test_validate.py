"""kamsurvey.data.validate: every kind of bad input is reported with its file, line, column and value.

Inputs are built in tmp_path from a small valid wave derived from the codebook, then
broken one way per test.
"""

from __future__ import annotations

import copy
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from kamsurvey.data.codebook import Codebook, codebook_from_mapping, load_codebook
from kamsurvey.data.validate import (
    Responses,
    _Checker,
    check_answer_among,
    check_answers,
    check_header,
    check_ids,
    check_no_answers,
    check_responses,
    check_rules,
    check_skip_logic,
    read_wave,
)
from kamsurvey.data.problems import MAX_PER_CHECK, MAX_SHOWN, Problem, WaveValidationError
from kamsurvey.data.wavemeta import check_meta

ROOT = Path(__file__).resolve().parents[1]
CODEBOOK = ROOT / "data" / "codebook.yml"
WAVE_2022 = ROOT / "data" / "waves" / "2022"
KAM = [sys.executable, "-m", "kamsurvey"]
WAVE = "2022"


@pytest.fixture(scope="module")
def book() -> Codebook:
    return load_codebook(CODEBOOK)


# --------------------------------------------------------------------------- a small valid wave


def valid_rows(codebook: Codebook, n: int = 8) -> pd.DataFrame:
    """n respondents who answer every question consistently with the codebook (all cells strings)."""
    rows = []
    for r in range(n):
        row: dict[str, str] = {"respondent_id": f"R{r + 1:03d}"}
        chosen: dict[str, set[str] | str] = {}
        for question in codebook:
            codes = question.codes(WAVE)
            if question.is_multi:
                substantive = question.substantive_codes(WAVE)
                exclusive = question.exclusive_codes()
                if r == 0 and exclusive:
                    ticks = {exclusive[0]}
                else:
                    ticks = {substantive[r % len(substantive)], substantive[(r + 3) % len(substantive)]}
                chosen[question.id] = ticks
            elif question.answer_among:
                among = sorted(chosen[question.answer_among], key=codebook[question.answer_among].codes().index)
                chosen[question.id] = among[0]
            else:
                chosen[question.id] = codes[r % len(codes)]
        for rule in codebook.rules:  # keep the rules: drop the forbidden answer
            if_q, forbid_q = codebook[rule.if_.question], codebook[rule.forbids.question]
            gave_if = rule.if_.option in chosen[if_q.id] if if_q.is_multi else chosen[if_q.id] == rule.if_.option
            if gave_if and forbid_q.is_multi and rule.forbids.option in chosen[forbid_q.id]:
                chosen[forbid_q.id] = (chosen[forbid_q.id] - {rule.forbids.option}) or {forbid_q.substantive_codes()[-1]}
        for question in codebook:
            condition = question.asked_of
            asked = True
            if condition is not None:
                source = codebook[condition.question]
                given = chosen[source.id]
                asked = condition.option in given if source.is_multi else given == condition.option
            if question.is_multi:
                for code in question.codes(WAVE):
                    row[question.column(code)] = ("1" if code in chosen[question.id] else "0") if asked else ""
            else:
                row[question.id] = chosen[question.id] if asked else ""
        rows.append(row)
    return pd.DataFrame(rows, columns=codebook.columns(WAVE), dtype="str")


def meta_for(frame: pd.DataFrame, wave: str = WAVE) -> dict:
    return {
        "wave": wave,
        "title": "Test wave",
        "fieldwork": {"start": dt.date(2022, 7, 1), "end": dt.date(2022, 9, 30)},
        "population": "Key account managers",
        "n": len(frame),
        "source": "AKAM survey",
        "provenance": "reconstructed",
        "provenance_note": "Synthetic rows for tests.",
        "published": dt.date(2022, 11, 1),
    }


def write_wave(tmp_path: Path, frame: pd.DataFrame, meta: dict | None = None, wave: str = WAVE) -> Path:
    folder = tmp_path / "waves" / wave
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "responses.csv", index=False, lineterminator="\n")
    (folder / "wave.yml").write_text(yaml.safe_dump(meta if meta is not None else meta_for(frame, wave), sort_keys=False), encoding="utf-8")
    return folder


def problems_of(folder: Path, codebook: Codebook) -> list[Problem]:
    with pytest.raises(WaveValidationError) as caught:
        read_wave(folder, codebook)
    return caught.value.problems


def only(problems: list[Problem], **match) -> Problem:
    """The single problem whose fields equal `match` (and fail showing all problems if not exactly one)."""
    found = [p for p in problems if all(getattr(p, k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one problem with {match}, got:\n" + "\n".join(map(str, problems))
    return found[0]


def set_cell(frame: pd.DataFrame, respondent: int, column: str, value: str) -> None:
    frame.loc[respondent, column] = value


def line_of(respondent: int) -> int:
    return respondent + 2  # header is line 1


def with_bonus(frame: pd.DataFrame) -> int:
    return int(np.flatnonzero(frame["rewarded_with__bonus_cash"].eq("1"))[0])


def without_bonus(frame: pd.DataFrame) -> int:
    return int(np.flatnonzero(frame["rewarded_with__bonus_cash"].eq("0"))[0])


# --------------------------------------------------------------------------- valid input


def test_valid_wave_passes_with_typed_columns(tmp_path, book):
    frame = valid_rows(book)
    assert check_responses(frame, book, file="responses.csv", wave=WAVE) == []
    meta, typed = read_wave(write_wave(tmp_path, frame), book)
    assert meta["n"] == len(frame) and meta["wave"] == WAVE
    assert list(typed.columns) == list(frame.columns)
    assert isinstance(typed.index, pd.RangeIndex) and len(typed) == len(frame)
    assert typed["respondent_id"].dtype == "str"
    assert typed["respondent_id"].tolist() == frame["respondent_id"].tolist()
    for question in book:
        if question.is_multi:
            for column in question.columns(WAVE):
                assert typed[column].dtype == "Int8", column
        else:
            assert isinstance(typed[question.id].dtype, pd.StringDtype), question.id
    # empty cells are <NA>, codes stay codes
    skipped = without_bonus(frame)
    assert typed["bonus_size"].isna().iloc[skipped]
    assert typed["reflects_job"].iloc[0] == frame["reflects_job"].iloc[0]
    assert set(typed["targets_set__none"].dropna().unique()) <= {0, 1}


def declared(frame: pd.DataFrame, *not_asked: str) -> dict:
    return {**meta_for(frame, WAVE), "not_asked": list(not_asked)}


def test_question_declared_not_asked_passes(tmp_path, book):
    frame = valid_rows(book)
    frame = frame.drop(columns=book["downsides"].columns(WAVE) + ["sector"])
    _, typed = read_wave(write_wave(tmp_path, frame, declared(frame, "downsides", "sector")), book)
    assert "sector" not in typed.columns and not any(c.startswith("downsides__") for c in typed.columns)


def test_a_missing_question_not_declared_not_asked_is_an_error(tmp_path, book):
    """A file that lost a column must not publish "not asked" as a fact (issue 15)."""
    frame = valid_rows(book).drop(columns=["sector"])
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="sector")
    assert problem.row == 1 and "missing column: question sector is not in the file" in str(problem)
    assert "listed under not_asked in wave.yml" in problem.expected


def test_a_question_declared_not_asked_must_have_no_column_and_exist(tmp_path, book):
    frame = valid_rows(book)
    problems = problems_of(write_wave(tmp_path, frame, declared(frame, "sector", "no_such_question")), book)
    assert "declares it not asked" in only(problems, column="sector").expected
    assert only(problems, column="not_asked").value == "no_such_question"


def test_skip_target_left_out_with_its_source_passes(tmp_path, book):
    frame = valid_rows(book).drop(columns=["bonus_size"])
    read_wave(write_wave(tmp_path, frame, declared(frame, "bonus_size")), book)


def test_blank_lines_crlf_bom_and_quotes_are_read_and_lines_still_right(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 3, "reflects_job", "agre")
    folder = write_wave(tmp_path, frame)
    lines = (folder / "responses.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = ",".join(f'"{v}"' for v in lines[1].split(","))  # a fully quoted line
    lines.insert(2, "")  # a blank line after respondent 1: respondent 4 is now on line 6
    (folder / "responses.csv").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n\r\n")
    problem = only(problems_of(folder, book), column="reflects_job")
    assert problem.row == 6 and problem.value == "agre"


# --------------------------------------------------------------------------- file-level problems


def test_missing_responses_file(tmp_path, book):
    folder = write_wave(tmp_path, valid_rows(book))
    (folder / "responses.csv").unlink()
    problem = only(problems_of(folder, book), file=str(folder / "responses.csv"))
    assert "file not found" in str(problem) and "responses.csv" in str(problem)


def test_missing_wave_directory(tmp_path, book):
    problem = only(problems_of(tmp_path / "waves" / "2031", book))
    assert "no such wave directory" in str(problem)


def test_empty_file(tmp_path, book):
    folder = write_wave(tmp_path, valid_rows(book))
    (folder / "responses.csv").write_bytes(b"")
    problem = only(problems_of(folder, book), file=str(folder / "responses.csv"))
    assert "empty file (0 bytes)" in str(problem)


def test_header_only(tmp_path, book):
    frame = valid_rows(book)
    folder = write_wave(tmp_path, frame.iloc[0:0], meta_for(frame))
    problems = problems_of(folder, book)
    assert "no respondents" in str(only(problems, file=str(folder / "responses.csv")))
    only(problems, column="n", value=len(frame))  # wave.yml's n no longer matches either


def test_not_utf8_names_line_column_and_byte_offset(tmp_path, book):
    frame = valid_rows(book)
    folder = write_wave(tmp_path, frame)
    path = folder / "responses.csv"
    data = path.read_bytes()
    target = data.index(b"\nR003,") + 1  # start of line 4
    data = data[:target] + b"R003\xe9" + data[target + 4 :]
    path.write_bytes(data)
    problem = only(problems_of(folder, book), file=str(path))
    assert problem.row == 4 and problem.column == "respondent_id"
    assert f"byte offset {target + 4}" in str(problem) and "0xe9" in str(problem)
    assert "UTF-8" in problem.expected


def test_utf16_file(tmp_path, book):
    folder = write_wave(tmp_path, valid_rows(book))
    path = folder / "responses.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))
    problem = only(problems_of(folder, book), file=str(path))
    assert "UTF-16" in str(problem)


def test_malformed_csv_wrong_number_of_fields(tmp_path, book):
    frame = valid_rows(book)
    folder = write_wave(tmp_path, frame)
    path = folder / "responses.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4] + ",extra"  # respondent R004, line 5
    lines[6] = lines[6].rsplit(",", 2)[0]  # respondent R006, line 7: two fields short
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = problems_of(folder, book)
    width = len(frame.columns)
    long = only(problems, row=5)
    assert long.respondent_id == "R004" and f"{width + 1} fields instead of {width}" in str(long)
    short = only(problems, row=7)
    assert f"{width - 2} fields instead of {width}" in str(short)
    assert "line 5 (respondent R004)" in str(long)


def test_identical_malformed_lines_are_each_reported(tmp_path, book):
    frame = valid_rows(book)
    folder = write_wave(tmp_path, frame)
    path = folder / "responses.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    broken = lines[3] + ",x"
    lines[3] = broken  # line 4
    lines.insert(6, "")  # a blank line 7
    lines.insert(7, broken)  # line 8: the same text again
    set_cell(frame, 7, "sector", "pharmaa")
    last = ",".join(frame.iloc[7].tolist())
    lines[-1] = last  # respondent R008 is now on line 11
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = problems_of(folder, book)
    assert [p.row for p in problems if "malformed" in p.issue] == [4, 8]
    assert only(problems, column="sector").row == 11


def test_many_malformed_lines_are_each_reported(tmp_path, book):
    frame = valid_rows(book, 60)
    folder = write_wave(tmp_path, frame)
    path = folder / "responses.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    for i in range(1, 60, 2):
        lines[i] += f",extra{i}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = problems_of(folder, book)
    assert [p.row for p in problems if "malformed" in p.issue] == list(range(2, 61, 2))
    assert not [p for p in problems if p.column == "n"]  # malformed lines still count as respondent lines for n


def test_quoted_line_break_keeps_line_numbers(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 1, "sector", "pha\nrma")  # respondent R002 spans lines 3-4
    set_cell(frame, 5, "sector", "pharmaa")  # respondent R006 is on line 8
    folder = write_wave(tmp_path, frame)
    problems = problems_of(folder, book)
    assert [(p.row, p.value) for p in problems if p.column == "sector"] == [(3, "pha\nrma"), (8, "pharmaa")]
    path = folder / "responses.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] += ",x"  # respondent R004 (R002 spans two lines), line 6, one field too many
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = problems_of(folder, book)
    assert [(p.row, p.column) for p in problems if p.file.endswith(".csv")] == [(3, "sector"), (6, None), (8, "sector")]
    assert "malformed CSV" in problems[1].issue and problems[1].respondent_id == "R004"


def test_lone_cr_line_ends(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 4, "sector", "pharmaa")
    folder = write_wave(tmp_path, frame)
    path = folder / "responses.csv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    assert [(p.row, p.column) for p in problems_of(folder, book)] == [(6, "sector")]


def test_unterminated_quote(tmp_path, book):
    folder = write_wave(tmp_path, valid_rows(book))
    path = folder / "responses.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",", ',"', 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = problems_of(folder, book)
    assert any("malformed CSV" in str(p) and p.row == 3 for p in problems), "\n".join(map(str, problems))


# --------------------------------------------------------------------------- header problems


def test_question_partly_present_names_missing_columns(tmp_path, book):
    frame = valid_rows(book).drop(columns=["targets_set__team_qualitative", "targets_set__none"])
    problems = problems_of(write_wave(tmp_path, frame), book)
    for column in ("targets_set__team_qualitative", "targets_set__none"):
        problem = only(problems, column=column)
        assert problem.row == 1 and "missing column" in str(problem) and "targets_set" in str(problem)


def test_missing_respondent_id_column(tmp_path, book):
    frame = valid_rows(book).drop(columns=["respondent_id"])
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="respondent_id")
    assert problem.row == 1 and "missing column" in str(problem)


def test_no_question_columns_at_all(tmp_path, book):
    frame = valid_rows(book)[["respondent_id"]]
    problem = only(problems_of(write_wave(tmp_path, frame), book), file=str(tmp_path / "waves" / WAVE / "responses.csv"))
    assert problem.row == 1 and "no question columns" in str(problem)


def test_unknown_column_suggests_closest(tmp_path, book):
    frame = valid_rows(book).rename(columns={"targets_set__none": "targets_set__nnoe", "sector": "sectr"})
    problems = problems_of(write_wave(tmp_path, frame), book)
    typo = only(problems, column="targets_set__nnoe")
    assert typo.row == 1 and "unknown column" in str(typo) and "did you mean 'targets_set__none'" in str(typo)
    assert "did you mean 'sector'" in str(only(problems, column="sectr"))
    only(problems, column="targets_set__none")  # and the question is now partly present


def test_duplicate_column(tmp_path, book):
    frame = valid_rows(book)
    frame.insert(3, "sector", frame["sector"], allow_duplicates=True)
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="sector")
    assert problem.row == 1 and "duplicate column" in str(problem) and "fields 4 and" in str(problem)


def test_option_not_offered_in_wave_is_not_a_column_then(tmp_path, book):
    raw = yaml.safe_load(CODEBOOK.read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    for question in raw["questions"]:
        if question["id"] == "downsides":
            question["options"].insert(-1, {"code": "too_complex", "label": "Too complex", "since": "2023"})
    later = codebook_from_mapping(raw)
    frame = valid_rows(book)
    read_wave(write_wave(tmp_path, frame), later)  # 2022 file without the 2023 option: fine
    frame["downsides__too_complex"] = "0"
    problem = only(problems_of(write_wave(tmp_path, frame), later), column="downsides__too_complex")
    assert "first offered in wave 2023" in str(problem)


# --------------------------------------------------------------------------- respondent ids


def test_empty_respondent_id(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 2, "respondent_id", "")
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="respondent_id")
    assert problem.row == line_of(2) and problem.value == "" and "empty respondent_id" in str(problem)


def test_duplicate_respondent_id_names_both_lines(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 5, "respondent_id", "R002")
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="respondent_id")
    assert problem.row == line_of(5) and problem.value == "R002"
    assert f"line {line_of(5)} (respondent R002)" in str(problem) and f"also on line {line_of(1)}" in str(problem)


# --------------------------------------------------------------------------- cell values


def test_unknown_option_code_lists_valid_codes_and_suggests(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 4, "reward_basis", "sale")
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="reward_basis")
    assert problem.row == line_of(4) and problem.respondent_id == "R005" and problem.value == "sale"
    assert "one of: " + ", ".join(book["reward_basis"].codes()) in problem.expected
    assert "did you mean 'sales'" in str(problem) and "unknown option code" in str(problem)


def test_multi_cell_other_than_1_0_or_empty(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 3, "targets_set__none", "2")
    folder = write_wave(tmp_path, frame)
    problem = only(problems_of(folder, book), column="targets_set__none")
    assert str(problem) == f"{folder / 'responses.csv'}, line 5 (respondent R004), column targets_set__none: got '2'; expected 1, 0 or empty"


def test_likert_off_the_scale(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 1, "reflects_job", "4")
    set_cell(frame, 2, "reflects_job", "7")
    problems = problems_of(write_wave(tmp_path, frame), book)
    score = only(problems, row=line_of(1), column="reflects_job")
    assert score.value == "4" and "off the scale" in str(score) and "did you mean 'agree'" in str(score)
    assert "5-point scale" in score.expected and "strongly_agree" in score.expected
    off = only(problems, row=line_of(2), column="reflects_job")
    assert off.value == "7" and "off the scale" in str(off)


def test_multi_answered_with_empty_cells(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 2, "downsides__other", "")
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="downsides__other")
    assert problem.row == line_of(2) and problem.value == "" and "answered" in str(problem)


def test_multi_answered_with_every_cell_0(tmp_path, book):
    frame = valid_rows(book)
    for column in book["targets_set"].columns(WAVE):
        set_cell(frame, 3, column, "0")
    problem = only(problems_of(write_wave(tmp_path, frame), book), row=line_of(3))
    assert problem.column == "targets_set__*" and "nothing ticked" in str(problem) and "targets_set__none" in problem.expected


def test_exclusive_option_ticked_with_others(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 2, "targets_set__none", "1")  # respondent 3 also ticks substantive targets
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="targets_set__none")
    assert problem.row == line_of(2) and problem.value == "1"
    ticked = [c.split("__")[1] for c in book["targets_set"].columns(WAVE) if frame.loc[2, c] == "1" and not c.endswith("__none")]
    assert "exclusive" in str(problem) and all(code in str(problem) for code in ticked)


# --------------------------------------------------------------------------- cross-question logic


def test_answered_though_not_asked(tmp_path, book):
    frame = valid_rows(book)
    r = without_bonus(frame)
    set_cell(frame, r, "bonus_size", "under_10")
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="bonus_size")
    assert problem.row == line_of(r) and problem.value == "under_10"
    assert "answered though not asked" in str(problem) and "rewarded_with__bonus_cash" in str(problem)


def test_asked_but_skipped_is_allowed(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, with_bonus(frame), "bonus_size", "")
    read_wave(write_wave(tmp_path, frame), book)


def test_skip_source_left_out_but_target_present(tmp_path, book):
    frame = valid_rows(book).drop(columns=book["rewarded_with"].columns(WAVE))
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="bonus_size")
    assert "rewarded_with is not in this file" in str(problem)


def test_answer_among_broken(tmp_path, book):
    frame = valid_rows(book)
    r = 3
    unticked = next(c for c in book["assessment_basis"].codes() if frame.loc[r, f"assessment_basis__{c}"] == "0")
    set_cell(frame, r, "most_important", unticked)
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="most_important")
    assert problem.row == line_of(r) and problem.value == unticked
    ticked = [c for c in book["assessment_basis"].codes() if frame.loc[r, f"assessment_basis__{c}"] == "1"]
    assert "assessment_basis" in str(problem) and all(c in problem.expected for c in ticked)


def test_codebook_rule_broken(tmp_path, book):
    frame = valid_rows(book)
    r = with_bonus(frame)
    set_cell(frame, r, "reward_basis", "not_rewarded")
    problem = only(problems_of(write_wave(tmp_path, frame), book), column="rewarded_with__bonus_cash")
    assert problem.row == line_of(r) and problem.value == "1"
    assert "not_rewarded_without_bonus" in str(problem) and "reward_basis" in str(problem)


def test_row_with_no_answers_at_all(tmp_path, book):
    frame = valid_rows(book)
    for column in frame.columns[1:]:
        set_cell(frame, 6, column, "")
    problem = only(problems_of(write_wave(tmp_path, frame), book), row=line_of(6))
    assert problem.respondent_id == "R007" and "no answers at all" in str(problem)


# --------------------------------------------------------------------------- wave.yml


def meta_problems(tmp_path, book, change) -> list[Problem]:
    frame = valid_rows(book)
    meta = meta_for(frame)
    change(meta)
    folder = write_wave(tmp_path, frame, meta)
    problems = problems_of(folder, book)
    assert all(p.file == str(folder / "wave.yml") for p in problems), "\n".join(map(str, problems))
    return problems


def test_wave_yml_missing(tmp_path, book):
    folder = write_wave(tmp_path, valid_rows(book))
    (folder / "wave.yml").unlink()
    assert "file not found" in str(only(problems_of(folder, book), file=str(folder / "wave.yml")))


def test_wave_yml_not_yaml(tmp_path, book):
    folder = write_wave(tmp_path, valid_rows(book))
    (folder / "wave.yml").write_text("wave: '2022'\ntitle: [unclosed\nn: 8\n", encoding="utf-8")
    problem = only(problems_of(folder, book), file=str(folder / "wave.yml"))
    assert "not YAML" in str(problem) and problem.row is not None


def test_wave_yml_required_field_missing(tmp_path, book):
    problem = only(meta_problems(tmp_path, book, lambda m: m.pop("provenance_note")))
    assert problem.column == "provenance_note" and "required key missing" in str(problem)


def test_wave_yml_bad_dates(tmp_path, book):
    def change(meta):
        meta["fieldwork"]["start"] = "2022-13-01"
        meta["published"] = "1 Nov 2022"

    problems = meta_problems(tmp_path, book, change)
    start = only(problems, column="fieldwork.start")
    assert start.value == "2022-13-01" and "ISO date" in start.expected and start.row == 4
    assert only(problems, column="published").value == "1 Nov 2022"


def test_wave_yml_impossible_unquoted_date_is_reported_not_raised(tmp_path, book):
    folder = write_wave(tmp_path, valid_rows(book))
    path = folder / "wave.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("end: 2022-09-30", "end: 2022-09-31"), encoding="utf-8")
    problem = only(problems_of(folder, book), file=str(path))
    assert problem.column == "fieldwork.end" and problem.value == "2022-09-31" and problem.row == 5
    assert str(problem).startswith(f"{path}, line 5, key fieldwork.end: bad date: got '2022-09-31'")


def test_wave_yml_fieldwork_ends_before_it_starts(tmp_path, book):
    problem = only(meta_problems(tmp_path, book, lambda m: m["fieldwork"].update(end=dt.date(2022, 6, 1))))
    assert problem.column == "fieldwork.end" and "before it starts" in str(problem)


def test_wave_yml_wrong_provenance(tmp_path, book):
    problem = only(meta_problems(tmp_path, book, lambda m: m.update(provenance="invented")))
    assert problem.column == "provenance" and problem.value == "invented" and "original or reconstructed" in str(problem)


def test_wave_yml_n_not_row_count(tmp_path, book):
    problem = only(meta_problems(tmp_path, book, lambda m: m.update(n=112)))
    assert problem.column == "n" and problem.value == 112 and "8, the number of respondent lines" in problem.expected
    assert problem.row is not None  # the line of `n:` in wave.yml


def test_wave_yml_wave_id_not_directory(tmp_path, book):
    problem = only(meta_problems(tmp_path, book, lambda m: m.update(wave="2021")))
    assert problem.column == "wave" and problem.value == "2021" and "'2022'" in problem.expected


def test_check_meta_is_pure():
    assert check_meta(["not", "a", "mapping"], file="wave.yml", wave_dir_name="2022", n_rows=None)[0].issue.startswith("not a mapping")
    problems = check_meta({"wave": 2022, "n": True}, file="wave.yml", wave_dir_name="2022", n_rows=3)
    assert {p.column for p in problems} >= {"title", "fieldwork", "population", "source", "provenance", "provenance_note", "n"}
    assert "wave" not in {p.column for p in problems}  # an unquoted 2022 is the wave 2022


# --------------------------------------------------------------------------- many problems at once


def test_every_problem_of_both_files_reported_at_once(tmp_path, book):
    frame = valid_rows(book)
    set_cell(frame, 0, "reflects_job", "agre")
    set_cell(frame, 1, "targets_set__team_quantitative", "yes")
    set_cell(frame, 5, "respondent_id", "R001")
    set_cell(frame, without_bonus(frame), "bonus_size", "40_plus")
    meta = meta_for(frame)
    meta["provenance"] = "guessed"
    folder = write_wave(tmp_path, frame, meta)
    with pytest.raises(WaveValidationError) as caught:
        read_wave(folder, book)
    error = caught.value
    columns = {p.column for p in error.problems}
    assert {"reflects_job", "targets_set__team_quantitative", "respondent_id", "bonus_size", "provenance"} <= columns
    message = str(error)
    assert message.splitlines()[0].startswith(f"{len(error.problems)} problems in ")
    assert "responses.csv" in message.splitlines()[0] and "wave.yml" in message.splitlines()[0]
    assert "kam validate" in message.splitlines()[0]
    assert len(message.splitlines()) == len(error.problems) + 1
    assert isinstance(error, ValueError)


def test_error_pickles_with_its_problems(book):
    import pickle

    frame = valid_rows(book)
    set_cell(frame, 2, "sector", "pharmaa")
    error = WaveValidationError(check_responses(frame, book, file="r.csv", wave=WAVE), wave_dir="data/waves/2022")
    again = pickle.loads(pickle.dumps(error))
    assert again.problems == error.problems and str(again) == str(error)


def test_typed_frame_from_a_plain_frame(book):
    from kamsurvey.data.validate import typed_frame

    frame = valid_rows(book).astype(object)
    typed = typed_frame(frame, book)
    assert typed["respondent_id"].dtype == "str" and typed["targets_set__none"].dtype == "Int8"
    assert isinstance(typed["sector"].dtype, pd.StringDtype) and typed["bonus_size"].isna().any()


def test_message_is_capped_but_problems_are_not(book):
    frame = valid_rows(book, 300)
    frame["sector"] = "pharmaceutical"
    problems = check_responses(frame, book, file="responses.csv", wave=WAVE)
    assert len(problems) == 300
    message = str(WaveValidationError(problems))
    assert f"... and {300 - MAX_SHOWN} more" in message and len(message.splitlines()) == MAX_SHOWN + 2


def test_many_failing_rows_are_listed_up_to_a_cap_then_counted(book):
    frame = valid_rows(book, 50)
    frame["sector"] = "pharmaceutical"
    problems = check_responses(frame, book, file="responses.csv", wave=WAVE, max_per_check=10)
    assert len(problems) == 11
    listed = [p for p in problems if p.row is not None]
    assert [p.row for p in listed] == list(range(2, 12))
    summary = only(problems, row=None)
    assert problems[-1] is summary  # after the rows it summarises
    assert summary.column == "sector" and "40 more rows with the same problem (from line 12 on" in str(summary)


def test_check_responses_takes_plain_and_categorical_frames(book):
    frame = valid_rows(book)
    set_cell(frame, 2, "sector", "pharmaa")
    for variant in (frame.astype(object), frame.astype("category"), frame.astype("string")):
        problems = check_responses(variant, book, file="r.csv", wave=WAVE)
        assert [(p.row, p.column, p.value) for p in problems] == [(4, "sector", "pharmaa")]


# --------------------------------------------------------------------------- the checks one by one


def after_header(frame: pd.DataFrame, codebook: Codebook) -> Responses:
    """The frame as check_header leaves it for the checks that follow."""
    check = _Checker("r.csv", None, MAX_PER_CHECK)
    raw, questions = check_header(check, frame, codebook, WAVE)
    return Responses(check, codebook, WAVE, raw, questions)


def test_each_check_reports_its_own_problems_and_one_line_lists_them_in_check_order(book):
    frame = valid_rows(book)
    r = with_bonus(frame)  # one line breaking four checks
    set_cell(frame, r, "respondent_id", "R001")
    set_cell(frame, r, "sector", "pharmaa")
    unticked = next(c for c in book["assessment_basis"].codes() if frame.loc[r, f"assessment_basis__{c}"] == "0")
    set_cell(frame, r, "most_important", unticked)
    set_cell(frame, r, "reward_basis", "not_rewarded")
    set_cell(frame, without_bonus(frame), "bonus_size", "under_10")
    silent = max(set(range(len(frame))) - {r, without_bonus(frame)})
    for column in frame.columns[1:]:
        set_cell(frame, silent, column, "")
    responses = after_header(frame, book)
    assert responses.check.problems == []  # the header is sound
    kinds = [
        (check_ids, "duplicate respondent_id"),
        (check_answers, "unknown option code"),
        (check_skip_logic, "answered though not asked"),
        (check_answer_among, "not among the options"),
        (check_rules, "breaks rule not_rewarded_without_bonus"),
        (check_no_answers, "no answers at all"),
    ]
    for each_check, kind in kinds:
        before = len(responses.check.problems)
        each_check(responses)
        found = responses.check.problems[before:]
        assert len(found) == 1 and kind in found[0].issue, f"{each_check.__name__}: " + "\n".join(map(str, found))
    problems = check_responses(frame, book, file="r.csv", wave=WAVE)
    assert problems == responses.check.result()
    assert [p.column for p in problems if p.row == line_of(r)] == ["respondent_id", "sector", "most_important", "rewarded_with__bonus_cash"]


def test_cross_question_checks_refuse_to_run_before_check_answers(book):
    responses = after_header(valid_rows(book), book)
    for each_check in (check_skip_logic, check_answer_among, check_rules, check_no_answers):
        with pytest.raises(RuntimeError, match="check_answers has not run"):
            each_check(responses)


def test_check_header_keeps_the_first_of_a_repeated_column_and_lists_the_questions_present(book):
    frame = valid_rows(book).drop(columns=book["downsides"].columns(WAVE))
    first = list(frame.columns).index("sector") + 1
    frame.insert(len(frame.columns), "sector", "other", allow_duplicates=True)
    check = _Checker("r.csv", None, MAX_PER_CHECK)
    raw, questions = check_header(check, frame, book, WAVE, not_asked=["downsides"])
    assert [p.issue for p in check.problems] == [f"duplicate column (fields {first} and {len(frame.columns)} of the header)"]
    assert list(raw.columns) == [c for c in book.columns(WAVE) if not c.startswith("downsides__")]
    assert raw["sector"].tolist() == valid_rows(book)["sector"].tolist()
    assert [q.id for q in questions] == [q.id for q in book if q.id != "downsides"]


# --------------------------------------------------------------------------- speed


def test_large_wave_is_validated_quickly(tmp_path, book):
    """A guard against per-row Python loops: 100,000 rows in well under the 1M-rows-in-10-s budget."""
    n = 100_000
    base = valid_rows(book)
    frame = base.iloc[np.arange(n) % len(base)].reset_index(drop=True)
    frame["respondent_id"] = pd.Series(np.char.add("R", np.arange(n).astype(str)), dtype="str")
    folder = write_wave(tmp_path, frame)
    started = time.perf_counter()
    _, typed = read_wave(folder, book)
    elapsed = time.perf_counter() - started
    assert len(typed) == n
    assert elapsed < 3.0, f"validating {n:,} rows took {elapsed:.1f} s"


# --------------------------------------------------------------------------- the real 2022 wave


def test_2022_wave_validates_cleanly(book):
    if not (WAVE_2022 / "responses.csv").exists() or not (WAVE_2022 / "wave.yml").exists():
        pytest.skip("data/waves/2022 has not been produced yet (kam reconstruct writes it)")
    meta, typed = read_wave(WAVE_2022, book)
    assert len(typed) == meta["n"]


# --------------------------------------------------------------------------- the command line


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*KAM, "validate", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_script_ok_problems_and_usage(tmp_path, book):
    frame = valid_rows(book)
    good = write_wave(tmp_path / "good", frame)
    result = run_script(str(good), "--codebook", str(CODEBOOK))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"OK: {good / 'responses.csv'} — {len(frame)} respondents, {len(frame.columns)} columns"

    set_cell(frame, 2, "sector", "pharmaa")
    bad = write_wave(tmp_path / "bad", frame)
    result = run_script(str(bad), "--codebook", str(CODEBOOK))
    assert result.returncode == 1
    assert "line 4 (respondent R003), column sector: unknown option code: got 'pharmaa'" in result.stdout

    assert run_script(str(tmp_path / "nowhere")).returncode == 2
    assert run_script().returncode == 2
    assert run_script(str(good), "--codebook", str(tmp_path / "missing.yml")).returncode == 2
    helped = run_script("--help")
    assert helped.returncode == 0 and "wave_dir" in helped.stdout




def test_kam_validate_never_sends_a_files_control_bytes_to_the_terminal(tmp_path, book):
    """A column name, id or cell holding an escape sequence is printed escaped, whatever part of the message it is in."""
    frame = valid_rows(book)
    frame = frame.rename(columns={"sector": "sector\x1b]0;pwned\x07"})
    frame.loc[frame.index[0], "respondent_id"] = "R\x1b[31m1"
    set_cell(frame, 1, "reflects_job", "agree\x1b[2J")
    result = run_script(str(write_wave(tmp_path, frame)), "--codebook", str(CODEBOOK))
    assert result.returncode == 1
    assert "\x1b" not in result.stdout + result.stderr and "\x07" not in result.stdout
    assert "sector\\x1b]0;pwned\\x07" in result.stdout and "agree\\x1b[2J" in result.stdout
