"""A chapter on any wave: a question left out, an empty sector, a new option. Nothing raises, every key is glued,
no number is printed that the wave does not have, and the change since the previous wave is shown."""

from __future__ import annotations

import json

import pytest
import vl_convert

from conftest import DATA
from kamsurvey.report import chapter_glue
from kamsurvey.report.chapter import Chapter
from kamsurvey.analysis import policy
from kamsurvey.report.chapter_data import NO_RESPONDENTS, NOT_ASKED, SectorBreakdownError, Unavailable, Withheld
from wavekit import add_option, data_dir, write_synthetic_wave

NEW_OPTION = '- {code: profit_share, label: Profit share, since: "2023"}'
AFTER = "      - {code: shares, label: Shares or share options, reconstructed: true}"


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """2022 as published; 2023 with bonus_size left out, nobody in pharma and a new option of rewarded_with."""
    text = add_option((DATA / "codebook.yml").read_text(encoding="utf-8"), AFTER, NEW_OPTION)
    folder = data_dir(tmp_path_factory.mktemp("waves"), codebook_text=text)
    write_synthetic_wave(folder, "2023", n=90, seed=4, omit=["bonus_size"], pharma_share=0.0)
    return folder


@pytest.fixture()
def glued(monkeypatch) -> dict:
    values: dict = {}
    monkeypatch.setattr(chapter_glue, "_glue", lambda name, value: values.__setitem__(name, value))
    return values


@pytest.fixture(scope="module")
def ch(data) -> Chapter:
    return Chapter.load(wave="2023", data_dir=str(data), compare_with="2022")


def test_shares_of_a_question_left_out_are_unavailable_not_zero(ch, glued):
    share = ch.share("bonus_size", ["under_10"])
    assert isinstance(share, Unavailable) and share.base == 0
    ch.glue_share("bonus_under_10", share)
    # every form is the marker, the capitalised ones too: a marker never opens a sentence ("[Not asked]"),
    # and a page that could show it glues whole sentences instead (glue_text)
    forms = ("pct", "n", "ci", "words", "fraction", "base", "said", "said_cap", "pct_cap", "words_cap", "fraction_cap")
    assert glued == {f"bonus_under_10_{form}": NOT_ASKED for form in forms}


def test_sentences_about_a_question_left_out_are_one_sentence_saying_so(ch, glued):
    ch.glue_text("bonus_text", ["bonus_size"], lambda: pytest.fail("composed for a question not asked"))
    assert glued["bonus_text"] == "The 2023 survey did not ask about ‘Bonus as a percentage of salary’."
    assert ch.sector_sentences([("bonus_test", "a bonus of 40% or more", "bonus_size", ["40_plus"])]) == [
        "For a bonus of 40% or more, the question was not asked in the 2023 survey, so the sectors cannot be compared"]
    assert ch.statistics_note([("bonus_test", "a bonus of 40% or more", "bonus_size", ["40_plus"])]) is None


def test_a_sector_with_nobody_in_it_gives_no_share(ch, glued):
    ch.glue_share("sales_pharma", ch.share("reward_basis", ["sales"], within={"sector": "pharma"}))
    assert glued["sales_pharma_pct"] == NO_RESPONDENTS and glued["sales_pharma_base"] == 0


def test_rankings_and_phrases_of_a_missing_question_glue_every_key(ch, glued):
    assert ch.top_label("bonus_size") == NOT_ASKED
    assert ch.glue_ranked("bonus_rank", "bonus_size", 3) == []
    assert {glued[f"bonus_rank{i}"] for i in (1, 2, 3)} == {NOT_ASKED}
    assert {glued[f"bonus_rank{i}_pct"] for i in (1, 2, 3)} == {NOT_ASKED}
    ch.glue_when("bonus_phrase", ["bonus_size"], lambda: pytest.fail("computed for a question not asked"))
    ch.glue_mean("bonus_mean", "bonus_size")
    assert glued["bonus_phrase"] == glued["bonus_mean"] == NOT_ASKED


def test_rankings_leave_out_exclusive_answers(ch):
    question = ch.question("downsides")
    ranked = ch.ranking("downsides")
    assert ranked and not set(question.exclusive_codes()) & set(ranked)


def test_sector_tests_say_why_they_cannot_compare(ch, glued):
    ch.glue_sector_test("sales_test", "reward_basis", ["sales"])
    assert glued["sales_test_pharma_pct"] == NO_RESPONDENTS and glued["sales_test_pharma_base"] == 0
    assert glued["sales_test_other_pct"].endswith("%")
    assert glued["sales_test_diff"] == glued["sales_test_p"] == "not shown"
    assert glued["sales_test_verdict"] == "no respondent in pharma answered it in the 2023 survey, so the sectors cannot be compared"
    ch.glue_sector_test("bonus_test", "bonus_size", ["under_10"])
    assert glued["bonus_test_summary"].startswith("not available: the question was not asked in the 2023 survey")
    assert glued["bonus_test_pharma_base"] == NOT_ASKED


