"""The book's headline findings in words chosen by the data: the key findings and the conclusions' evidence.

A fixed sentence ("Sales dominates assessment") is true of one wave and false of the next. Each
finding here has wording for the cases its numbers can fall into, chosen by the article's claims
as the book shows them (`Chapter.claim_results`: a claim withheld under the small-base policy
chooses nothing), by the published ranking (no rank a withheld cell could change) and by shares
as the wave knows them (for a reconstructed wave, only what holds over the whole range the article
allows). Numbers are said through `Chapter.said`, so a reconstructed wave's finding gives the
article's words or nothing, never the reconstruction's number. A question the wave left out drops
its sentences and says so in one (`Chapter.not_asked_sentence`).

Every function returns a `Finding`: a headline (a sentence, for the bold lead of a key finding) and
the sentences that support it. The chapters glue them (`glue_findings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kamsurvey.analysis import claims, tabulate
from kamsurvey.analysis.stats import Proportion
from kamsurvey.report import phrasing
from kamsurvey.report.chapter_data import Withheld

#: "dominates": first, and named by at least this share (the whole range, in a reconstructed wave)
DOMINANT = 0.5
#: "opinion is split": agreeing and disagreeing are each at least this share
SPLIT = 0.25


@dataclass(frozen=True)
class Finding:
    headline: str
    text: str


def holds(ch, claim_id: str) -> bool:
    """Does the article's claim hold in this wave, as the book shows it (withheld or not computable: no)?"""
    result = ch.claim_results().get(claim_id)
    return result is not None and result.status == claims.HOLDS


def at_least(ch, proportion: Proportion, share: float, *, strictly: bool = False) -> bool:
    """Is the share at least (`strictly`: more than) `share`, as far as the wave knows it (a reconstructed one:
    over its whole range; a withheld one: no)?"""
    if ch.plain(proportion) is None:
        known = getattr(proportion, "known", None)
        if known is None or not known.has_range:
            return False
        value = known.low
    else:
        value = proportion.share
    return value > share if strictly else value >= share


def first(ch, question_id: str, code: str) -> bool:
    """Is `code` the published first of the question's answers (the article's rank, in a reconstructed wave)?"""
    ranked = ch.ranking(question_id)
    if not ranked or ranked[0] != code:
        return False
    known = ch.rank_known(question_id, [code])
    return not known.reconstructed or (known.has_range and known.high == 1)


def _label(ch, question_id: str, code: str) -> str:
    return ch.question(question_id).label(code)


def _not_asked(ch, *question_ids: str) -> Finding | None:
    missing = [q for q in question_ids if ch.unavailable(q)]
    if not missing:
        return None
    return Finding(f"Not asked in the {ch.meta.wave} survey.", ch.not_asked_sentence(*missing))


def sales(ch) -> Finding:
    """Sales in assessment: "dominates" only when first and named by at least half; else "most common"; else not first."""
    if missing := _not_asked(ch, "most_important"):
        return missing
    important = ch.share("most_important", ["sales"])
    financial = ch.share("most_important", ch.question("most_important").codes_in_group("financial"))
    if first(ch, "most_important", "sales"):
        dominant = holds(ch, "conclusion_depends_on_sales") and at_least(ch, important, DOMINANT)
        headline = "Sales dominates assessment." if dominant else "Sales is the factor most often named as most important."
        text = [f"{ch.said(important, article='Nearly 60%')} of key account managers say sales is the most important "
                "factor in how their performance is assessed, and counting every financial outcome, "
                f"{ch.said(financial, article='three quarters')} of respondents are judged mainly on financial results"]
    else:
        ranked = ch.ranking("most_important")
        top = ranked[0] if ranked else None
        headline = (f"Sales is no longer the factor most often named as most important, as it was in the "
                    f"{ch.article_wave} survey." if ch.later_wave else "Sales is not the factor most often named as most important.")
        text = [f"{ch.said(important)} of key account managers say sales is the most important factor in how their "
                "performance is assessed"]
        if top is not None:
            text.append(f"the factor named most often is ‘{_label(ch, 'most_important', top)}’ "
                        f"({ch.said(ch.share('most_important', [top]))})")
    return Finding(headline, phrasing.sentences(text))


