"""The article's claims ledger: every claim holds on the 2022 wave; the evaluator copes with any wave."""

from __future__ import annotations

import os
import re

import pandas as pd
import pytest
import yaml

from conftest import ARTICLE, DATA
from kamsurvey.analysis.claims import (
    CANNOT_COMPUTE,
    DOES_NOT_HOLD,
    HOLDS,
    RESULT_COLUMNS,
    STATUSES,
    ClaimsError,
    claim_from_mapping,
    evaluate_claim,
    evaluate_claims,
    format_allowed,
    load_claims,
)
from kamsurvey.data.codebook import load_codebook

LEDGER = DATA / "claims" / "2022.yml"
CLAIMS = load_claims(LEDGER, load_codebook(DATA / "codebook.yml"))
BY_ID = {claim.id: claim for claim in CLAIMS}


# ------------------------------------------------------------------ the 2022 wave


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim_holds_on_2022(claim, wave_2022):
    result = evaluate_claim(claim, wave_2022.responses, wave_2022.codebook, wave_2022.meta)
    assert result.status == HOLDS, f"{claim.article_words!r}: {result.value_text} not in {result.allowed_text} {result.reason}"


def test_evaluate_claims_gives_one_row_per_claim(wave_2022):
    table = evaluate_claims(CLAIMS, wave_2022)
    assert list(table.columns) == RESULT_COLUMNS
    assert table["id"].tolist() == [c.id for c in CLAIMS]
    assert (table["status"] == HOLDS).all()


def test_the_issue_list_of_claims_is_covered():
    expected = {
        "sample_size", "fieldwork_dates", "pharma_strongly_represented",
        "targets_none_a_few", "targets_individual_quantitative_c20", "targets_mix",
        "assessment_mean_3_5", "assessment_financial_one_third", "assessment_inputs_further_third",
        "assessment_other_last_third", "assessment_sales_80",
        "most_important_sales_nearly_60", "most_important_profitability_16", "most_important_financial_three_quarters",
        "should_include_mean_4", "should_include_relationship_18", "should_include_feedback_13",
        "should_include_behaviour_13", "should_include_plan_12", "should_include_activities_11",
        "should_include_others_33", "should_include_financial_not_top5", "should_include_top5_within_control",
        "reflects_job_half_agree", "reflects_job_third_disagree",
        "reward_basis_sales_two_thirds", "reward_basis_sales_pharma",
        "reward_basis_not_rewarded_non_pharma_14", "reward_basis_not_rewarded_pharma_none",
        "rewarded_with_bonus_nearly_three_quarters", "rewarded_with_salary_12",
        "rewarded_with_bonus_most_common", "rewarded_with_salary_much_less_popular",
        "bonus_under_10_quarter", "bonus_10_to_20_third", "bonus_10_to_20_more_in_pharma",
        "bonus_20_plus_similar_number", "bonus_20_plus_fewer_in_pharma",
        "bonus_40_plus_few", "bonus_40_plus_virtually_none_pharma",
        "downsides_mean_1_25", "downsides_top_two", "downsides_third_and_fourth",
    }
    assert expected <= set(BY_ID)


def article_text() -> str:
    """The article's text; outside CI a test skips without it, in CI (CI=true) it fails naming where it looked."""
    found = next((path for path in ARTICLE if path.is_file()), None)
    if found is None:
        where = "the article text is in none of " + ", ".join(map(str, ARTICLE))
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{where}: in CI the article must be beside the project (../shared/article) or in $KAM_ARTICLE")
        pytest.skip(where)
    return found.read_text(encoding="utf-8")


def test_article_words_and_sections_are_quoted_exactly_from_the_article():
    text = " ".join(article_text().split())
    misquoted = [c.id for c in CLAIMS if c.article_words not in text]
    assert not misquoted
    unknown_sections = sorted({c.section for c in CLAIMS if c.section not in text})
    assert not unknown_sections


# ------------------------------------------------------------ hand-made frames