def test_figures_of_a_missing_question_keep_their_id_and_say_so(ch):
    for figure in (ch.bars_figure("fig-bonus-size", "bonus_size"), ch.sector_figure("fig-bonus-size-sector", "bonus_size")):
        payload = figure.payload()
        assert payload["id"] in ("fig-bonus-size", "fig-bonus-size-sector")
        assert payload["unavailable"] == "Not asked in the 2023 survey."
        assert payload["table"] == {"columns": ["Note"], "rows": [["Not asked in the 2023 survey."]]}
        assert "Not asked in the 2023 survey." in vl_convert.vegalite_to_svg(payload["spec"])


def test_breakdowns_and_charts_leave_out_an_empty_sector(ch):
    table = ch.sector_breakdown("reward_basis")
    assert set(table["group_code"]) == {"other"} and not table.empty
    assert "suppressed" in table.columns  # the small-base policy ran on what is left
    chart = json.dumps(ch.sector_figure("fig-reward-basis-sector", "reward_basis").spec)
    assert "Pharma (n =" not in chart and "Other sectors (n =" in chart
    likert = json.dumps(ch.likert_figure("fig-reflects-job", "reflects_job").spec)
    assert "All respondents (n = " in likert and "Pharma (n =" not in likert


def test_wave_notes_say_not_asked_changed_or_not_comparable(ch):
    assert ch.wave_note("bonus_size").data.startswith(":::{admonition} Not asked in the 2023 survey")
    assert ch.wave_note("downsides").data.startswith(":::{admonition} Change since the 2022 survey:")
    not_compared = ch.wave_note("rewarded_with").data
    assert not_compared.startswith(":::{admonition} Not compared with the 2022 survey")
    assert "‘Profit share’ was added in 2023" in not_compared
    summary = ch.comparison_note().data
    assert "Eight of the ten questions are compared" in summary and "‘Bonus as a percentage of salary’" in summary


def test_the_first_edition_shows_nothing_about_change(data):
    first = Chapter.load(wave="2022", data_dir=str(data), compare_with="")
    assert first.wave_note("downsides") is None and first.comparison_note() is None


def test_an_option_added_later_has_no_row_in_an_earlier_wave(data):
    first = Chapter.load(wave="2022", data_dir=str(data), compare_with="")
    assert "profit_share" not in first.table("rewarded_with")["code"].tolist()
    later = Chapter.load(wave="2023", data_dir=str(data), compare_with="2022")
    assert "profit_share" in later.table("rewarded_with")["code"].tolist()
    assert len(later.questions_asked()) == len(later.codebook.questions) - 1


def test_the_questionnaire_marks_questions_left_out_and_options_new_in_the_wave(ch):
    from kamsurvey.report.questionnaire import questionnaire_markdown

    text = questionnaire_markdown(ch.codebook, "2023", not_asked=["bonus_size"])
    bonus = text[text.index("**Q8."):text.index("**Q9.")]
    assert "- Not asked in the 2023 survey: the question was left out of its questionnaire" in bonus
    assert "1. Profit share `profit_share` (new in 2023)" in text
    assert "Profit share" not in questionnaire_markdown(ch.codebook, "2022")


def test_a_share_resting_on_a_withheld_cell_is_glued_as_the_mark(data, glued):
    first = Chapter.load(wave="2022", data_dir=str(data), compare_with="")
    share = first.share("bonus_size", ["40_plus"], within={"sector": "pharma"})
    assert isinstance(share, Withheld) and share.base == 47
    first.glue_share("top_band_pharma", share)
    assert {form: glued[f"top_band_pharma_{form}"] for form in ("pct", "n", "ci", "words", "fraction")} == dict.fromkeys(
        ("pct", "n", "ci", "words", "fraction"), policy.SUPPRESSED_MARK)
    assert glued["top_band_pharma_base"] == 47
    assert first.share("bonus_size", ["40_plus"]).count == 5  # the whole sample's cell is published


def test_only_declared_breakdowns_are_published_by_sector(data):
    first = Chapter.load(wave="2022", data_dir=str(data), compare_with="")
    with pytest.raises(SectorBreakdownError, match="SECTOR_BREAKDOWNS"):
        first.share("downsides", ["none"], within={"sector": "pharma"})
    with pytest.raises(SectorBreakdownError):
        first.sector_figure("fig-x", "rewarded_with")


def test_a_share_of_mentions_is_glued_without_an_interval(data, glued):
    first = Chapter.load(wave="2022", data_dir=str(data), compare_with="")
    first.glue_share("top_should", first.mention_share("should_include", ["relationship_development"]))
    assert glued["top_should_pct"].endswith("%") and not any(c.isdigit() for c in glued["top_should_ci"])
