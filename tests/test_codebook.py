"""The codebook loader: cross-references checked at load time, columns in questionnaire order."""

from __future__ import annotations

import copy

import pytest
import yaml

from kamsurvey.data.codebook import CodebookError, codebook_from_mapping

from conftest import DATA

RAW = yaml.safe_load((DATA / "codebook.yml").read_text(encoding="utf-8"))


def test_the_ten_questions_in_survey_order(codebook):
    assert codebook.ids() == [
        "reflects_job", "targets_set", "assessment_basis", "most_important", "should_include",
        "reward_basis", "rewarded_with", "bonus_size", "downsides", "sector",
    ]
    assert [q.number for q in codebook] == list(range(1, 11))


def test_chart_titles_are_the_articles_wording(codebook):
    assert codebook["most_important"].wording == "Which is the most important factor (receives the most attention)?"
    assert codebook["reflects_job"].wording.startswith("My organisation's approach to performance and rewards properly")


def test_shared_factor_list_and_skip_logic(codebook):
    assert codebook["should_include"].codes() == codebook["assessment_basis"].codes()
    assert codebook["most_important"].answer_among == "assessment_basis"
    assert (codebook["bonus_size"].asked_of.question, codebook["bonus_size"].asked_of.option) == ("rewarded_with", "bonus_cash")
    assert codebook["targets_set"].exclusive_codes() == ["none"]


def test_columns_follow_the_data_contract(codebook):
    columns = codebook.columns()
    assert columns[:3] == ["respondent_id", "reflects_job", "targets_set__individual_quantitative"]
    assert "most_important" in columns and "bonus_size" in columns
    assert columns[-1] == "sector"


def test_fingerprint_changes_with_wording_or_options(codebook):
    question = codebook["most_important"]
    assert question.fingerprint("2022") == question.fingerprint("2023")
    raw = copy.deepcopy(RAW)
    raw["questions"][3]["wording_by_wave"] = {"2022": "Which factor matters most?"}
    changed = codebook_from_mapping(raw)["most_important"]
    assert changed.fingerprint("2022") != changed.fingerprint("2023")
    raw = copy.deepcopy(RAW)
    raw["questions"][1]["options"].insert(0, {"code": "new_kpi", "label": "A new kind of KPI", "since": "2023"})
    added = codebook_from_mapping(raw)["targets_set"]
    assert "new_kpi" not in added.codes("2022") and "new_kpi" in added.codes("2023")
    assert added.fingerprint("2022") != added.fingerprint("2023")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda raw: raw["questions"][7].update(asked_of={"question": "rewarded_with", "option": "bonus"}), "has no option 'bonus'"),
        (lambda raw: raw["questions"][3].update(options_from="nowhere"), "unknown question 'nowhere'"),
        (lambda raw: raw["questions"][0].update(type="ranking"), "expected one of 'single', 'multi' or 'likert'"),
        (lambda raw: raw["questions"][1]["options"].append({"code": "none", "label": "Again"}), "duplicate option codes"),
        (lambda raw: raw["rules"][0]["if"].update(question="reward"), "unknown question 'reward'"),
    ],
)
def test_a_broken_codebook_is_refused_with_a_reason(change, message):
    raw = copy.deepcopy(RAW)
    change(raw)
    with pytest.raises(CodebookError, match=message):
        codebook_from_mapping(raw)
