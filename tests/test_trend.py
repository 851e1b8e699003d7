"""Change between waves: only questions asked the same way are trended, and the numbers are the direct ones."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import yaml
from statsmodels.stats.proportion import confint_proportions_2indep

from conftest import DATA
from kamsurvey.analysis import tabulate, trend
from kamsurvey.report import trendnotes
from kamsurvey.data.codebook import codebook_from_mapping
from kamsurvey.data.validate import typed_frame
from kamsurvey.data import synth
from wavekit import add_option

CODEBOOK_TEXT = (DATA / "codebook.yml").read_text(encoding="utf-8")


def codebook_with(text: str):
    return codebook_from_mapping(yaml.safe_load(text))


@pytest.fixture(scope="module")
def wave_2023(codebook):
    return typed_frame(synth.generate(codebook, 160, seed=21, wave="2023"), codebook)


def test_the_same_question_in_two_waves_is_comparable(codebook):
    verdict = trend.comparability(codebook["downsides"], "2023", "2022")
    assert verdict.comparable and trendnotes.reason(codebook["downsides"], verdict) == ""


def test_a_changed_wording_is_not_trended_and_the_reason_quotes_both(codebook):
    text = CODEBOOK_TEXT.replace(
        "    wording: On what basis is your reward calculated?\n",
        "    wording: On what basis is your reward calculated?\n"
        "    wording_by_wave:\n      \"2022\": How is your reward calculated?\n", 1)
    question = codebook_with(text)["reward_basis"]
    assert question.fingerprint("2022") != question.fingerprint("2023")
    verdict = trend.comparability(question, "2023", "2022")
    assert not verdict.comparable
    assert "the 2022 survey asked ‘How is your reward calculated?’" in trendnotes.reason(question, verdict)
    assert "the 2023 survey ‘On what basis is your reward calculated?’" in trendnotes.reason(question, verdict)


def test_a_new_answer_option_is_not_trended_and_the_reason_names_it():
    text = add_option(CODEBOOK_TEXT, "      - {code: shares, label: Shares or share options, reconstructed: true}",
                      '- {code: profit_share, label: Profit share, since: "2023"}')
    codebook = codebook_with(text)
    verdict = trend.comparability(codebook["rewarded_with"], "2023", "2022")
    assert not verdict.comparable
    assert "‘Profit share’ was added in 2023" in trendnotes.reason(codebook["rewarded_with"], verdict)
    assert trend.comparability(codebook["rewarded_with"], "2024", "2023").comparable


def test_a_question_missing_from_either_wave_is_not_trended(codebook, wave_2022, wave_2023):
    without = wave_2023.drop(columns=["bonus_size"])
    question = codebook["bonus_size"]
    now = trend.comparability(question, "2023", "2022", frame=without, previous_frame=wave_2022.responses)
    before = trend.comparability(question, "2024", "2023", frame=wave_2023, previous_frame=without)
    assert (now.comparable, before.comparable) == (False, False)
    assert trendnotes.reason(question, now) == "The question was not asked in the 2023 survey."
    assert trendnotes.reason(question, before).startswith("The question was not asked in the 2023 survey, so there is no earlier figure")


def test_changes_are_the_shares_counted_directly_with_newcombe_intervals(codebook, wave_2022, wave_2023):
    question = codebook["reflects_job"]
    table = trend.option_changes(question, codebook, wave_2023, wave_2022.responses, wave="2023", previous_wave="2022")
    assert table["code"].tolist() == question.codes() + ["group:agree", "group:disagree"]
    for row in table.itertuples():
        codes = [row.code] if row.kind == "option" else question.codes_in_group(row.code.split(":", 1)[1])
        chose_now = tabulate.chose_any(wave_2023, question, codes) & tabulate.answered(wave_2023, question)
        chose_then = tabulate.chose_any(wave_2022.responses, question, codes)
        assert (row.count, row.base) == (int(chose_now.sum()), int(tabulate.answered(wave_2023, question).sum()))
        assert (row.previous_count, row.previous_base) == (int(chose_then.sum()), 112)
        assert row.difference == pytest.approx(row.count / row.base - row.previous_count / row.previous_base)
        low, high = confint_proportions_2indep(row.count, row.base, row.previous_count, row.previous_base,
                                               method="newcomb", compare="diff")
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high))
        assert row.p_holm >= row.p_fisher
        assert row.more_than_noise == (row.p_holm < 0.05)


def test_a_wave_against_itself_shows_no_change(codebook, wave_2022):
    question = codebook["assessment_basis"]
    table = trend.option_changes(question, codebook, wave_2022.responses, wave_2022.responses, wave="2022b", previous_wave="2022")
    assert (table["difference"] == 0).all() and not table["more_than_noise"].any()
    assert trendnotes.change_summary(table) == "no share changed by more than chance would explain"


def test_a_large_change_is_more_than_noise_and_the_note_says_so(codebook, wave_2022):
    question = codebook["sector"]
    shifted = wave_2022.responses.copy()
    shifted["sector"] = "other"
    table = trend.option_changes(question, codebook, shifted, wave_2022.responses, wave="2023", previous_wave="2022")
    assert table["more_than_noise"].all()
    note = trendnotes.change_markdown(question, table)
    assert note.startswith(":::{admonition} Change since the 2022 survey: two of two shares changed by more than chance")
    assert "| Pharma | 55% (62 of 112) | 0% (0 of 112) | -55 |" in note
    assert "More than noise: Pharma, 55% in 2022 and 0% in 2023 (-55 percentage points)" in note


def test_a_wave_with_nobody_asked_compares_nothing(codebook, wave_2022):
    nobody = wave_2022.responses.copy()
    nobody["bonus_size"] = pd.array([pd.NA] * len(nobody), dtype="string")
    table = trend.option_changes(codebook["bonus_size"], codebook, nobody, wave_2022.responses, wave="2023", previous_wave="2022")
    assert table["p_holm"].isna().all() and not table["more_than_noise"].any()
    assert trendnotes.change_summary(table) == "no respondents to compare"
    assert "| Less than 10% | 26% (21 of 82) | no respondents | n/a | n/a | n/a |" in trendnotes.change_markdown(codebook["bonus_size"], table)
    assert math.isnan(table["difference"].iloc[0])
