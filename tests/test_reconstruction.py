"""The reconstructed 2022 file: reproducible byte for byte, shaped by the codebook, internally consistent."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from conftest import DATA, ROOT
from kamsurvey.analysis import tabulate
from kamsurvey.data.wavemeta import meta_from_mapping

KAM = [sys.executable, "-m", "kamsurvey", "reconstruct"]
CSV = DATA / "waves" / "2022" / "responses.csv"
WAVE_YML = DATA / "waves" / "2022" / "wave.yml"


@pytest.fixture(scope="module")
def script():
    from kamsurvey.data import reconstruction

    return reconstruction


@pytest.fixture(scope="module")
def frame(wave_2022) -> pd.DataFrame:
    return wave_2022.responses


def test_rerunning_the_script_reproduces_the_file_byte_for_byte(tmp_path):
    out = tmp_path / "responses.csv"
    subprocess.run([*KAM, "--only", "responses", "--codebook", str(DATA / "codebook.yml"), "--out", str(out)], check=True,
                   capture_output=True, cwd=tmp_path)
    assert out.read_bytes() == CSV.read_bytes()


def test_check_option_passes_on_the_committed_file_and_fails_on_a_changed_one(tmp_path):
    """The ranges beside the file are checked the same way (tests/test_feasible.py; the full re-solve takes a minute)."""
    ok = subprocess.run([*KAM, "--check", "--only", "responses"], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    changed = tmp_path / "responses.csv"
    changed.write_bytes(CSV.read_bytes().replace(b"R001,", b"R000,", 1))
    bad = subprocess.run([*KAM, "--check", "--only", "responses", "--out", str(changed)], capture_output=True, text=True,
                         cwd=ROOT)
    assert bad.returncode == 1
    assert "differs" in bad.stderr


def test_header_is_the_codebook_columns(codebook):
    header = CSV.read_text(encoding="utf-8").split("\n", 1)[0].split(",")
    assert header == codebook.columns()


def test_file_format_utf8_lf_one_row_per_respondent():
    data = CSV.read_bytes()
    data.decode("utf-8")
    assert b"\r" not in data
    assert data.endswith(b"\n")
    raw = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    assert raw["respondent_id"].tolist() == [f"R{i:03d}" for i in range(1, 113)]


def test_every_value_is_a_codebook_code_or_a_tick(codebook):
    raw = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    for question in codebook:
        if question.is_multi:
            for column in question.columns():
                assert set(raw[column]) <= {"0", "1"}, column
        else:
            allowed = set(question.codes()) | ({""} if question.asked_of else set())
            assert set(raw[question.id]) <= allowed, question.id


def test_wave_metadata_reads_and_matches_the_file(frame):
    raw = yaml.safe_load(WAVE_YML.read_text(encoding="utf-8"))
    meta = meta_from_mapping(raw)
    assert raw["wave"] == "2022" and isinstance(raw["wave"], str)
    assert meta.n == len(frame) == 112
    assert meta.fieldwork == "July–September 2022"
    assert meta.provenance == "reconstructed" and meta.reconstructed
    assert meta.published == dt.date(2026, 11, 26)
    assert meta.provenance_note and meta.source


def test_everyone_answers_every_question_they_are_asked(codebook, frame):
    for question in codebook:
        asked = tabulate.asked(frame, question)
        answered = tabulate.answered(frame, question)
        if question.is_multi:
            ticked = frame[question.columns()].fillna(0).sum(axis=1) >= 1
            assert (ticked == asked).all(), question.id
        assert (answered == asked).all(), question.id


def test_skip_logic_bonus_size_iff_cash_bonus(frame):
    has_bonus = frame["rewarded_with__bonus_cash"].eq(1)
    assert (frame["bonus_size"].notna() == has_bonus).all()
    assert has_bonus.sum() == 82


def test_exclusive_options_are_ticked_alone(codebook, frame):
    for question in codebook:
        for code in question.exclusive_codes():
            others = frame[[question.column(c) for c in question.substantive_codes()]].sum(axis=1)
            alone = frame[question.column(code)].eq(1)
            assert (others[alone] == 0).all(), question.column(code)


def test_answer_among_most_important_is_one_of_own_assessment_ticks(codebook, frame):
    for question in codebook:
        if not question.answer_among:
            continue
        source = codebook[question.answer_among]
        for _, row in frame.iterrows():
            if pd.notna(row[question.id]):
                assert row[source.column(row[question.id])] == 1, (row["respondent_id"], question.id)


def test_codebook_rules_hold(codebook, frame):
    for rule in codebook.rules:
        given = tabulate.ticks(frame, codebook[rule.if_.question], rule.if_.option)
        forbidden = tabulate.ticks(frame, codebook[rule.forbids.question], rule.forbids.option)
        assert not (given & forbidden).any(), rule.message


def test_not_rewarded_exactly_those_rewarded_with_nothing(frame):
    not_rewarded = frame["reward_basis"].eq("not_rewarded")
    assert (not_rewarded == frame["rewarded_with__nothing"].eq(1)).all()
    assert not (not_rewarded & frame["rewarded_with__bonus_cash"].eq(1)).any()


def test_counts_are_exactly_the_scripts_targets(script, codebook, frame):
    for question_id, targets in script.TARGETS.items():
        question = codebook[question_id]
        for code, target in targets.items():
            per_sector = target if isinstance(target, dict) else {None: target}
            for sector, count in per_sector.items():
                subset = frame if sector is None else frame[frame["sector"].eq(sector)]
                got = int(tabulate.ticks(subset, question, code).sum())
                assert got == count, (question_id, code, sector)
    assert frame["sector"].value_counts().to_dict() == script.SECTORS


def test_no_sector_difference_is_invented_where_the_article_reports_none(script, codebook, frame):
    """Counts the article gives only overall are split between sectors in proportion (rounded either way)."""
    pharma = frame[frame["sector"].eq("pharma")]
    share = script.SECTORS["pharma"] / script.N
    for question_id, targets in script.TARGETS.items():
        for code, target in targets.items():
            if isinstance(target, dict):
                continue
            got = int(tabulate.ticks(pharma, codebook[question_id], code).sum())
            assert abs(got - target * share) < 1, (question_id, code, got, target * share)


def test_rows_are_not_sorted_by_sector(frame):
    first = frame["sector"].head(20)
    assert first.nunique() == 2


def test_data_readme_counts_are_those_of_the_file(script, codebook):
    readme = (CSV.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- counts: begin -->\n", 1)[1].split("<!-- counts: end -->", 1)[0]
    raw = pd.read_csv(CSV, dtype=str, keep_default_na=False)
    assert block == script.counts_markdown(raw, codebook)