#: "much starker": the financial share of the most important factor is at least this multiple of the share that
#: sales and customer profitability make of all the bases of assessment mentioned
STARKER = 1.5
#: the financial bases the article counts in "one third" of the mentions
_BASIS_FINANCIAL = ["sales", "customer_profitability"]


def starker(ch) -> bool:
    """Is the emphasis on financial results much starker when one factor is asked for than across every basis named?
    By the numbers: the most important factor's financial share (its low end, where reconstructed) is at least
    `STARKER` times the financial share of the bases mentioned (its high end: where reconstructed with no stored
    range, the most the article's "one third" allows, and only if that claim holds as the book shows it)."""
    if ch.unavailable("most_important") or ch.unavailable("assessment_basis"):
        return False
    important = ch.share("most_important", ch.question("most_important").codes_in_group("financial"))
    basis = ch.mention_share("assessment_basis", _BASIS_FINANCIAL)
    if isinstance(basis, Withheld) or not basis.base:
        return False
    if ch.plain(basis) is not None:
        basis_high = basis.share
    elif getattr(basis, "known", None) is not None and basis.known.has_range:
        basis_high = float(basis.known.high)
    elif holds(ch, "assessment_financial_one_third"):
        basis_high = ch.claim_results()["assessment_financial_one_third"].claim.allowed.max
    else:
        return False
    return at_least(ch, important, STARKER * basis_high)


def should_include(ch) -> Finding:
    """What should be assessed: first factor, and whether any financial outcome is among the five named most often."""
    if missing := _not_asked(ch, "should_include"):
        return missing
    question = ch.question("should_include")
    ranked = ch.ranking("should_include", percent_of=tabulate.MENTIONS)
    if not ranked:
        return Finding("No ranking of what should be assessed.", "No factor can be ranked first in this survey.")
    top = ranked[0]
    financial = question.codes_in_group("financial")
    top_share = ch.plain(ch.mention_share("should_include", [top]))
    headline = ("Key account managers would assess something else." if top not in financial
                else "Key account managers would still assess results.")
    text = f"Asked what should count, they put {question.label(top).lower()} first"
    if top_share is not None:
        text += f" ({top_share} of all the factors mentioned)"
    if holds(ch, "should_include_financial_not_top5"):
        text += ", and no financial outcome is among the five factors they name most often"
        best = ch.best_rank("should_include", financial, percent_of=tabulate.MENTIONS)
        if best is not None and not ch.rank_known("should_include", financial).reconstructed:
            text += f": the first comes only {phrasing.ordinal(best[1])}"
    else:
        best = ch.best_rank("should_include", financial, percent_of=tabulate.MENTIONS)
        if best is not None and not ch.rank_known("should_include", financial).reconstructed:
            text += (f", and a financial outcome, {question.label(best[0]).lower()}, comes "
                     f"{phrasing.ordinal(best[1])}")
    return Finding(headline, phrasing.sentences([text]))


