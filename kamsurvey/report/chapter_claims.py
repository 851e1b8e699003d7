"""The article's claims, re-tested on a chapter's wave: results, the reproduction-check table, withheld values.

The claims ledger (`data/claims/2022.yml`) is the 2022 article's; every edition re-tests it on
its own wave (`kamsurvey.analysis.claims`). What that proves depends on the wave (`check_scope`):
a reconstructed wave was built to satisfy these statements, so "holds" confirms the pipeline,
not the article; any other wave re-tests the 2022 findings. The table's rows follow the
article's reading order (`READING_ORDER`), name options by their labels, and say of a statement
that holds on any data (the ledger's `vacuous`) that it does (`HOLDS_ANYWAY`), and of a difference between
the sectors that a reconstructed wave cannot test that only its direction holds (`DIRECTION_ONLY`).
"""

from __future__ import annotations

import hashlib
import re
from fractions import Fraction

import pandas as pd

from kamsurvey.analysis import claims, policy
from kamsurvey.data.waves import PRELOADED
from kamsurvey.report import phrasing
from kamsurvey.report.chapter_data import ARTICLE_WAVE, SECTOR_BREAKDOWNS, SMALL_CELLS, ChapterData

CLAIMS_WAVE = ARTICLE_WAVE
#: the verdict of a claim whose value rests on a withheld cell
WITHHELD = "withheld"
#: the verdict shown for a statement that holds on any data (the ledger's `vacuous`): it tests nothing
HOLDS_ANYWAY = "holds on any data"
#: the verdict of a difference between pharma and other sectors (the ledger's `test`) in a reconstructed wave: the
#: split between the sectors is the reconstruction's choice, so only the direction is checked, and nothing tested
DIRECTION_ONLY = "direction holds; not tested"
#: The article's statements in the order a reader meets them (its sections in print order, and within a section
#: the order of its sentences); the ledger groups them by question instead. A statement the ledger adds later and
#: this list does not name follows, in the ledger's order. tests/test_reproduction_order.py checks it against the
#: article's text.
READING_ORDER = (
    "ten_questions", "pharma_strongly_represented",
    "sample_size", "fieldwork_dates", "targets_mix", "targets_individual_quantitative_most_common",
    "targets_individual_quantitative_c20", "targets_none_a_few", "assessment_mean_3_5", "assessment_financial_one_third",
    "assessment_inputs_further_third", "assessment_other_last_third", "assessment_sales_80",
    "most_important_sales_nearly_60", "most_important_profitability_16", "most_important_financial_three_quarters",
    "should_include_mean_4", "should_include_financial_almost_disappear", "should_include_financial_not_top5",
    "should_include_top5_within_control", "should_include_top5_named", "should_include_relationship_18",
    "should_include_feedback_13", "should_include_behaviour_13", "should_include_plan_12", "should_include_activities_11",
    "should_include_others_33", "reflects_job_half_agree", "reflects_job_third_disagree",
    "reward_basis_sales_most_common", "reward_basis_sales_two_thirds", "reward_basis_sales_pharma",
    "reward_basis_not_rewarded_non_pharma_14", "reward_basis_not_rewarded_pharma_none",
    "rewarded_with_bonus_most_common", "rewarded_with_salary_much_less_popular",
    "rewarded_with_bonus_nearly_three_quarters", "rewarded_with_salary_12", "bonus_under_10_quarter",
    "bonus_10_to_20_third", "bonus_10_to_20_more_in_pharma", "bonus_20_plus_similar_number",
    "bonus_20_plus_fewer_in_pharma", "bonus_40_plus_few", "bonus_40_plus_virtually_none_pharma",
    "downsides_mean_1_25", "downsides_top_two", "downsides_third_and_fourth",
    "conclusion_depends_on_sales", "conclusion_bonus_most_common", "conclusion_good_proportion_disagree",
)


def reading_order(claim_ids) -> list[str]:
    """Claim ids in the article's reading order (`READING_ORDER`), any it does not name after, as given."""
    ids = list(claim_ids)
    place = {cid: i for i, cid in enumerate(READING_ORDER)}
    return sorted(ids, key=lambda cid: (place.get(cid, len(place)), ids.index(cid)))
