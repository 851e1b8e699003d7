"""A chapter on a large wave: the same numbers through the shortcuts that make it fast (vectorised
ticks, rows of each sector taken once, claims sharing them), and tests that scale (Fisher's exact test
where Boschloo's would take minutes)."""

from __future__ import annotations

import pandas as pd
import pytest

from kamsurvey.report import chapter_glue
from kamsurvey.analysis import claims, tabulate
from kamsurvey.report.chapter import Chapter
from wavekit import data_dir, write_synthetic_wave


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = data_dir(tmp_path_factory.mktemp("large"))
    write_synthetic_wave(folder, "2023", n=6000, seed=2, skip_rate=0.05)
    return folder


@pytest.fixture(scope="module")
def ch(data) -> Chapter:
    return Chapter.load(wave="2023", data_dir=str(data), compare_with="2022")


@pytest.fixture()
def glued(monkeypatch) -> dict:
    values: dict = {}
    monkeypatch.setattr(chapter_glue, "_glue", lambda name, value: values.__setitem__(name, value))
    return values


def test_large_sectors_are_tested_with_fishers_exact_test(ch, glued):
    comparison = ch.glue_sector_test("sales_test", "reward_basis", ["sales"])
    assert comparison.first.base > 1000 and comparison.test == "Fisher"
    # the text names no test (the methodology explains which is used when); the p-value is Fisher's
    assert not {"Boschloo", "Fisher"} & set(glued["sales_test_summary"].replace("'", " ").split())
    assert "exact test" in glued["sales_test_detail"] and "self-selected" in glued["sales_test_detail"]
    expected = f"p = {comparison.p_fisher:.2f}" if comparison.p_fisher >= 0.01 else "p < 0.01"
    assert glued["sales_test_p"] == expected


def test_ticks_and_answers_are_the_same_through_the_vectorised_path(ch):
    frame = ch.frame
    for question in ch.codebook:
        if not tabulate.is_present(frame, question):
            continue
        columns = tabulate.present_columns(frame, question)
        expected_answered = frame[columns].notna().any(axis=1) if question.is_multi else frame[question.id].notna()
        assert tabulate.answered(frame, question).equals(expected_answered)
        for code in question.codes():
            ticked = tabulate.ticks(frame, question, code)
            if question.is_multi and question.column(code) in frame.columns:
                expected = frame[question.column(code)].fillna(0).astype(int).eq(1)
                assert ticked.equals(expected)
                as_float = frame[question.column(code)].astype("float64")  # a frame that is not the typed one
                assert tabulate._is_one(as_float).equals(expected)


def test_subsets_are_taken_once_and_equal_the_filter(ch):
    within = {"sector": "pharma"}
    first = ch.subset(within)
    assert ch.subset(dict(within)) is first
    pd.testing.assert_frame_equal(first, tabulate.within(ch.frame, ch.codebook, within))
    assert ch.subset(None) is ch.frame


def test_breakdowns_are_computed_once_and_handed_out_as_copies(ch):
    table = ch.sector_breakdown("reward_basis")
    expected = table.copy()
    table.loc[:, "count"] = -1
    pd.testing.assert_frame_equal(ch.sector_breakdown("reward_basis"), expected)
    plain = tabulate.by_group(ch.frame, ch.codebook, ch.question("reward_basis"), "sector")
    shared = tabulate.by_group(ch.frame, ch.codebook, ch.question("reward_basis"), "sector", subset=ch.subset)
    pd.testing.assert_frame_equal(plain, shared)


def test_claims_evaluated_with_shared_subsets_are_the_same(ch, data):
    ledger = claims.load_claims(data / "claims" / "2022.yml", ch.codebook)
    assert any(claim.within for claim in ledger)
    for claim in ledger:
        alone = claims.evaluate_claim(claim, ch.frame, ch.codebook, ch.meta)
        shared = claims.evaluate_claim(claim, ch.frame, ch.codebook, ch.meta, subsets=ch.subset)
        assert shared == alone
    assert ch.computed_claim_results() == {c.id: claims.evaluate_claim(c, ch.frame, ch.codebook, ch.meta) for c in ledger}
    shown = ch.claim_results()  # as the book shows them: a claim resting on a withheld cell is withheld, nothing else
    for claim_id, result in ch.computed_claim_results().items():
        assert shown[claim_id] == result or (shown[claim_id].status == "withheld" and ch.claim_value_withheld(result.claim))


def python_calls(function) -> int:
    import sys

    count = 0

    def profile(frame, event, arg):
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        function()
    finally:
        sys.setprofile(None)
    return count


def test_no_python_code_runs_per_respondent(ch):
    """Tabulating costs the same number of Python calls for 600 respondents as for 6,000: numpy does the rows."""
    small, large = ch.frame.iloc[:600].copy(), ch.frame
    for question_id in ("reward_basis", "rewarded_with", "sector", "downsides"):
        question = ch.question(question_id)
        for percent_of in (tabulate.RESPONDENTS, tabulate.MENTIONS) if question.is_multi else (tabulate.RESPONDENTS,):
            calls_small = python_calls(lambda: tabulate.option_table(small, question, percent_of=percent_of))
            calls_large = python_calls(lambda: tabulate.option_table(large, question, percent_of=percent_of))
            assert calls_large <= calls_small * 1.1 + 50, (question_id, calls_small, calls_large)
