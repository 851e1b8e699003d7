"""Key findings and the conclusions' evidence chosen by the data (issue 16 item 2, issue 12 item 2).

The 2022 edition (a reconstruction) states only what the article publishes; a synthetic wave in
which sales is no longer first, or a question is left out, gets other headlines, and no
placeholder; a later wave attributes the article's judgements to the 2022 article.
"""

from __future__ import annotations

import re

import pytest
from wavekit import data_dir, write_synthetic_wave

from kamsurvey import Chapter
from kamsurvey.report import findings
from conftest import ROOT


@pytest.fixture(scope="module")
def ch_2022() -> Chapter:
    return Chapter.load(wave="2022", data_dir=str(ROOT / "data"))


@pytest.fixture(scope="module")
def ch_2023(tmp_path_factory) -> Chapter:
    data = data_dir(tmp_path_factory.mktemp("findings"))
    write_synthetic_wave(data, "2023", n=90, seed=7, omit=["bonus_size"], pharma_share=0.33)
    return Chapter.load(wave="2023", data_dir=str(data))


def _numbers_outside_quotes(text: str) -> list[str]:
    """Percentages a text states, leaving out the article's quoted words and the bands of the bonus question."""
    return re.findall(r"\d+%", re.sub(r"‘[^’]*’|\d+% or more", "", text))


def test_2022_key_findings_give_the_articles_words_not_the_reconstructions_numbers(ch_2022):
    found = findings.key_findings(ch_2022)
    assert found["kf_sales"].headline == "Sales dominates assessment."
    assert found["kf_sales"].text.startswith("‘Nearly 60%’ of key account managers")
    assert "recognition" not in found["kf_rewards"].text  # the article gives no figure for it
    assert "eighth" not in found["kf_should"].text  # the rank of the first financial outcome is reconstructed
    published = {"18%"}  # customer relationship development, the article's printed share of mentions
    assert {n for f in found.values() for n in _numbers_outside_quotes(f.text)} <= published


def test_2022_conclusions_evidence_states_no_reconstructed_number(ch_2022):
    evidence = findings.conclusions(ch_2022)
    assert "‘the few’" in evidence["conc_distinct"] and "a model for salespeople" in evidence["conc_distinct"]
    assert evidence["conc_recognition"] == ("‘Nearly three-quarters’ are rewarded with bonus cash; the article gives no "
                                            "figure for recognition.")
    assert "company's overall results" in evidence["conc_positioning"]
    assert not [n for text in evidence.values() for n in _numbers_outside_quotes(text) if n != "18%"]


def test_a_wave_where_sales_is_not_first_says_so_and_attributes_the_2022_article(ch_2023):
    assert ch_2023.ranking("most_important")[0] != "sales"
    sales = findings.sales(ch_2023)
    assert sales.headline == ("Sales is no longer the factor most often named as most important, as it was in the "
                              "2022 survey.")
    assert "dominates" not in sales.text
    positioning = findings.conclusions(ch_2023)["conc_positioning"]
    assert "article" not in positioning  # a withheld share is not one the article leaves out
    assert re.search(r"(against \d+% on|how many are rewarded on) the company's overall results", positioning)
    assert "calls a model for salespeople" not in findings.conclusions(ch_2023)["conc_distinct"]


def test_a_question_left_out_drops_its_sentences_and_says_so_once(ch_2023):
    evidence = findings.conclusions(ch_2023)["conc_distinct"]
    assert evidence == "The 2023 survey did not ask about ‘Bonus as a percentage of salary’."
    everything = findings.describe(findings.key_findings(ch_2023)) + " ".join(findings.conclusions(ch_2023).values())
    assert "[not asked]" not in everything and "nan" not in everything.split()