def reflects(ch) -> Finding:
    """Whether the approach reflects the job: most agree or most disagree (a majority is checked first, so 60%
    against 30% is not "split"), else split, else many undecided."""
    if missing := _not_asked(ch, "reflects_job"):
        return missing
    question = ch.question("reflects_job")
    agree = ch.share("reflects_job", question.codes_in_group("agree"))
    disagree = ch.share("reflects_job", question.codes_in_group("disagree"))
    shown = [p for p in (agree, disagree) if not isinstance(p, Withheld)]
    if at_least(ch, agree, DOMINANT, strictly=True):
        headline = "Most say their organisation's approach fits the job."
    elif at_least(ch, disagree, DOMINANT, strictly=True):
        headline = "Most say their organisation's approach does not fit the job."
    elif at_least(ch, agree, SPLIT) and at_least(ch, disagree, SPLIT):
        headline = "Opinion is split on whether the approach fits the job."
    elif len(shown) < 2:
        headline = "Views differ on whether their organisation's approach fits the job."
    else:
        headline = "Many are undecided whether their organisation's approach fits the job."
    parts = []
    if agree in shown:
        parts.append(f"{ch.said(agree, article='half')} agree")
    if disagree in shown:
        parts.append(f"{ch.said(disagree, article='a third')} disagree")
    text = [f"Asked whether their organisation's approach reflects their job, {' and '.join(parts)}"] if parts else []
    if len(shown) < 2:
        text.append(f"the {'shares' if not shown else 'other share'} {'are' if not shown else 'is'} withheld to protect "
                    "small groups of respondents")
    return Finding(headline, phrasing.sentences(text))


def rewards(ch) -> Finding:
    """How rewards are calculated and paid: "mostly cash for sales" only when both come first and each is named by at
    least `DOMINANT` (over the whole range, in a reconstructed wave), else whichever of the two still holds."""
    asked = [q for q in ("reward_basis", "rewarded_with") if not ch.unavailable(q)]
    if not asked:
        return _not_asked(ch, "reward_basis", "rewarded_with")
    on_sales = "reward_basis" in asked and first(ch, "reward_basis", "sales")
    cash = "rewarded_with" in asked and first(ch, "rewarded_with", "bonus_cash")
    mostly = (on_sales and cash and at_least(ch, ch.share("reward_basis", ["sales"]), DOMINANT)
              and at_least(ch, ch.share("rewarded_with", ["bonus_cash"]), DOMINANT))
    if mostly:
        headline = "Rewards are mostly cash for sales."
    elif on_sales and cash:
        headline = "A cash bonus is the most common reward, and sales the most common basis for it."
    elif cash:
        headline = "A cash bonus is the most common reward."
    elif on_sales:
        headline = "Rewards are most often calculated on sales."
    else:
        headline = (f"Rewards are no longer mostly cash for sales, as they were in the {ch.article_wave} survey."
                    if ch.later_wave else "Rewards are not mostly cash for sales.")
    text = []
    if "reward_basis" in asked:
        text.append(share_clause(ch, ch.share("reward_basis", ["sales"]), "two thirds",
                                 "have their reward calculated on sales", "for {}, the reward is calculated on sales"))
    if "rewarded_with" in asked:
        cash_words = share_clause(ch, ch.share("rewarded_with", ["bonus_cash"]), "nearly three-quarters",
                          "are rewarded with a cash bonus", "a cash bonus is the reward of {}")
        recognition = ch.plain(ch.share("rewarded_with", ["recognition"]))
        if recognition is not None:
            cash_words += f", against {recognition} with recognition"
        text.append(cash_words)
    text = [" and ".join(text)]
    if len(asked) < 2:
        text.append(ch.not_asked_sentence(*[q for q in ("reward_basis", "rewarded_with") if q not in asked]))
    return Finding(headline, phrasing.sentences(text))


def share_clause(ch, proportion: Proportion, article: str, verb: str, quoted: str, *, detail: str = "pct") -> str:
    """A clause saying how many `verb`, worded so that the article's quoted words never open a sentence (a capital
    inside the quote would misquote it) and a withheld share is said as withheld, never as a broken noun phrase:
    "59% `verb`"; `quoted` with the article's words in place of `{}`; "how many `verb` is withheld to protect
    small groups of respondents"."""
    if isinstance(proportion, Withheld):
        return f"how many {verb} is withheld to protect small groups of respondents"
    words = ch.said(proportion, article=article, detail=detail)
    return quoted.format(words) if words.startswith("‘") else f"{words} {verb}"


