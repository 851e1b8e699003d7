"""What a chapter computes from: its wave, each question's table, shares, rankings and sector breakdowns.

The base of `kamsurvey.report.chapter.Chapter`; the other concerns (glue, figures, notes,
claims) build on these methods. Each table, breakdown and subset is computed once per chapter
and handed out as a copy where a caller could change it: with a million respondents a subset
costs a tenth of a second and is asked for dozens of times.

A later wave may leave a question out or have nobody in a sector. Nothing here raises for
that: a share is `Unavailable`, glued as its marker (`NOT_ASKED`, `NO_RESPONDENTS`), never as
a number.

Every number shown comes from one published-table object per question (`published`,
`kamsurvey.analysis.published`): the small-base policy runs once over a question's whole-sample
and per-sector tables together, before anything is drawn or glued. A share resting on a withheld
cell is `Withheld`, glued as the mark; a rank no withheld cell could change is the only rank given.

How each number is known (`published.Provenance`, from the wave's ranges.yml when it is
reconstructed) travels with it: every `Share` carries its `known` (class and range), and
`mean_known`, `rank_known`, `base_known`, `count_known` and `comparison_known` give the class of
every other number a chapter glues. The glue records it in `meanings[name]["provenance"]` (and
the range) and words a reconstructed number accordingly (`chapter_glue`); a wave of original
answers has every number `ORIGINAL`, and nothing in its pages is marked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from kamsurvey.analysis import policy, published as publishing, tabulate
from kamsurvey.analysis.stats import Comparison, Proportion, compare_proportions
from kamsurvey.data.codebook import Question
from kamsurvey.data.waves import PRELOADED, Wave, load_wave
from kamsurvey.report import phrasing

SECTOR = "sector"
SECTORS = ("pharma", "other")
#: the wave the article reports: its claims ledger is data/claims/<ARTICLE_WAVE>.yml, and in any other wave's
#: edition the article's judgements are attributed to "the 2022 article"
ARTICLE_WAVE = "2022"
# what the text prints in place of a number this wave does not have
NOT_ASKED = "[not asked]"
NO_RESPONDENTS = "[no respondents]"
NO_RANK = "[none]"
# why a per-sector figure is withheld (the small-base policy's smallest publishable cell)
SMALL_CELLS = f"cells of fewer than {phrasing.number_words(policy.MIN_CELL)} respondents"
#: The questions the book publishes by sector (a figure, a test, a sector share, a claim of the ledger).
#: Their whole-sample tables share margins with the sector tables, so the small-base policy runs over
#: both together, and every chapter must know which they are, not only the one drawing the breakdown.
#: Asking any other question by sector raises (`SectorBreakdownError`).
SECTOR_BREAKDOWNS = ("reflects_job", "reward_basis", "bonus_size")



class ArticleWordsError(ValueError):
    """Words given as the article's (for a number, or in a figure's title) are not in the claims ledger entries they
    are said to come from."""

class SectorBreakdownError(ValueError):
    """A number by sector was asked of a question whose tables are not suppressed as a breakdown."""


@dataclass(frozen=True)
class Unavailable(Proportion):
    """A share this wave cannot give: glued as its marker (`why`), never as a number."""

    why: str = NOT_ASKED


@dataclass(frozen=True)
class Withheld(Proportion):
    """A share resting on a withheld cell: its base is published, its count is not (`count` is 0, not the count)."""

    why: str = policy.SUPPRESSED_MARK

    @property
    def share(self) -> float:
        return math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return (math.nan, math.nan)


@dataclass(frozen=True)
class Share(Proportion):
    """A share with what it is of: the options, the group (`publishing.ALL` or a sector) and the denominator,
    and how it is known (`known`: published by the article, a choice of the reconstruction, or original).

    What a glued number means, for the attacker in `tests/test_disclosure.py`.
    """

    question: str = ""
    codes: tuple[str, ...] = ()
    group: str = publishing.ALL
    percent_of: str = tabulate.RESPONDENTS
    known: publishing.Known = publishing.ORIGINAL_KNOWN


@dataclass
class ChapterData:
    """The current wave (and optionally the wave it is compared with) as one chapter sees it."""

    wave: Wave
    previous: Wave | None = None
    data_dir: Path = Path("data")
    # computed once per chapter: the claim results, the rows of each filter (e.g. a sector),
    # each option table and each per-sector breakdown
    _claims: dict | None = field(default=None, repr=False)
    _shown_claims: tuple | None = field(default=None, repr=False)  # (the computed results, as the book shows them)
    _subsets: dict = field(default_factory=dict, repr=False)
    _published: dict = field(default_factory=dict, repr=False)
    _provenance: publishing.Provenance | None = field(default=None, repr=False)
    _ledger: dict | None = field(default=None, repr=False)
    # what each glued number is of (name -> {"kind": "share" | "mean" | "ranking" | "sector_test", ...}): the
    # glue (and any ranking asked for) records it, so that an audit can read every published number for what it says
    meanings: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, *, wave: str, data_dir: str, compare_with: str = ""):
        current = load_wave(data_dir, wave)
        previous = load_wave(data_dir, compare_with, current.codebook) if compare_with else None
        return cls(wave=current, previous=previous, data_dir=Path(data_dir))

    @property
    def frame(self) -> pd.DataFrame:
        return self.wave.responses

    @property
    def meta(self):
        return self.wave.meta

    @property
    def codebook(self):
        return self.wave.codebook

    def question(self, question_id: str) -> Question:
        return self.codebook[question_id]

    def asked(self, question_id: str) -> bool:
        """False when this wave left the question out: the text then says so."""
        return tabulate.is_present(self.frame, self.question(question_id))

    def unavailable(self, *question_ids: str) -> str | None:
        """NOT_ASKED if this wave left out any of the questions, NO_RESPONDENTS if nobody answered one; else None."""
        if not all(self.asked(q) for q in question_ids):
            return NOT_ASKED
        if any(not tabulate.answered(self.frame, self.question(q)).any() for q in question_ids):
            return NO_RESPONDENTS
        return None

    def questions_asked(self) -> list[Question]:
        return [q for q in self.codebook if self.asked(q.id)]

    # -- rows, tables and shares -----------------------------------------------------------
    def subset(self, within: Mapping[str, str] | None) -> pd.DataFrame:
        """Rows of the respondents who gave each `question: option` of `within` (shared: do not modify).

        A wave preloaded before this process forked (`PRELOADED`) brings the rows taken then.
        """
        if not within:
            return self.frame
        key = tuple(within.items())
        if key not in self._subsets:
            preloaded = PRELOADED.subsets.get((self.wave.key, key)) if self.wave.key is not None else None
            self._subsets[key] = preloaded if preloaded is not None else tabulate.within(self.frame, self.codebook, within)
        return self._subsets[key]

    def subsets_taken(self) -> dict[tuple, pd.DataFrame]:
        """The rows of each filter this chapter has taken so far, by filter (what a kernel server preloads)."""
        return dict(self._subsets)

    # -- the article --------------------------------------------------------------------------
    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "claims" / f"{ARTICLE_WAVE}.yml"

    def ledger(self) -> dict:
        """The article's claims ledger, by id, in the ledger's order (read once per chapter)."""
        if self._ledger is None:
            from kamsurvey.analysis import claims

            self._ledger = {claim.id: claim for claim in claims.load_claims(self.ledger_path, self.codebook)}
        return self._ledger

    @property
    def article_wave(self) -> str:
        return ARTICLE_WAVE

    @property
    def later_wave(self) -> bool:
        """Is this a wave other than the article's? Its text then attributes the article's judgements to the 2022 article."""
        return str(self.meta.wave) != ARTICLE_WAVE

    @property
    def fieldwork_between(self) -> str:
        """The fieldwork in the house style: "between July and September 2022"."""
        return phrasing.date_span(self.meta.fieldwork_start, self.meta.fieldwork_end)

    @property
    def the_article(self) -> str:
        """How the text names the article: "the article" in its own wave's edition, "the 2022 article" in any other."""
        return "the article" if str(self.meta.wave) == ARTICLE_WAVE else f"the {ARTICLE_WAVE} article"

    # -- how each number is known --------------------------------------------------------------
    @property
    def provenance(self) -> publishing.Provenance:
        """How this wave's numbers are known: its stored ranges if reconstructed, else original (nothing marked)."""
        if self._provenance is None:
            self._provenance = publishing.Provenance.of_wave(self.data_dir, self.meta)
        return self._provenance

    @property
    def reconstructed(self) -> bool:
        """Is this wave a reconstruction (some of its numbers the reconstruction's choice, not findings)?"""
        return self.provenance.reconstructed

    def mean_known(self, question_id: str) -> publishing.Known:
        return self.provenance.mean(question_id)

    def rank_known(self, question_id: str, codes: Iterable[str]) -> publishing.Known:
        """How the (best) rank of `codes` among the question's answers is known."""
        return self.provenance.rank(question_id, codes)

    def count_known(self, question_id: str, code: str, group: str = publishing.ALL) -> publishing.Known:
        return self.provenance.count(question_id, code, group)

    def base_known(self, question_id: str, group: str = publishing.ALL) -> publishing.Known:
        return self.provenance.base(self.question(question_id), group)

    def comparison_known(self, question_id: str, codes: Iterable[str]) -> publishing.Known:
        """A difference between the sectors and its test: they rest on both sectors' shares and sizes."""
        codes = list(codes)
        return publishing.combined(*(self.provenance.share(question_id, codes, sector) for sector in SECTORS),
                                   *(self.base_known(question_id, sector) for sector in SECTORS))

    def shows_findings(self, question_id: str, group: str = publishing.ALL) -> bool:
        """May the question's table in `group` be presented as a finding? Not when a reconstructed wave's
        table holds no number the article pins down (every value in it is the reconstruction's choice)."""
        table = self.published(question_id)
        return group in {g.code for g in table.groups} and table.presents_findings(group)

    # -- the published tables -----------------------------------------------------------------
    def published(self, question_id: str) -> publishing.PublishedTable:
        """The question's published-table object: counted and suppressed once per chapter, before any use."""
        if question_id not in self._published:
            question = self.question(question_id)
            by = SECTOR if question_id in SECTOR_BREAKDOWNS and question_id != SECTOR else None
            self._published[question_id] = publishing.publish(self.frame, self.codebook, question, wave=self.meta.wave,
                                                              by=by, subset=self.subset, provenance=self.provenance)
        return self._published[question_id]

    def _group(self, question_id: str, within: Mapping[str, str] | None) -> str:
        """The published group a filter names: the whole sample, or a sector of a declared breakdown."""
        if not within:
            return publishing.ALL
        if set(within) != {SECTOR}:
            raise SectorBreakdownError(f"the book publishes {question_id} by {SECTOR} only, not by {', '.join(within)}")
        if question_id not in SECTOR_BREAKDOWNS:
            raise SectorBreakdownError(
                f"{question_id} is not published by sector: add it to chapter_data.SECTOR_BREAKDOWNS, so that its "
                "whole-sample table is suppressed together with its sector tables in every chapter")
        return within[SECTOR]

    def table(self, question_id: str, *, percent_of: str = tabulate.RESPONDENTS,
              within: Mapping[str, str] | None = None) -> pd.DataFrame:
        """The table as it may be shown: options offered in this wave, withheld cells blank, the low-base flag.

        `within={sector: code}` gives one sector's table (of a question in `SECTOR_BREAKDOWNS`);
        a sector with nobody in it, or a breakdown not published, gives an empty table.
        """
        group = self._group(question_id, within)
        table = self.published(question_id)
        if group not in {g.code for g in table.groups}:
            empty = pd.DataFrame(columns=publishing.VIEW_COLUMNS)
            empty.attrs.update(question=question_id, percent_of=percent_of, respondents=0, group=group)
            return empty
        return table.view(group, percent_of=percent_of)

    def share(self, question_id: str, codes: Iterable[str], *, within: Mapping[str, str] | None = None) -> Proportion:
        """The share of respondents choosing any of `codes` (in a sector): `Withheld` if it rests on a withheld cell."""
        codes = list(codes)
        if not all(self.asked(q) for q in (question_id, *(within or {}))):
            return Unavailable(0, 0)
        group = self._group(question_id, within)
        raw = tabulate.share_of_respondents(self.subset(within), self.question(question_id), codes)
        if raw.base and question_id in SECTOR_BREAKDOWNS and self.published(question_id).withholds(codes, [group]):
            return Withheld(0, raw.base)
        return Share(raw.count, raw.base, question=question_id, codes=tuple(codes), group=group,
                     known=self.provenance.share(question_id, codes, group))

    def mention_share(self, question_id: str, codes: Iterable[str]) -> Proportion:
        codes = list(codes)
        if not self.asked(question_id):
            return Unavailable(0, 0)
        raw = tabulate.share_of_mentions(self.frame, self.question(question_id), codes)
        if raw.base and self.published(question_id).withholds(codes):
            return Withheld(0, raw.base)
        return Share(raw.count, raw.base, question=question_id, codes=tuple(codes), percent_of=tabulate.MENTIONS,
                     known=self.provenance.share(question_id, codes, publishing.ALL, tabulate.MENTIONS))

    def share_from_every_group(self, question_id: str, groups: Iterable[str]) -> Proportion:
        """Respondents choosing from every group of options: a count of respondents, not of cells, so
        withheld whenever the question's whole-sample table withholds anything."""
        if not self.asked(question_id):
            return Unavailable(0, 0)
        groups = list(groups)
        raw = tabulate.share_choosing_from_every_group(self.frame, self.question(question_id), groups)
        if raw.base and self.published(question_id).any_withheld():
            return Withheld(0, raw.base)
        return Share(raw.count, raw.base, question=question_id, codes=(), group=publishing.ALL,
                     known=self.provenance.every_group(question_id, groups))

    def share_of(self, question_id: str, codes: list[str], percent_of: str) -> Proportion:
        """The share of respondents, or of mentions, as `percent_of` says."""
        return self.mention_share(question_id, codes) if percent_of == tabulate.MENTIONS else self.share(question_id, codes)

    def mean_choices(self, question_id: str) -> float:
        """Options ticked per respondent: the whole sample's mentions over its base, both published."""
        return tabulate.mean_choices(self.frame, self.question(question_id))

    # -- rankings ------------------------------------------------------------------------
    def ranking(self, question_id: str, *, percent_of: str = tabulate.RESPONDENTS) -> list[str]:
        """Option codes from most to least chosen; empty when the question has no answers in this wave.

        The answers of a multi-select question only: its exclusive option ('none', 'nothing')
        is not one of them, and the text reports its share on its own. Only as far as no withheld
        cell could change the order (`PublishedTable.ranking`): `rank_withheld` says where it stops.
        The order is the same for shares of respondents and of mentions (`percent_of` is kept for
        the callers that say which they quote).
        """
        if self.unavailable(question_id):
            return []
        table = self.published(question_id)
        answers = table.cells[table.cells["group_code"] == publishing.ALL]
        if self.question(question_id).is_multi:
            answers = answers[~answers["exclusive"]]
        ranked = table.ranking() if int(answers["count"].sum()) > 0 else []
        # whatever part of it a page then names, the order is what a reader may learn
        self.meanings[f"ranking:{question_id}"] = {"kind": "ranking", "question": question_id, "order": list(ranked)}
        return ranked

    def rank_withheld(self, question_id: str, rank: int) -> bool:
        """Is the option at `rank` unknown to readers because a withheld cell could hold that place?"""
        if self.unavailable(question_id):
            return False
        table = self.published(question_id)
        return len(table.ranking()) < rank <= table.full_rank_count()

    def best_rank(self, question_id: str, codes: Iterable[str], *, percent_of: str = tabulate.RESPONDENTS) -> tuple[str, int] | None:
        """The best placed of `codes` and its rank (1 = most chosen), or None when none of them is ranked."""
        ranked = self.ranking(question_id, percent_of=percent_of)
        placed = [c for c in codes if c in ranked]
        if not placed:
            return None
        best = min(placed, key=ranked.index)
        return best, ranked.index(best) + 1

    def top_label(self, question_id: str, rank: int = 1, *, percent_of: str = tabulate.RESPONDENTS) -> str:
        """The label of the option at `rank` (1 = most chosen), or the marker saying why there is none."""
        ranked = self.ranking(question_id, percent_of=percent_of)
        if len(ranked) < rank:
            if self.rank_withheld(question_id, rank):
                return policy.SUPPRESSED_MARK
            return self.unavailable(question_id) or NO_RANK
        return self.question(question_id).label(ranked[rank - 1])

    # -- by sector -----------------------------------------------------------------------
    def sector_comparison(self, question_id: str, codes: Iterable[str]) -> Comparison:
        """Pharma minus other sectors, for the share choosing any of `codes` (computed: callers withhold it)."""
        codes = list(codes)
        question = self.question(question_id)
        self._group(question_id, {SECTOR: "pharma"})

        def raw(code: str) -> Proportion:
            if not all(self.asked(q) for q in (question_id, SECTOR)):
                return Unavailable(0, 0)
            return tabulate.share_of_respondents(self.subset({SECTOR: code}), question, codes)

        return compare_proportions(raw("pharma"), raw("other"))

    def sector_breakdown(self, question_id: str, *, percent_of: str = tabulate.RESPONDENTS) -> pd.DataFrame:
        """Per-sector tables as they may be shown, stacked long (each sector's base and withheld cells)."""
        self._group(question_id, {SECTOR: "pharma"})
        return self.published(question_id).breakdown(percent_of=percent_of)

    def breakdown_note(self, question_id: str) -> str | None:
        """Why the question has no breakdown by sector in this wave (None: it has one)."""
        self._group(question_id, {SECTOR: "pharma"})
        table = self.published(question_id)
        if table.has_breakdown:
            return None
        if table.too_small:
            return (f"not shown by sector: fewer than {phrasing.number_words(policy.MIN_CELL)} respondents in "
                    f"{phrasing.list_words(table.too_small)} would be identifiable")
        return f"not shown by sector: the {self.meta.wave} survey has no respondents by sector"

    def reveals_suppressed(self, question_id: str, codes: Iterable[str], sectors: Iterable[str] = SECTORS) -> bool:
        """Would printing per-sector shares for `codes` give away a withheld cell?

        True when any of the options' cells in `sectors` is withheld, or the breakdown is not
        published: a combined share (e.g. 20% or more = 20-40% + 40% or more) minus a published
        cell would otherwise recover the withheld one.
        """
        self._group(question_id, {SECTOR: "pharma"})
        table = self.published(question_id)
        return not table.has_breakdown or table.withholds(list(codes), list(sectors))
