"""Key findings and the conclusions' evidence chosen by the data (issue 16 item 2, issue 12 item 2).

The 2022 edition (a reconstruction) states only what the article publishes; a synthetic wave in
which sales is no longer first, or a question is left out, gets other headlines, and no
placeholder; a later wave attributes the article's judgements to the 2022 article.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from wavekit import data_dir, write_synthetic_wave

from kamsurvey import Chapter
from kamsurvey.analysis import claims, published as publishing
from kamsurvey.analysis.stats import Proportion
from kamsurvey.report import findings
from kamsurvey.report.chapter_data import Withheld
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
    assert evidence["conc_distinct"] == ("The article speaks of ‘the few who receive 40%+ bonus on sales’, which it "
                                         "calls more commonly a model for salespeople.")
    assert evidence["conc_recognition"] == ("Bonus cash is the reward of ‘nearly three-quarters’; the article gives "
                                            "no figure for recognition.")
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


class StubChapter:
    """A real (original, synthetic) chapter whose shares, rankings, claims and rank classes a test sets, so that
    each case a finding's wording must handle can be built whatever a synthetic wave happens to hold."""

    def __init__(self, chapter: Chapter, shares=None, rankings=None, holding=(), reconstructed_ranks=()):
        self._chapter, self._shares, self._rankings = chapter, shares or {}, rankings or {}
        self._holding, self._reconstructed_ranks = set(holding), set(reconstructed_ranks)

    def __getattr__(self, name):
        return getattr(self._chapter, name)

    def share(self, question_id, codes, **kwargs):
        return self._shares.get((question_id, tuple(codes))) or self._chapter.share(question_id, codes, **kwargs)

    def unavailable(self, question_id):
        """A question the test gives shares for is asked, even where the synthetic wave left it out."""
        asked = any(question == question_id for question, _ in self._shares)
        return None if asked else self._chapter.unavailable(question_id)

    def mention_share(self, question_id, codes, **kwargs):
        return self._shares.get((question_id, tuple(codes))) or self._chapter.mention_share(question_id, codes, **kwargs)

    def ranking(self, question_id, **kwargs):
        return self._rankings.get(question_id) or self._chapter.ranking(question_id, **kwargs)

    def rank_known(self, question_id, codes):
        if question_id in self._reconstructed_ranks:
            return publishing.Known(publishing.RECONSTRUCTED)
        return self._chapter.rank_known(question_id, codes)

    def claim_results(self):
        return {cid: SimpleNamespace(status=claims.HOLDS) for cid in self._holding}


def _shares(**by_key) -> dict:
    """{(question, codes): Proportion} from keyword 'question__code=(count, base)' or a Withheld."""
    found = {}
    for key, value in by_key.items():
        question, code = key.split("__")
        found[(question, (code,))] = value if isinstance(value, Withheld) else Proportion(*value)
    return found


def test_rewards_are_mostly_cash_for_sales_only_when_both_are_named_by_at_least_half(ch_2023):
    ranks = {"reward_basis": ["sales", "company_performance"], "rewarded_with": ["bonus_cash", "recognition"]}
    weak = StubChapter(ch_2023, _shares(reward_basis__sales=(40, 100), rewarded_with__bonus_cash=(45, 100)), ranks)
    assert findings.rewards(weak).headline == ("A cash bonus is the most common reward, and sales the most common "
                                               "basis for it.")
    strong = StubChapter(ch_2023, _shares(reward_basis__sales=(60, 100), rewarded_with__bonus_cash=(70, 100)), ranks)
    assert findings.rewards(strong).headline == "Rewards are mostly cash for sales."


def test_a_clear_majority_is_not_called_split(ch_2023):
    question = ch_2023.question("reflects_job")
    agree, disagree = (tuple(question.codes_in_group(g)) for g in ("agree", "disagree"))
    stub = StubChapter(ch_2023, {("reflects_job", agree): Proportion(60, 100),
                                 ("reflects_job", disagree): Proportion(30, 100)})
    assert findings.reflects(stub).headline == "Most say their organisation's approach fits the job."
    split = StubChapter(ch_2023, {("reflects_job", agree): Proportion(50, 100),
                                  ("reflects_job", disagree): Proportion(33, 100)})
    assert findings.reflects(split).headline == "Opinion is split on whether the approach fits the job."


def test_recognition_is_only_called_few_when_far_behind_cash(ch_2023):
    def evidence(recognition, cash):
        return findings.conclusions(StubChapter(ch_2023, _shares(rewarded_with__recognition=(recognition, 100),
                                                                 rewarded_with__bonus_cash=(cash, 100))))[
            "conc_recognition"]
    assert evidence(12, 70).startswith("Only 12% report")
    assert "Only" not in evidence(50, 70) and "against 70% with bonus cash" in evidence(50, 70)
    assert evidence(80, 60) == "80% report being rewarded with recognition, more than the 60% rewarded with bonus cash."


def test_a_withheld_share_is_said_as_withheld_not_as_a_noun(ch_2023):
    withheld = Withheld(count=0, base=100)
    stub = StubChapter(ch_2023, _shares(bonus_size__40_plus=withheld, reward_basis__sales=withheld,
                                        rewarded_with__bonus_cash=withheld))
    everything = findings.describe(findings.key_findings(stub)) + " ".join(findings.conclusions(stub).values())
    assert "a share withheld to protect small groups receive" not in everything
    assert not re.search(r"(^|\. )A share withheld", everything)
    assert ("How many of those with a cash bonus receive a bonus of 40% or more of salary"
            in findings.conclusions(stub)["conc_distinct"])


def test_a_reconstructed_first_downside_is_not_stated_as_a_finding(ch_2023):
    ranking = ch_2023.ranking("downsides")
    stub = StubChapter(ch_2023, rankings={"downsides": ranking}, reconstructed_ranks={"downsides"})
    found = findings.downsides(stub)
    assert "tops the list" not in found.text and "named most often." not in found.headline
    assert found.headline == "Key account managers name several downsides."


def test_the_rank_of_a_financial_outcome_is_not_said_when_reconstructed(ch_2023):
    stub = StubChapter(ch_2023, reconstructed_ranks={"should_include"})
    assert not re.search(r"comes \w+(st|nd|rd|th)\b", findings.should_include(stub).text)


def test_the_first_downside_is_seen_as_a_concern_only_when_named_by_enough(ch_2023):
    top = ["overemphasises_sales", "ignores_inputs"]
    few = StubChapter(ch_2023, _shares(downsides__overemphasises_sales=(10, 100)), {"downsides": top})
    assert findings.downsides(few).headline == "‘Overemphasises sales/short term results’ is the downside named most often."
    many = StubChapter(ch_2023, _shares(downsides__overemphasises_sales=(40, 100)), {"downsides": top})
    assert findings.downsides(many).headline == "The approach is seen to overemphasise short-term sales."


def test_the_article_s_much_starker_is_kept_only_where_the_numbers_bear_it_out(ch_2023):
    financial = tuple(ch_2023.question("most_important").codes_in_group("financial"))
    basis = ("assessment_basis", ("sales", "customer_profitability"))
    stark = StubChapter(ch_2023, {("most_important", financial): Proportion(75, 100), basis: Proportion(33, 100)})
    assert findings.starker(stark)
    flat = StubChapter(ch_2023, {("most_important", financial): Proportion(40, 100), basis: Proportion(33, 100)})
    assert not findings.starker(flat)