def downsides(ch) -> Finding:
    """The downsides named most often: the top two as a pair where only the pair is known, else the first."""
    if missing := _not_asked(ch, "downsides"):
        return missing
    question = ch.question("downsides")
    ranked = ch.ranking("downsides")
    if not ranked:
        return Finding("No downside stands out.", "No downside can be ranked first in this survey.")
    pair_known = holds(ch, "downsides_top_two")
    top = ranked[0]
    if ch.rank_known("downsides", [top]).reconstructed:
        if not pair_known:  # the first is the reconstruction's choice: no rank is a finding
            return Finding("Key account managers name several downsides.",
                           "Which downside is named most often is not published, so this edition "
                           "ranks none of them.")
        pair = [c for c in question.codes() if c in ranked[:2]]  # the article's order: it ranks them together
        return Finding(_downside_headline(ch, pair, published_pair=True),
                       phrasing.sentences([f"The downsides named most often are {_quoted_labels(ch, pair)}"]))
    share = ch.plain(ch.share("downsides", [top]))
    text = f"‘{question.label(top)}’ tops the list of downsides" + (f" ({share} of respondents)" if share else "")
    if len(ranked) > 1:
        second = ch.plain(ch.share("downsides", [ranked[1]]))
        text += f", ahead of ‘{question.label(ranked[1])}’" + (f" ({second})" if second else "")
    return Finding(_downside_headline(ch, [top]), phrasing.sentences([text]))


#: "the approach is seen to" have a downside: first, and named by at least this share
SEEN_BY = 0.25


def _downside_headline(ch, top: list[str], *, published_pair: bool = False) -> str:
    """The lead of the downsides finding: the article's first concern if it is (among) the top and named by at least
    `SEEN_BY` (in a reconstructed wave whose share is not published: the article's own top pair), else the top one."""
    share = ch.share("downsides", ["overemphasises_sales"])
    seen = at_least(ch, share, SEEN_BY) or (published_pair and ch.plain(share) is None)
    if "overemphasises_sales" in top and seen:
        return "The approach is seen to overemphasise short-term sales."
    return f"‘{ch.question('downsides').label(top[0])}’ is the downside named most often."


def _quoted_labels(ch, codes: list[str]) -> str:
    question = ch.question("downsides")
    return phrasing.list_words([f"‘{question.label(c)}’" for c in codes])


def key_findings(ch) -> dict[str, Finding]:
    """The landing page's key findings, in its order, by the name each is glued under."""
    return {"kf_sales": sales(ch), "kf_should": should_include(ch), "kf_reflects": reflects(ch),
            "kf_rewards": rewards(ch), "kf_downsides": downsides(ch)}


def conclusions(ch) -> dict[str, str]:
    """The evidence in this wave's data for each of the article's six conclusions, by the name it is glued under.

    The conclusions themselves are the article's words (the page quotes them); the evidence is this wave's, in
    sentences chosen by the data like the key findings', numbers said as the wave knows them.
    """
    return {"conc_sales": sales(ch).text, "conc_bonus": _bonus_evidence(ch), "conc_balance": _balance_evidence(ch),
            "conc_positioning": _positioning_evidence(ch), "conc_distinct": _distinct_evidence(ch),
            "conc_recognition": _recognition_evidence(ch)}


def _bonus_evidence(ch) -> str:
    parts = [rewards(ch).text]
    if not ch.unavailable("downsides"):
        parts.append(downsides(ch).text)
    return " ".join(parts)


def _balance_evidence(ch) -> str:
    return " ".join(finding.text for finding in (reflects(ch), should_include(ch)))


def _positioning_evidence(ch) -> str:
    """Rewarded on sales (salespeople) or on the company's results (the management team), as far as the wave knows."""
    if missing := _not_asked(ch, "reward_basis"):
        return missing.text
    on_sales = ch.share("reward_basis", ["sales"])
    company_share = ch.share("reward_basis", ["company_performance"])
    company = ch.plain(company_share)
    text = share_clause(ch, on_sales, "two thirds", "have their reward calculated on sales",
                "for {}, the reward is calculated on sales")
    if company is not None:
        text += f", against {company} on the company's overall results"
    elif isinstance(company_share, Withheld) or not company_share.base:
        text += ("; how many are rewarded on the company's overall results is withheld to protect small groups of "
                 "respondents" if isinstance(company_share, Withheld) else "")
    else:
        text += f"; {ch.the_article} gives no figure for the company's overall results"
    return phrasing.sentences([text])