WITHHELD_REASON = f"its value is withheld under the small-base policy ({SMALL_CELLS}, or cells that would reveal them)"


class ChapterClaims(ChapterData):
    """The claims concern of `kamsurvey.report.chapter.Chapter`."""

    def claims_key(self) -> tuple | None:
        """Identity of the claim results of a preloaded wave (`PRELOADED`): the wave's files and the ledger's bytes."""
        if self.wave.key is None:
            return None
        path = self.ledger_path.resolve()
        try:
            ledger = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        return (self.wave.key, str(path), ledger)

    def computed_claim_results(self) -> dict[str, claims.ClaimResult]:
        """Every claim evaluated on this wave, as computed (for the audit and the cache; not for the page)."""
        if self._claims is None:
            key = self.claims_key()
            if key is not None and key in PRELOADED.claim_results:
                self._claims = dict(PRELOADED.claim_results[key])
                return self._claims
            ledger = self.ledger()
            self._claims = {
                cid: claims.evaluate_claim(ledger[cid], self.frame, self.codebook, self.meta, subsets=self.subset)
                for cid in reading_order(ledger)
            }
        return self._claims

    def claim_results(self) -> dict[str, claims.ClaimResult]:
        """The claims as the book may show them: a claim resting on a withheld cell has status `WITHHELD`.

        Its value, the range its words allow and its verdict are all withheld: the verdict
        "holds" beside the range "at most 3%" would say the withheld value is at most 3%.
        """
        computed = self.computed_claim_results()
        if self._shown_claims is None or self._shown_claims[0] is not computed:
            self._shown_claims = (computed, {cid: self._as_published(result) for cid, result in computed.items()})
        return dict(self._shown_claims[1])

    def _as_published(self, result: claims.ClaimResult) -> claims.ClaimResult:
        if result.status in (claims.CANNOT_COMPUTE, WITHHELD) or not self.claim_value_withheld(result.claim):
            return result
        return claims.ClaimResult(result.claim, WITHHELD, allowed_text=policy.SUPPRESSED_MARK, reason=WITHHELD_REASON)

    def claim_value_withheld(self, claim: claims.Claim) -> bool:
        """Does the claim's value rest on a withheld cell, so that its value, range and verdict would reveal it?

        Shares (and differences of shares) rest on their options' cells in their group; ranks on
        every cell of the group, unless the ranks they name are above anything a withheld cell
        could hold (`PublishedTable.ranking`); a share choosing from every group of options on
        the whole group. A mean rests on the published totals only.
        """
        question_id = claim.question
        if question_id is None or not self.asked(question_id):
            return False
        versus = dict(claim.versus or {})
        group = self._group(question_id, claim.within)
        other = self._group(question_id, versus.get("within", claim.within))
        if question_id not in SECTOR_BREAKDOWNS:
            return False
        table = self.published(question_id)
        question = self.question(question_id)
        measure = claim.measure
        if measure in ("share_of_respondents", "share_of_mentions"):
            return table.withholds(_named_codes(claim, question), [group])
        if measure == "share_difference":
            second = versus if any(versus.get(key) is not None for key in claims.SELECTORS) else _selectors(claim)
            return (table.withholds(_named_codes(claim, question), [group])
                    or table.withholds(_named_codes(second, question), [other]))
        if measure == "share_from_every_group":
            return table.any_withheld(group)
        if measure == "rank":
            return len(table.ranking(group)) < (claim.ranks or (1, 1))[1]
        if measure in ("not_in_top", "all_in_group"):
            return len(table.ranking(group)) < int(claim.top)
        return False

    def claims_table(self) -> pd.DataFrame:
        """The reproduction check: every claim of the article, its value in this wave and its verdict.

        Rows in the article's reading order, options by their labels. A claim resting on a withheld
        cell shows neither its value, nor the range its words allow, nor its verdict; a claim that
        holds on any data (the ledger's `vacuous`) says so in its verdict, and so does a difference between the
        sectors that a reconstructed wave does not test (`DIRECTION_ONLY`). Shares are rounded by
        `phrasing.percent`, as on every page.
        """
        rows, previous_words = [], None
        for result in self.claim_results().values():
            withheld = result.status == WITHHELD
            vacuous = result.status == claims.HOLDS and result.claim.vacuous
            untested = result.status == claims.HOLDS and result.claim.test is not None and self.reconstructed
            rows.append({
                "Section": result.claim.section,
                # several claims read from one sentence: the words once, then "(same statement)"
                "The article's words": (SAME_STATEMENT if result.claim.article_words == previous_words
                                        else result.claim.article_words),
                IN_THIS_EDITION: (f"{policy.SUPPRESSED_MARK} withheld ({SMALL_CELLS}, or cells that would "
                                            "reveal them)" if withheld else one_rounding(result.value_text) or result.reason),
                "The words allow": result.allowed_text,
                "Verdict": HOLDS_ANYWAY if vacuous else DIRECTION_ONLY if untested else result.status,
            })
            previous_words = result.claim.article_words
        return pd.DataFrame(rows)

    def check_scope(self) -> str:
        """What the reproduction check proves for this wave, in two sentences for its page."""
        if self.reconstructed:
            return ("This edition's data was rebuilt from the article's figures so as to satisfy every statement "
                    "below: here ‘holds’ confirms that the book's data and code reproduce the article, not that "
                    "the article's findings are right. When the original answers replace the reconstruction, the "
                    "same check will test the findings themselves.")
        return (f"Each statement of the {ARTICLE_WAVE} article is re-tested on the answers to the {self.meta.wave} survey: "
                "‘holds’ means those answers bear it out. A statement about a difference between pharma and other "
                "sectors holds only where the difference is larger than chance alone would easily produce.")


