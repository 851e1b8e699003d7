"""What a chapter notebook works with: one object per notebook, holding its wave.

Chapters stay short: each cell asks this object for a table, a figure or a
glued number. The object loads (and so validates) the wave once, and builds
every figure through the same chart functions, so that no analysis is written
twice across chapters.

Any wave, not only 2022. A later wave may leave a question out, have nobody in a
sector, a different n, or options added since (`since` in the codebook). Nothing
here raises for that and nothing prints a number it does not have: every glue
helper still glues each of its keys (a `{glue:text}` key left unglued fails the
-W build), with `NOT_ASKED` or `NO_RESPONDENTS` in place of the number; a figure
whose question was not asked keeps its number and anchor and says so in place of
bars; `wave_note` puts beside a figure what a reader of this wave needs: that the
question was not asked, or its change since the previous wave, or why it cannot
be compared. Use `glue_when` for a chapter's own phrase logic, so that it runs
only when its questions have answers.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from kamsurvey.analysis import claims, policy, tabulate, trend
from kamsurvey.report import charts, figures, phrasing, trendnotes
from kamsurvey.data.codebook import Question
from kamsurvey.analysis.stats import BOSCHLOO, CONFIDENCE, Comparison, Proportion, compare_proportions
from kamsurvey.data.waves import Wave, load_wave, share_wave

SECTOR = "sector"
SECTORS = ("pharma", "other")
CLAIMS_WAVE = "2022"
NOT_ASKED = "[not asked]"
NO_RESPONDENTS = "[no respondents]"
NO_RANK = "[none]"
# claim results, and rows of each sector, of the waves a kernel server loaded before forking (see `warm`)
_SHARED_CLAIMS: dict[tuple, dict] = {}
_SHARED_SUBSETS: dict[tuple, pd.DataFrame] = {}


@dataclass(frozen=True)
class Unavailable(Proportion):
    """A share this wave cannot give: glued as its marker (`why`), never as a number."""

    why: str = NOT_ASKED


def _glue(name: str, value) -> None:
    """Glue a Python scalar or string (never a numpy scalar: its repr breaks {glue:text})."""
    from myst_nb import glue

    if hasattr(value, "item"):
        value = value.item()
    if not isinstance(value, (str, int, float)):
        raise TypeError(f"glue {name!r}: expected str, int or float, got {type(value).__name__}")
    glue(name, value, display=False)


@dataclass
class Chapter:
    """The current wave (and optionally the wave it is compared with) as one chapter sees it."""

    wave: Wave
    previous: Wave | None = None
    data_dir: Path = Path("data")
    _claims: dict | None = field(default=None, repr=False)
    # rows of each filter (e.g. a sector), each option table and each per-sector breakdown, computed once per chapter:
    # with a million respondents a subset costs a tenth of a second and is asked for dozens of times
    _subsets: dict = field(default_factory=dict, repr=False)
    _tables: dict = field(default_factory=dict, repr=False)
    _breakdowns: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, *, wave: str, data_dir: str, compare_with: str = "") -> "Chapter":
        current = load_wave(data_dir, wave)
        previous = load_wave(data_dir, compare_with, current.codebook) if compare_with else None
        return cls(wave=current, previous=previous, data_dir=Path(data_dir))

    # -- data --------------------------------------------------------------
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

    def subset(self, within: Mapping[str, str] | None) -> pd.DataFrame:
        """Rows of the respondents who gave each `question: option` of `within` (shared: do not modify)."""
        if not within:
            return self.frame
        key = tuple(within.items())
        if key not in self._subsets:
            shared = _SHARED_SUBSETS.get((self.wave.key, key)) if self.wave.key is not None else None
            self._subsets[key] = shared if shared is not None else tabulate.within(self.frame, self.codebook, within)
        return self._subsets[key]

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

    def mean_choices(self, question_id: str) -> float:
        return tabulate.mean_choices(self.frame, self.question(question_id))

    def questions_asked(self) -> list[Question]:
        return [q for q in self.codebook if self.asked(q.id)]

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

    def sector_comparison(self, question_id: str, codes: Iterable[str]) -> Comparison:
        """Pharma minus other sectors, for the share choosing any of `codes`."""
        codes = list(codes)
        return compare_proportions(
            self.share(question_id, codes, within={SECTOR: "pharma"}),
            self.share(question_id, codes, within={SECTOR: "other"}),
        )

    def sector_breakdown(self, question_id: str, *, percent_of: str = tabulate.RESPONDENTS) -> pd.DataFrame:
        """Per-sector table with the small-base policy applied (cells under five suppressed)."""
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

    # -- the article's claims, re-tested on this wave ---------------------------
    def _claims_key(self) -> tuple | None:
        """Identity of the claim results of a shared wave (see `warm`): the wave's files and the ledger's bytes."""
        if self.wave.key is None:
            return None
        path = (self.data_dir / "claims" / f"{CLAIMS_WAVE}.yml").resolve()
        try:
            ledger = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        return (self.wave.key, str(path), ledger)

    def claim_results(self) -> dict[str, claims.ClaimResult]:
        if self._claims is None:
            key = self._claims_key()
            if key is not None and key in _SHARED_CLAIMS:
                self._claims = dict(_SHARED_CLAIMS[key])
                return self._claims
            ledger = claims.load_claims(self.data_dir / "claims" / f"{CLAIMS_WAVE}.yml", self.codebook)
            self._claims = {
                claim.id: claims.evaluate_claim(claim, self.frame, self.codebook, self.meta, subsets=self.subset)
                for claim in ledger
            }
        return self._claims

    def provenance_note(self):
        """Where this wave's respondent-level data comes from, in words for readers."""
        from IPython.display import Markdown

        meta = self.meta
        if not meta.reconstructed:
            return Markdown(f"The figures are computed from the original respondent-level answers of the "
                            f"{meta.wave} survey ({meta.n} respondents). {meta.provenance_note}")
        return Markdown("\n".join([
            ":::{admonition} This wave's data is a reconstruction",
            ":class: important",
            "",
            f"The {meta.wave} respondent-level answers are not public: the article publishes aggregates only. "
            "The data behind this edition was rebuilt from those aggregates. " + meta.provenance_note,
            "",
            "What this means for readers:",
            "",
            "- every figure the article publishes is reproduced exactly, and the "
            "{doc}`reproduction check </chapters/reproduction-check>` re-tests each of them;",
            "- everything the article does not publish is a choice made to fit it, not a finding: the split "
            "between pharma and other sectors, how answers to one question relate to answers to another, "
            "and the options marked *reconstructed* in the {doc}`questionnaire </chapters/questionnaire>`;",
            "- intervals and tests describe what the article's numbers can support at this sample size; "
            "they do not add information about the real respondents;",
            "- every chart's source line says that the data is reconstructed.",
            "",
            "When the original file is available it replaces the reconstruction without any change to the "
            "book's code, and this note disappears.",
            ":::",
        ]))

    def claim_value_withheld(self, claim: claims.Claim) -> bool:
        """A sector-level claim whose value rests on a suppressed cell shows its verdict, not its value."""
        versus_within = (claim.versus or {}).get("within") or {}
        if SECTOR not in (claim.within or {}) and SECTOR not in versus_within:
            return False
        if claim.question is None or not self.asked(claim.question):
            return False
        question = self.question(claim.question)
        codes = list(claim.options or []) or (question.codes_in_group(claim.group) if claim.group else [])
        return bool(codes) and self.reveals_suppressed(claim.question, codes)

    def claims_table(self) -> pd.DataFrame:
        """The reproduction check: every claim of the article, its value in this wave and its verdict."""
        rows = []
        for result in self.claim_results().values():
            withheld = self.claim_value_withheld(result.claim)
            rows.append({
                "Section": result.claim.section,
                "The article's words": result.claim.article_words,
                "Computed from this wave": (f"{policy.SUPPRESSED_MARK} withheld (cells of fewer than five respondents)"
                                            if withheld else result.value_text or result.reason),
                "The words allow": result.allowed_text,
                "Verdict": result.status,
            })
        return pd.DataFrame(rows)

    def article_check(self, *claim_ids: str):
        """An admonition beside the article's statements that this wave does not bear out.

        Shows nothing when every listed claim holds, so the 2022 edition (which reproduces
        the article) reads cleanly while a later wave flags each finding that has changed.
        """
        from IPython.display import Markdown

        results = self.claim_results()
        unknown = [cid for cid in claim_ids if cid not in results]
        if unknown:
            raise KeyError(f"no claim {unknown} in data/claims/{CLAIMS_WAVE}.yml")
        failing = [results[cid] for cid in claim_ids if results[cid].status != claims.HOLDS]
        if not failing:
            return None
        lines = [f":::{{admonition}} The {CLAIMS_WAVE} article's finding, re-tested on the {self.meta.wave} survey",
                 ":class: warning", ""]
        for result in failing:
            words = result.claim.article_words.replace("\n", " ")
            if result.status == claims.DOES_NOT_HOLD:
                lines.append(f"- *‘{words}’* no longer holds: {result.value_text} "
                             f"(the article's words allow {result.allowed_text}).")
            else:
                lines.append(f"- *‘{words}’* cannot be re-tested: {result.reason}.")
        lines.append(":::")
        return Markdown("\n".join(lines))

    # -- glue --------------------------------------------------------------
    def glue(self, name: str, value) -> None:
        _glue(name, value)

    def glue_question(self, question_id: str) -> None:
        """The question's wording as asked in this wave, from the codebook."""
        _glue(f"q_{question_id}", self.question(question_id).wording_in(self.meta.wave))

    def glue_mean(self, name: str, question_id: str, digits: int = 1) -> None:
        _glue(name, self.unavailable(question_id) or phrasing.mean_words(self.mean_choices(question_id), digits))

    def glue_when(self, name: str, needs: Iterable[str], compute) -> None:
        """Glue `compute()` when every question in `needs` has answers in this wave, else the marker saying why.

        For a chapter's own phrase logic (a ranking turned into words, say), which would
        raise or mislead on a question this wave left out.
        """
        marker = self.unavailable(*needs)
        _glue(name, marker if marker else compute())

    def glue_top(self, name: str, question_id: str, *, rank: int = 1, percent_of: str = tabulate.RESPONDENTS,
                 label=str) -> str | None:
        """The option at `rank`: its label (through `label`, e.g. str.lower) as `name`, its share as `name_pct` etc.

        Shares are of mentions or of respondents as `percent_of` says. Returns the option's
        code, or None when the wave cannot rank it (the keys then hold the marker).
        """
        ranked = self.ranking(question_id, percent_of=percent_of)
        code = ranked[rank - 1] if rank <= len(ranked) else None
        if code is None:
            missing = self.unavailable(question_id) or NO_RANK
            _glue(name, missing)
            self.glue_share(name, Unavailable(0, 0, missing))
            return None
        _glue(name, label(self.question(question_id).label(code)))
        self.glue_share(name, self._share_of(question_id, [code], percent_of))
        return code

    def glue_ranked(self, prefix: str, question_id: str, k: int, *, percent_of: str = tabulate.RESPONDENTS,
                    label=str) -> list[str]:
        """`glue_top` for ranks 1..k as `<prefix>1` ... `<prefix>k`; returns the codes ranked (up to k)."""
        codes = [self.glue_top(f"{prefix}{rank}", question_id, rank=rank, percent_of=percent_of, label=label)
                 for rank in range(1, k + 1)]
        return [code for code in codes if code is not None]

    def _share_of(self, question_id: str, codes: list[str], percent_of: str) -> Proportion:
        return self.mention_share(question_id, codes) if percent_of == tabulate.MENTIONS else self.share(question_id, codes)

    def glue_sector_test(self, name: str, question_id: str, codes: Iterable[str]) -> Comparison:
        """Pharma against other sectors for one share: both shares, the difference and its
        95% interval, the exact tests, and a verdict sentence that says honestly whether a
        difference of this size can be told apart from chance with groups this small.
        Shares resting on fewer than five respondents are not printed (small-base policy).
        """
        codes = list(codes)
        comparison = self.sector_comparison(question_id, codes)
        pharma, other = comparison.first, comparison.second
        if self.unavailable(question_id, SECTOR) or not pharma.base or not other.base:
            self._glue_sector_untestable(name, question_id, pharma, other)
            return comparison
        withheld = self.reveals_suppressed(question_id, codes)
        for label, proportion in (("pharma", pharma), ("other", other)):
            _glue(f"{name}_{label}_pct", policy.SUPPRESSED_MARK if withheld else phrasing.percent(proportion.share))
            _glue(f"{name}_{label}_base", int(proportion.base))
        if withheld:
            self._glue_sector_not_shown(
                name,
                "the figures would reveal cells of fewer than five respondents, so they are withheld and not tested",
                "the per-sector figures are withheld: they would reveal cells of fewer than "
                "five respondents, so the difference is not shown or tested",
            )
            return comparison
        low, high = comparison.interval
        _glue(f"{name}_diff", phrasing.points(comparison.difference, signed=True))
        _glue(f"{name}_diff_ci", f"{phrasing.points(low, signed=True)} to {phrasing.points(high, signed=True)}")
        p_text = f"p = {comparison.p_value:.2f}" if comparison.p_value >= 0.01 else "p < 0.01"
        _glue(f"{name}_p", p_text)
        direction = phrasing.compare_words(comparison.difference, None, higher="higher in pharma", lower="lower in pharma")
        if comparison.significant:
            verdict = f"the share is {direction}, and a difference this size is unlikely to be chance alone"
        else:
            groups = "with groups this small" if comparison.test == BOSCHLOO else "even with groups this large"
            verdict = (f"the share is {direction} in this sample, but {groups} a difference "
                       "this size could easily arise by chance, so the data neither confirms nor rules it out")
        _glue(f"{name}_verdict", verdict)
        _glue(f"{name}_summary",
              f"{phrasing.percent(pharma.share)} in pharma against {phrasing.percent(other.share)} in other sectors, "
              f"a difference of {phrasing.points(comparison.difference, signed=True)} (95% interval "
              f"{phrasing.points(low, signed=True)} to {phrasing.points(high, signed=True)}; {comparison.test_name} "
              f"{p_text}): {verdict}")
        return comparison

    def _glue_sector_untestable(self, name: str, question_id: str, pharma: Proportion, other: Proportion) -> None:
        """Every key of a sector test, when this wave cannot compare the sectors (and says why)."""
        marker = self.unavailable(question_id, SECTOR)
        empty = [label for label, p in (("pharma", pharma), ("other sectors", other)) if not p.base]
        for label, proportion in (("pharma", pharma), ("other", other)):
            _glue(f"{name}_{label}_pct", marker or (phrasing.percent(proportion.share) if proportion.base else NO_RESPONDENTS))
            _glue(f"{name}_{label}_base", marker or int(proportion.base))
        if not self.asked(question_id):
            why = f"the question was not asked in the {self.meta.wave} survey"
        elif not self.asked(SECTOR):
            why = f"the {self.meta.wave} survey did not ask respondents' sector"
        elif marker:
            why = f"nobody answered the question in the {self.meta.wave} survey"
        else:
            why = f"no respondent in {phrasing.list_words(empty)} answered it in the {self.meta.wave} survey"
        self._glue_sector_not_shown(name, f"{why}, so the sectors cannot be compared",
                                    f"not available: {why}, so the sectors cannot be compared")

    @staticmethod
    def _glue_sector_not_shown(name: str, verdict: str, summary: str) -> None:
        """The keys of a sector test that has no difference to show: `not shown` for the numbers, then the words."""
        for part in ("diff", "diff_ci", "p"):
            _glue(f"{name}_{part}", "not shown")
        _glue(f"{name}_verdict", verdict)
        _glue(f"{name}_summary", summary)

    def glue_figure(self, figure: figures.Figure) -> None:
        """Glue a figure under its id, for a `{glue:figure}` directive with the same :name:."""
        from myst_nb import glue

        glue(figure.id, figure, display=False)

    def glue_share(self, name: str, proportion: Proportion, *, words: str = "approx") -> None:
        """Glue a share in every form the prose needs: 59%, 66, 112, 50%–68%, nearly 60%."""
        if not proportion.base:
            marker = getattr(proportion, "why", NO_RESPONDENTS)
            for form in ("pct", "n", "ci", "words", "fraction"):
                _glue(f"{name}_{form}", marker)
            _glue(f"{name}_base", marker if isinstance(proportion, Unavailable) else 0)
            return
        low, high = proportion.interval
        _glue(f"{name}_pct", phrasing.percent(proportion.share))
        _glue(f"{name}_n", int(proportion.count))
        _glue(f"{name}_base", int(proportion.base))
        _glue(f"{name}_ci", f"{phrasing.percent(low)}–{phrasing.percent(high)}")
        _glue(f"{name}_words", phrasing.approx_percent(proportion.share) if words == "approx" else phrasing.share_words(proportion.share))
        _glue(f"{name}_fraction", phrasing.share_words(proportion.share))

    # -- figures -----------------------------------------------------------
    def _wave_fields(self) -> dict:
        """The fields of a `figures.Figure` that say which wave it belongs to."""
        meta = self.meta
        return {
            "wave": meta.wave,
            "wave_title": meta.title,
            "published": meta.published.isoformat() if meta.published else None,
            "reconstructed": meta.reconstructed,
        }

    def _figure(self, fig_id: str, chart, table: pd.DataFrame, *, kind: str, title: str, base: int | None,
                question: str | None) -> figures.Figure:
        return figures.Figure(
            id=fig_id,
            title=title,
            spec=chart.to_dict(),
            table=figures.display_table(table),
            alt=figures.describe(kind, title, base, table),
            **self._wave_fields(),
            question=question,
        )

    def _no_data(self, question_id: str, *, by_sector: bool = False) -> str | None:
        """Why a figure of this question has nothing to draw in this wave (None: it has)."""
        wave = self.meta.wave
        if not self.asked(question_id):
            return f"Not asked in the {wave} survey."
        if by_sector and not self.asked(SECTOR):
            return f"The {wave} survey did not ask respondents' sector, so there is no breakdown by sector."
        if not tabulate.answered(self.frame, self.question(question_id)).any():
            return f"Nobody answered this question in the {wave} survey."
        return None

    def unavailable_figure(self, fig_id: str, question_id: str, reason: str) -> figures.Figure:
        """The figure keeps its number, title and anchor, and says why it has no data in this wave."""
        question = self.question(question_id)
        title = question.wording_in(self.meta.wave)
        chart = charts.notice(title, reason, self.meta.source_line())
        return figures.Figure(
            id=fig_id,
            title=title,
            spec=chart.to_dict(),
            table={"columns": ["Note"], "rows": [[reason]]},
            alt=f"{reason} Question: {title}",
            **self._wave_fields(),
            question=question_id,
            extra={"unavailable": reason},
        )

    def bars_figure(self, fig_id: str, question_id: str, *, percent_of: str = tabulate.RESPONDENTS,
                    sort: bool = True, grouped: bool = False) -> figures.Figure:
        if reason := self._no_data(question_id):
            return self.unavailable_figure(fig_id, question_id, reason)
        question = self.question(question_id)
        table = self.table(question_id, percent_of=percent_of)
        groups = dict(self.codebook.groups) if grouped else None
        chart = charts.option_bars(table, question, self.meta, sort=sort, groups=groups)
        kind = "Bar chart of the share of mentions" if percent_of == tabulate.MENTIONS else "Bar chart"
        return self._figure(fig_id, chart, table, kind=kind, title=question.wording,
                            base=int(table.attrs["respondents"]), question=question_id)

    def likert_figure(self, fig_id: str, question_id: str) -> figures.Figure:
        if reason := self._no_data(question_id):
            return self.unavailable_figure(fig_id, question_id, reason)
        question = self.question(question_id)
        rows = [("All respondents", self.table(question_id))]
        for option in self.question(SECTOR).options:
            table = self.table(question_id, within={SECTOR: option.code})
            if table.attrs["respondents"]:  # a sector nobody in this wave belongs to has no row
                rows.append((option.label, table))
        chart = charts.likert_bars(rows, question, self.meta)
        stacked = pd.concat([t.assign(row=label) for label, t in rows], ignore_index=True)
        return self._figure(fig_id, chart, stacked[["row"] + [c for c in stacked.columns if c != "row"]],
                            kind="Diverging bar chart", title=question.wording,
                            base=int(rows[0][1].attrs["respondents"]), question=question_id)

    def sector_figure(self, fig_id: str, question_id: str, *, percent_of: str = tabulate.RESPONDENTS,
                      sort: bool = True) -> figures.Figure:
        if reason := self._no_data(question_id, by_sector=True):
            return self.unavailable_figure(fig_id, question_id, reason)
        question = self.question(question_id)
        table = self.sector_breakdown(question_id, percent_of=percent_of)
        overall = self.table(question_id, percent_of=percent_of)
        order = charts.bar_order(overall, sort=sort)
        chart = charts.group_comparison_bars(table, question, self.meta, group_title="Sector", order=order)
        return self._figure(fig_id, chart, table, kind="Bar chart by sector", title=question.wording,
                            base=int(overall.attrs["respondents"]), question=question_id)

    def spectrum_figure(self, fig_id: str, ends: list[dict], *, title: str) -> figures.Figure:
        source = "Source: diagram drawn from the article's account of an earlier AKAM research project."
        chart = charts.spectrum_diagram(ends, title=title, source=source)
        table = pd.DataFrame([{"label": e["label"], "row": e["rewarded_on"].replace("\n", " ")} for e in ends])
        return self._figure(fig_id, chart, table, kind="Diagram", title=title, base=None, question=None)

    # -- this wave against the previous one --------------------------------------
    def wave_note(self, question_id: str):
        """What a reader of this wave needs beside a figure of `question_id`, or None (the 2022 edition).

        - the question was not asked in this wave: says so, and how the text shows it;
        - compared with a previous wave (`compare_with`): the change since, or why the
          question cannot be compared (wording or options changed, not asked then).
        """
        from IPython.display import Markdown

        question = self.question(question_id)
        wave = self.meta.wave
        if not self.asked(question_id):
            earlier = f" The {self.previous.meta.wave} edition has the question's last results." if self.previous else ""
            return Markdown("\n".join([
                f":::{{admonition}} Not asked in the {wave} survey",
                ":class: important",
                "",
                f"The {wave} questionnaire left out the question ‘{question.wording}’, so this edition has no figures "
                f"for it: the numbers in the text that depend on it read {NOT_ASKED}.{earlier}",
                ":::",
            ]))
        if self.previous is None:
            return None
        previous = self.previous
        verdict = trend.comparability(question, wave, previous.meta.wave, frame=self.frame,
                                      previous_frame=previous.responses)
        if not verdict.comparable:
            return Markdown(trendnotes.not_compared_markdown(question, verdict))
        table = trend.option_changes(question, self.codebook, self.frame, previous.responses,
                                     wave=wave, previous_wave=previous.meta.wave)
        return Markdown(trendnotes.change_markdown(question, table))

    def comparison_note(self):
        """For the methodology: how this wave is compared with the previous one, and which questions cannot be."""
        from IPython.display import Markdown

        if self.previous is None:
            return None
        wave, before = self.meta.wave, self.previous.meta.wave
        verdicts = trend.comparable_questions(self.codebook, wave, before, self.frame, self.previous.responses)
        compared = [v for v in verdicts.values() if v.comparable]
        not_compared = [v for v in verdicts.values() if not v.comparable]
        lines = [
            f":::{{admonition}} Comparing the {wave} survey with the {before} survey",
            ":class: note",
            "",
            f"Beside each figure, a note sets this wave's shares against the {before} survey's: both shares, the "
            f"difference in percentage points with its {phrasing.percent(CONFIDENCE)} Newcombe interval, and whether the change is more than "
            "noise (Fisher's exact test, adjusted with Holm's method for the several answers of a question). The "
            "two surveys are separate samples of self-selected respondents, so a change can also come from who "
            "chose to answer.",
            "",
            f"{phrasing.capitalise(phrasing.number_words(len(compared)))} of the "
            f"{phrasing.number_words(len(verdicts))} questions are compared. A question is compared only when both "
            "surveys asked it with the same wording and the same answers to choose from.",
        ]
        if not_compared:
            lines += ["", "Not compared:", ""]
            lines += [f"- ‘{self.question(v.question).short_title}’: {trendnotes.reason(self.question(v.question), v)}" for v in not_compared]
        lines.append(":::")
        return Markdown("\n".join(lines))