def _distinct_evidence(ch) -> str:
    """How many get a bonus of 40% or more, which the article calls more commonly a model for salespeople. A
    reconstructed share is the article's whole phrase (its base is its own), a withheld one is said as withheld."""
    if missing := _not_asked(ch, "bonus_size"):
        return missing.text
    top = ch.share("bonus_size", ["40_plus"])
    band = ch.question("bonus_size").label("40_plus")
    model = f"{'' if ch.later_wave else 'more commonly '}a model for salespeople"
    if isinstance(top, Withheld):
        return phrasing.sentences([f"How many of those with a cash bonus receive a bonus of {band} of salary, which "
                                   f"{ch.the_article} calls {model}, is withheld to protect small groups of "
                                   "respondents"])
    words = ch.said(top, article="the few who receive 40%+ bonus on sales", detail="fraction")
    if words.startswith("‘"):
        return phrasing.sentences([f"{ch.the_article} speaks of {words}, which it calls {model}"])
    return phrasing.sentences([f"{words} of those with a cash bonus receive a bonus of {band} of salary, which "
                               f"{ch.the_article} calls {model}"])


#: "only" so many are rewarded with recognition: fewer than this fraction of those rewarded with bonus cash
FEW_BESIDE = 0.5


def _recognition_evidence(ch) -> str:
    """Recognition against bonus cash, compared as the numbers fall ("only" where recognition is far behind)."""
    if missing := _not_asked(ch, "rewarded_with"):
        return missing.text
    recognition_share = ch.share("rewarded_with", ["recognition"])
    cash_share = ch.share("rewarded_with", ["bonus_cash"])
    recognition = ch.plain(recognition_share)
    cash = share_clause(ch, cash_share, "nearly three-quarters", "are rewarded with bonus cash",
                "bonus cash is the reward of {}")
    if recognition is None:
        why = ("how many with recognition is withheld to protect small groups of respondents"
               if isinstance(recognition_share, Withheld) else f"{ch.the_article} gives no figure for recognition")
        return phrasing.sentences([f"{cash}; {why}"])
    rewarded = f"{recognition} report being rewarded with recognition"
    if ch.plain(cash_share) is None:
        return phrasing.sentences([f"{rewarded}; {cash}"])
    cash_pct = ch.plain(cash_share)
    if recognition_share.share > cash_share.share:
        return phrasing.sentences([f"{rewarded}, more than the {cash_pct} rewarded with bonus cash"])
    if recognition_share.share < FEW_BESIDE * cash_share.share:
        return phrasing.sentences([f"only {rewarded}, against {cash_pct} with bonus cash"])
    return phrasing.sentences([f"{rewarded}, against {cash_pct} with bonus cash"])


def glue_findings(ch, found: dict[str, Finding]) -> None:
    """Glue each finding's headline (`<name>_head`) and text (`<name>_text`, its last full stop left for the page
    to place after a figure reference), and record what they are."""
    for name, finding in found.items():
        ch.meanings[name] = {"kind": "finding"}
        ch.glue(f"{name}_head", finding.headline)
        ch.glue(f"{name}_text", phrasing.unended(finding.text))


def glue_conclusions(ch, found: dict[str, str]) -> None:
    """Glue each conclusion's evidence (`<name>`, open like a finding's text)."""
    for name, text in found.items():
        ch.meanings[name] = {"kind": "finding"}
        ch.glue(name, phrasing.unended(text))


def describe(found: dict[str, Any]) -> str:
    """The findings as plain text (for tests and the briefing): one per line, headline then text."""
    return "\n".join(f"{f.headline} {f.text}".strip() for f in found.values())
