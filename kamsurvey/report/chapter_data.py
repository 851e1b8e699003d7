"""What a chapter computes from: its wave, each question's table, shares, rankings and sector breakdowns.

The base of `kamsurvey.report.chapter.Chapter`; the other concerns (glue, figures, notes,
claims) build on these methods. Each table, breakdown and subset is computed once per chapter
and handed out as a copy where a caller could change it: with a million respondents a subset
costs a tenth of a second and is asked for dozens of times.

A later wave may leave a question out or have nobody in a sector. Nothing here raises for
that: a share is `Unavailable`, glued as its marker (`NOT_ASKED`, `NO_RESPONDENTS`), never as
a number.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from kamsurvey.analysis import policy, tabulate
from kamsurvey.analysis.stats import Comparison, Proportion, compare_proportions
from kamsurvey.data.codebook import Question
from kamsurvey.data.waves import PRELOADED, Wave, load_wave
from kamsurvey.report import phrasing

SECTOR = "sector"
SECTORS = ("pharma", "other")
# what the text prints in place of a number this wave does not have
NOT_ASKED = "[not asked]"
NO_RESPONDENTS = "[no respondents]"
NO_RANK = "[none]"
# why a per-sector figure is withheld (the small-base policy's smallest publishable cell)
SMALL_CELLS = f"cells of fewer than {phrasing.number_words(policy.MIN_CELL)} respondents"


@dataclass(frozen=True)
class Unavailable(Proportion):
    """A share this wave cannot give: glued as its marker (`why`), never as a number."""

    why: str = NOT_ASKED


@dataclass
class ChapterData:
    """The current wave (and optionally the wave it is compared with) as one chapter sees it."""

    wave: Wave
    previous: Wave | None = None
    data_dir: Path = Path("data")
    # computed once per chapter: the claim results, the rows of each filter (e.g. a sector),
    # each option table and each per-sector breakdown
    _claims: dict | None = field(default=None, repr=False)
    _subsets: dict = field(default_factory=dict, repr=False)
    _tables: dict = field(default_factory=dict, repr=False)
    _breakdowns: dict = field(default_factory=dict, repr=False)

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

    def table(self, question_id: str, *, percent_of: str = tabulate.RESPONDENTS,
              within: Mapping[str, str] | None = None) -> pd.DataFrame:
        """Options offered in this wave (an option added in a later wave has no row), with the low-base flag."""
        key = (question_id, percent_of, tuple(sorted((within or {}).items())))
        if key not in self._tables:
            self._tables[key] = self._table(question_id, percent_of, within)
        return self._tables[key].copy()  # a copy keeps attrs (respondents, percent_of)

    def _table(self, question_id: str, percent_of: str, within: Mapping[str, str] | None) -> pd.DataFrame:
        question = self.question(question_id)
        table = tabulate.option_table(self.subset(within), question, percent_of=percent_of)
        offered = table["code"].isin(question.codes(self.meta.wave))
        return policy.flag_low_base(table if offered.all() else table[offered].reset_index(drop=True))

    def share(self, question_id: str, codes: Iterable[str], *, within: Mapping[str, str] | None = None) -> Proportion:
        if not all(self.asked(q) for q in (question_id, *(within or {}))):
            return Unavailable(0, 0)
        return tabulate.share_of_respondents(self.subset(within), self.question(question_id), list(codes))

    def mention_share(self, question_id: str, codes: Iterable[str]) -> Proportion:
        if not self.asked(question_id):
            return Unavailable(0, 0)
        return tabulate.share_of_mentions(self.frame, self.question(question_id), list(codes))

    def share_from_every_group(self, question_id: str, groups: Iterable[str]) -> Proportion:
        if not self.asked(question_id):
            return Unavailable(0, 0)
        return tabulate.share_choosing_from_every_group(self.frame, self.question(question_id), list(groups))

    def share_of(self, question_id: str, codes: list[str], percent_of: str) -> Proportion:
        """The share of respondents, or of mentions, as `percent_of` says."""
        return self.mention_share(question_id, codes) if percent_of == tabulate.MENTIONS else self.share(question_id, codes)

    def mean_choices(self, question_id: str) -> float:
        return tabulate.mean_choices(self.frame, self.question(question_id))

    # -- rankings ------------------------------------------------------------------------
    def ranking(self, question_id: str, *, percent_of: str = tabulate.RESPONDENTS) -> list[str]:
        """Option codes from most to least chosen; empty when the question has no answers in this wave.

        The answers of a multi-select question only: its exclusive option ('none', 'nothing')
        is not one of them, and the text reports its share on its own.
        """
        if self.unavailable(question_id):
            return []
        table = self.table(question_id, percent_of=percent_of)
        table = table[~table["exclusive"].astype(bool)] if self.question(question_id).is_multi else table
        return tabulate.rank_options(table) if table["count"].sum() > 0 else []

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
            return self.unavailable(question_id) or NO_RANK
        return self.question(question_id).label(ranked[rank - 1])

    # -- by sector -----------------------------------------------------------------------
    def sector_comparison(self, question_id: str, codes: Iterable[str]) -> Comparison:
        """Pharma minus other sectors, for the share choosing any of `codes`."""
        codes = list(codes)
        return compare_proportions(
            self.share(question_id, codes, within={SECTOR: "pharma"}),
            self.share(question_id, codes, within={SECTOR: "other"}),
        )

    def sector_breakdown(self, question_id: str, *, percent_of: str = tabulate.RESPONDENTS) -> pd.DataFrame:
        """Per-sector table with the small-base policy applied (cells under `policy.MIN_CELL` suppressed)."""
        key = (question_id, percent_of)
        if key not in self._breakdowns:
            self._breakdowns[key] = self._sector_breakdown(question_id, percent_of)
        return self._breakdowns[key].copy()

    def _sector_breakdown(self, question_id: str, percent_of: str) -> pd.DataFrame:
        question = self.question(question_id)
        table = tabulate.by_group(self.frame, self.codebook, question, SECTOR, percent_of=percent_of, subset=self.subset)
        if len(table):
            # options not offered in this wave, and sectors with nobody in them, have nothing to show
            keep = table["code"].isin(question.codes(self.meta.wave)) & table.groupby("group_code")["base"].transform("max").gt(0)
            table = table[keep].reset_index(drop=True)
        with warnings.catch_warnings():
            # a disclosure the totals force is recorded in attrs["disclosed_by_totals"], not printed on the page
            warnings.simplefilter("ignore", policy.DisclosureWarning)
            return policy.apply_policy(table, single_choice=not question.is_multi)

    def reveals_suppressed(self, question_id: str, codes: Iterable[str]) -> bool:
        """Would printing per-sector shares for `codes` give away a suppressed cell?

        True when any of the options' sector cells is withheld in the published breakdown:
        a combined share (e.g. 20% or more = 20-40% + 40% or more) minus a published cell
        would otherwise recover the withheld one.
        """
        table = self.sector_breakdown(question_id)
        return bool(table.loc[table["code"].isin(list(codes)), "suppressed"].any())