def make_frame(codebook, rows: list[dict], drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """Typed frame like the reader's: multi columns Int8 (ticks given as lists), single as string.

    Each row is {question_id: code or [codes]}; a multi question not given is all 0,
    a single question not given is NA. Questions in `drop` have no columns at all.
    """
    columns: dict[str, list] = {"respondent_id": [f"T{i + 1:03d}" for i in range(len(rows))]}
    for question in codebook:
        if question.id in drop:
            continue
        if question.is_multi:
            for code in question.codes():
                columns[question.column(code)] = [int(code in (row.get(question.id) or [])) for row in rows]
        else:
            columns[question.id] = [row.get(question.id) for row in rows]
    frame = pd.DataFrame(columns)
    for name in frame.columns:
        if name == "respondent_id":
            continue
        is_multi = "__" in name
        frame[name] = frame[name].astype("Int8") if is_multi else frame[name].astype("string")
    return frame


def respondent(sector="pharma", **answers):
    base = {
        "reflects_job": "agree",
        "targets_set": ["individual_quantitative", "individual_qualitative"],
        "assessment_basis": ["sales", "behaviour"],
        "most_important": "sales",
        "should_include": ["behaviour"],
        "reward_basis": "sales",
        "rewarded_with": ["bonus_cash"],
        "bonus_size": "10_to_20",
        "downsides": ["overemphasises_sales"],
        "sector": sector,
    }
    base.update(answers)
    return base


def test_a_claim_that_does_not_hold_says_so(codebook):
    frame = make_frame(codebook, [respondent() for _ in range(10)])
    result = evaluate_claim(BY_ID["most_important_sales_nearly_60"], frame, codebook)
    assert result.status == DOES_NOT_HOLD
    assert result.value == 1.0
    assert result.value_text == "100% (10 of 10)"
    assert result.allowed_text == "at least 55%, under 60%"
    assert result.n == 10


def test_a_question_left_out_of_the_wave_cannot_be_computed(codebook):
    frame = make_frame(codebook, [respondent() for _ in range(5)], drop=("bonus_size",))
    result = evaluate_claim(BY_ID["bonus_under_10_quarter"], frame, codebook)
    assert result.status == CANNOT_COMPUTE
    assert result.reason == "question bonus_size is not in this wave"


def test_a_sector_with_no_respondents_cannot_be_computed(codebook):
    frame = make_frame(codebook, [respondent(sector="other") for _ in range(5)])
    result = evaluate_claim(BY_ID["reward_basis_sales_pharma"], frame, codebook)
    assert result.status == CANNOT_COMPUTE
    assert result.reason == "no respondents with sector = pharma in this wave"
    difference = evaluate_claim(BY_ID["bonus_10_to_20_more_in_pharma"], frame, codebook)
    assert difference.status == CANNOT_COMPUTE


def test_no_sector_question_cannot_be_computed(codebook):
    frame = make_frame(codebook, [respondent() for _ in range(5)], drop=("sector",))
    result = evaluate_claim(BY_ID["reward_basis_not_rewarded_pharma_none"], frame, codebook)
    assert result.status == CANNOT_COMPUTE
    assert result.reason == "question sector is not in this wave"


def test_a_base_under_one_cannot_be_computed(codebook):
    rows = [respondent(rewarded_with=["recognition"], bonus_size=None) for _ in range(4)]
    result = evaluate_claim(BY_ID["bonus_40_plus_few"], make_frame(codebook, rows), codebook)
    assert result.status == CANNOT_COMPUTE
    assert result.reason.startswith("base under 1")


def test_an_option_missing_from_the_wave_cannot_be_computed(codebook):
    frame = make_frame(codebook, [respondent() for _ in range(4)]).drop(columns=["rewarded_with__salary_increase"])
    result = evaluate_claim(BY_ID["rewarded_with_salary_12"], frame, codebook)
    assert result.status == CANNOT_COMPUTE
    assert "salary_increase" in result.reason


def test_missing_metadata_cannot_be_computed(codebook):
    frame = make_frame(codebook, [respondent()])
    result = evaluate_claim(BY_ID["fieldwork_dates"], frame, codebook, meta=None)
    assert result.status == CANNOT_COMPUTE


def test_every_claim_evaluates_without_raising_on_an_odd_wave(codebook):
    """Different n, no pharma, a question left out, nobody with a bonus: no claim raises."""
    rows = [respondent(sector="other", rewarded_with=["recognition"], bonus_size=None) for _ in range(3)]
    frame = make_frame(codebook, rows, drop=("downsides",))
    results = [evaluate_claim(claim, frame, codebook) for claim in CLAIMS]
    assert all(r.status in STATUSES for r in results)
    by_id = {r.claim.id: r for r in results}
    assert by_id["sample_size"].status == DOES_NOT_HOLD
    assert by_id["downsides_top_two"].status == CANNOT_COMPUTE
    assert all(r.reason for r in results if r.status == CANNOT_COMPUTE)


def test_a_tie_at_a_rank_boundary_does_not_confirm_the_ranking(codebook):
    # overemphasises_sales 2, ignores_inputs 1, ignores_customer_view 1: rank 2 is shared.
    rows = [
        respondent(downsides=["overemphasises_sales", "ignores_inputs"]),
        respondent(downsides=["overemphasises_sales", "ignores_customer_view"]),
    ]
    result = evaluate_claim(BY_ID["downsides_top_two"], make_frame(codebook, rows), codebook)
    assert result.status == DOES_NOT_HOLD
    assert sorted(result.value) == ["ignores_customer_view", "ignores_inputs", "overemphasises_sales"]


def test_share_difference_between_sectors(codebook):
    rows = [respondent(sector="pharma", bonus_size="10_to_20")] * 3 + [respondent(sector="pharma", bonus_size="under_10")]
    rows += [respondent(sector="other", bonus_size="10_to_20")] + [respondent(sector="other", bonus_size="20_to_40")] * 3
    result = evaluate_claim(BY_ID["bonus_10_to_20_more_in_pharma"], make_frame(codebook, rows), codebook)
    assert result.value == pytest.approx(0.75 - 0.25)
    assert result.status == DOES_NOT_HOLD  # 50 points is more than "a bit"
    assert result.value_text.startswith("+50 points (75% (3 of 4) vs 25% (1 of 4)); Boschloo's exact test p = ")
    assert result.n == 8


class _Meta:
    def __init__(self, reconstructed: bool):
        self.reconstructed = reconstructed


def _bonus_frame(codebook, pharma: tuple[int, int], other: tuple[int, int]) -> pd.DataFrame:
    """Respondents with a cash bonus: (10-20%, under 10%) in pharma and in other sectors."""
    rows = []
    for sector, (middle, low) in (("pharma", pharma), ("other", other)):
        rows += [respondent(sector=sector, bonus_size="10_to_20")] * middle + [respondent(sector=sector, bonus_size="under_10")] * low
    return make_frame(codebook, rows)


def test_a_directional_sector_statement_is_judged_by_its_test(codebook):
    """'A bit more in pharma' (at most 15 points more): the direction alone is not enough where chance could give it."""
    claim = BY_ID["bonus_10_to_20_more_in_pharma"]
    assert claim.test == "exact"
    noise = _bonus_frame(codebook, pharma=(18, 29), other=(10, 25))  # 38% against 29%: p about 0.4
    result = evaluate_claim(claim, noise, codebook)
    assert result.status == DOES_NOT_HOLD and 0.2 < result.p_value < 0.6
    assert "chance alone could give this (Boschloo's exact test p = " in result.value_text
    # a reconstruction's groups are its own choice: the direction is checked, the test is not
    rebuilt = evaluate_claim(claim, noise, codebook, _Meta(reconstructed=True))
    assert rebuilt.status == HOLDS and rebuilt.value_text.endswith("not tested: the groups are the reconstruction's choice")
    assert rebuilt.p_value is None
    # a clear difference within the words' range holds: 14 points on large groups
    clear = _bonus_frame(codebook, pharma=(540, 1460), other=(250, 1750))
    result = evaluate_claim(claim, clear, codebook, _Meta(reconstructed=False))
    assert result.status == HOLDS and result.p_value < 0.05 and "Fisher's exact test p < 0.01" in result.value_text


def test_a_test_needs_two_groups(tmp_path, codebook):
    entry = {**GOOD, "measure": "share_difference", "versus": {"options": ["customer_profitability"]}, "test": "exact",
             "allowed": {"min": 0.1}}
    path = tmp_path / "claims.yml"
    path.write_text(yaml.safe_dump({"claims": [entry]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ClaimsError, match="test compares two groups of respondents"):
        load_claims(path, codebook)


def test_values_are_compared_with_their_range_exactly(codebook):
    """23/80 - 27/80 is -0.05 exactly, at 'min: -0.05' (in floating point it is below)."""
    assert 23 / 80 - 27 / 80 < -0.05
    rows = [respondent(bonus_size="10_to_20")] * 27 + [respondent(bonus_size="20_to_40")] * 23
    rows += [respondent(bonus_size="under_10")] * 30
    result = evaluate_claim(BY_ID["bonus_20_plus_similar_number"], make_frame(codebook, rows), codebook)
    assert result.status == HOLDS and result.value == pytest.approx(-0.05)
    rows[-1] = respondent(bonus_size="10_to_20")  # 28/80 - 23/80: over 6 points, no longer "fairly similar"
    assert evaluate_claim(BY_ID["bonus_20_plus_similar_number"], make_frame(codebook, rows), codebook).status == DOES_NOT_HOLD


def test_allowed_text():
    assert format_allowed(BY_ID["most_important_sales_nearly_60"]) == "at least 55%, under 60%"
    assert format_allowed(BY_ID["most_important_profitability_16"]) == "15.5%–16.5%"
    assert format_allowed(BY_ID["targets_none_a_few"]) == "over 0%, under 5%"
    assert format_allowed(BY_ID["sample_size"]) == "exactly 112"
    assert format_allowed(BY_ID["assessment_mean_3_5"]) == "3.45–3.55"


# ------------------------------------------------------------------ bad ledgers


GOOD = {
    "id": "an_example",
    "section": "Assessing performance",
    "article_words": "Nearly 60% say it is sales",
    "question": "most_important",
    "measure": "share_of_respondents",
    "options": ["sales"],
    "allowed": {"min": 0.55, "max": 0.6},
    "reading": "Example.",
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"measure": "average_share"}, "key measure: got 'average_share'; expected one of 'respondents', 'meta'"),
        ({"question": "favourite_colour"}, "unknown question 'favourite_colour'"),
        ({"options": ["salez"]}, "has no option 'salez'"),
        ({"within": {"sector": "pharmaceuticals"}}, "has no option 'pharmaceuticals'"),
        ({"top": 3}, "'top' not used by measure"),
        ({"allowed": {"minimum": 0.5}}, "key allowed.minimum: unknown key (a misspelling of 'min'?)"),
        ({"allowed": {"min": 0.7, "max": 0.6}}, "allowed range is empty"),
        ({"options": None}, "needs one of options"),
        ({"group": "financial"}, "give one of"),
        ({"measure": "rank", "options": None, "ranks": [1, 2], "allowed": {"options": ["sales"]}}, "names 1 option(s) for ranks 1–2"),
        ({"measure": "share_of_mentions"}, "share_of_mentions needs a multi question"),
        ({"id": "Not Snake"}, "snake_case"),
        ({"question": "targets_set", "measure": "share_of_mentions", "options": ["none"]}, "'none' is exclusive"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_a_bad_ledger_entry_raises_naming_the_claim(tmp_path, codebook, change, message):
    entry = {**GOOD, **change}
    entry = {k: v for k, v in entry.items() if v is not None}
    path = tmp_path / "claims.yml"
    path.write_text(yaml.safe_dump({"claims": [GOOD | {"id": "fine"}, entry]}, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ClaimsError, match=re.escape(message)) as error:
        load_claims(path, codebook)
    assert f"claim {entry['id']!r}" in str(error.value)


def test_a_duplicate_id_raises(tmp_path, codebook):
    path = tmp_path / "claims.yml"
    path.write_text(yaml.safe_dump({"claims": [GOOD, GOOD]}), encoding="utf-8")
    with pytest.raises(ClaimsError, match="claim 'an_example': duplicate id"):
        load_claims(path, codebook)


def test_a_good_entry_loads(codebook):
    claim = claim_from_mapping(GOOD, codebook)
    assert claim.options == ("sales",) and claim.allowed.max == 0.6


def test_the_reproduction_check_gives_a_sentence_once_and_names_its_column_plainly():
    from kamsurvey import Chapter
    from kamsurvey.report.chapter_claims import IN_THIS_EDITION, SAME_STATEMENT

    ch = Chapter.load(wave="2022", data_dir=str(DATA))
    table = ch.claims_table()
    assert IN_THIS_EDITION == "In this edition's data" and IN_THIS_EDITION in table.columns
    words = list(table["The article's words"])
    assert SAME_STATEMENT in words
    assert all(a != b for a, b in zip(words, words[1:]) if a != SAME_STATEMENT)
    ledger_words = [r.claim.article_words for r in ch.claim_results().values()]
    assert all(shown == SAME_STATEMENT or shown == own for shown, own in zip(words, ledger_words))