def warm(*, wave: str, data_dir: str, compare_with: str = "", cwd: str | None = None) -> None:
    """What every chapter will load, loaded once: in a kernel server (`kamsurvey.build.kernels`), before it forks.

    Loads the wave and the wave it is compared with (validating them, or from the cache of
    validated waves), takes the rows of each sector and evaluates the article's claims on the
    wave; the kernels forked afterwards find them (`load_wave`, `Chapter.subset`,
    `Chapter.claim_results`) instead of doing it again, and share their memory, as long as the
    files are still the same. `data_dir` is as the chapters see it, relative to `cwd` (their folder).
    """
    data = Path(cwd or ".") / data_dir
    current = share_wave(data, load_wave(data, wave))
    previous = share_wave(data, load_wave(data, compare_with, current.codebook)) if compare_with else None
    chapter = Chapter(wave=current, previous=previous, data_dir=data)
    if current.key is None:
        return
    if chapter.asked(SECTOR):
        for code in chapter.question(SECTOR).codes(current.meta.wave):
            chapter.subset({SECTOR: code})
    key = chapter._claims_key()
    if key is not None:
        _SHARED_CLAIMS[key] = dict(chapter.claim_results())
    for filters, rows in chapter._subsets.items():
        _SHARED_SUBSETS[(current.key, filters)] = rows