#: the reproduction check's column of values computed from the edition's data
IN_THIS_EDITION = "In this edition's data"
#: the words of a row read from the same sentence of the article as the row above
SAME_STATEMENT = "(same statement)"


def _selectors(claim: claims.Claim) -> dict:
    return {"options": claim.options, "options_except": claim.options_except, "group": claim.group}


def _named_codes(selectors, question) -> list[str]:
    """The option codes a claim (or its `versus`) names: options, all substantive options but some, or a group."""
    chosen = selectors if isinstance(selectors, dict) else _selectors(selectors)
    if chosen.get("options_except") is not None:
        return [c for c in question.substantive_codes() if c not in set(chosen["options_except"])]
    if chosen.get("group") is not None:
        return question.codes_in_group(chosen["group"])
    return list(chosen.get("options") or [])


_SHARE_TEXT = re.compile(r"(\d+(?:\.\d+)?)% \((\d+) of (\d+)( mentions)?\)")
_POINTS_TEXT = re.compile(r"^[+-]?\d+(?:\.\d+)? points \(")


def one_rounding(text: str) -> str:
    """A computed value's text with every share re-rounded from the counts it quotes, by `phrasing.percent`.

    The claims module words its values with its own formatting ("6.2%" for 7 of 112); the page
    rounds every share one way, half up on the exact value ("6.3%"), to one decimal here. A
    difference of two quoted shares is recomputed from them.
    """
    shares = [Fraction(int(count), int(base)) for _, count, base, _ in _SHARE_TEXT.findall(text)]

    def share(match: re.Match) -> str:
        value = phrasing.percent(Fraction(int(match.group(2)), int(match.group(3))), 1).replace(".0%", "%")
        return f"{value} ({match.group(2)} of {match.group(3)}{match.group(4) or ''})"

    text = _SHARE_TEXT.sub(share, text)
    if _POINTS_TEXT.match(text) and len(shares) == 2:
        difference = phrasing.points(shares[0] - shares[1], 1, signed=True).replace(" percentage points", "").replace(
            " percentage point", "")
        text = _POINTS_TEXT.sub(f"{difference.removesuffix('.0')} points (", text, count=1)
    return text
