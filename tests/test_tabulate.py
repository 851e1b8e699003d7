"""Shares of respondents and of mentions on small hand-made frames."""

from __future__ import annotations

import pandas as pd
import pytest

from kamsurvey.analysis import tabulate


def frame(codebook, rows):
    """A typed frame with every codebook column, from {column: value} rows (missing multi cells = 0)."""
    records = []
    for i, row in enumerate(rows):
        record = {"respondent_id": f"R{i}"}
        for question in codebook:
            if question.is_multi:
                for column in question.columns():
                    record[column] = row.get(column, 0)
            else:
                record[question.id] = row.get(question.id)
        records.append(record)
    data = pd.DataFrame(records)
    for question in codebook:
        for column in question.columns():
            data[column] = data[column].astype("Int8" if question.is_multi else "string")
    return data


@pytest.fixture
def small(codebook):
    return frame(codebook, [
        {"assessment_basis__sales": 1, "assessment_basis__behaviour": 1, "most_important": "sales", "sector": "pharma",
         "rewarded_with__bonus_cash": 1, "bonus_size": "under_10", "downsides__none": 1},
        {"assessment_basis__sales": 1, "most_important": "sales", "sector": "other",
         "rewarded_with__salary_increase": 1, "downsides__ignores_inputs": 1, "downsides__mixed_messages": 1},
        {"assessment_basis__behaviour": 1, "assessment_basis__quality_of_plan": 1, "assessment_basis__specific_activities": 1,
         "most_important": "behaviour", "sector": "other", "rewarded_with__bonus_cash": 1, "bonus_size": "40_plus",
         "downsides__ignores_inputs": 1},
    ])


def test_share_of_respondents_counts_people(codebook, small):
    share = tabulate.share_of_respondents(small, codebook["assessment_basis"], ["sales"])
    assert (share.count, share.base) == (2, 3)


def test_share_of_mentions_counts_ticks(codebook, small):
    share = tabulate.share_of_mentions(small, codebook["assessment_basis"], ["sales"])
    assert (share.count, share.base) == (2, 6)


def test_exclusive_answers_count_for_the_base_but_are_not_mentions(codebook, small):
    downsides = codebook["downsides"]
    assert tabulate.mean_choices(small, downsides) == pytest.approx(1.0)
    assert tabulate.share_of_respondents(small, downsides, ["none"]).base == 3
    assert tabulate.share_of_mentions(small, downsides, ["ignores_inputs"]).base == 3


def test_skip_logic_sets_the_base(codebook, small):
    table = tabulate.option_table(small, codebook["bonus_size"])
    assert set(table["base"]) == {2}
    assert table.set_index("code").loc["40_plus", "count"] == 1


def test_option_table_in_codebook_order_with_intervals(codebook, small):
    table = tabulate.option_table(small, codebook["most_important"])
    assert table["code"].tolist() == codebook["most_important"].codes()
    sales = table.set_index("code").loc["sales"]
    assert sales["share"] == pytest.approx(2 / 3)
    assert sales["ci_low"] < sales["share"] < sales["ci_high"]
    assert table.attrs["percent_of"] == tabulate.RESPONDENTS


def test_mentions_table_adds_up_to_one_and_leaves_out_exclusive_options(codebook, small):
    table = tabulate.option_table(small, codebook["downsides"], percent_of=tabulate.MENTIONS)
    assert "none" not in table["code"].tolist()
    assert table["share"].sum() == pytest.approx(1.0)


def test_a_question_left_out_of_a_wave(codebook, small):
    question = codebook["targets_set"]
    without = small.drop(columns=question.columns())
    assert not tabulate.is_present(without, question)
    assert tabulate.share_of_respondents(without, question, ["none"]).base == 0
    assert tabulate.option_table(without, question).empty


def test_groups_split_respondents(codebook, small):
    table = tabulate.by_group(small, codebook, codebook["most_important"], "sector")
    pharma = table[(table["group_code"] == "pharma") & (table["code"] == "sales")].iloc[0]
    assert (pharma["count"], pharma["base"]) == (1, 1)


def test_ranking_is_stable_on_ties(codebook, small):
    table = tabulate.option_table(small, codebook["assessment_basis"])
    assert tabulate.rank_options(table)[:2] == ["sales", "behaviour"]
