"""Numbers and phrases glued for a chapter's prose ({glue:text}), in every form the text needs.

Every glue helper glues each of its keys, whatever the wave: a `{glue:text}` key left unglued
fails the -W build, so a number this wave does not have is glued as the marker saying why
(`NOT_ASKED`, `NO_RESPONDENTS`, `NO_RANK`). Use `glue_when` for a chapter's own phrase logic,
so that it runs only when its questions have answers.
"""

from __future__ import annotations

from typing import Iterable

from kamsurvey.analysis import policy, tabulate
from kamsurvey.analysis.stats import BOSCHLOO, CONFIDENCE, Comparison, Proportion
from kamsurvey.report import figures, phrasing
from kamsurvey.report.chapter_data import (NO_RANK, NO_RESPONDENTS, SECTOR, SMALL_CELLS, ChapterData, Share,
                                           Unavailable, Withheld)


def _glue(name: str, value) -> None:
    """Glue a Python scalar or string (never a numpy scalar: its repr breaks {glue:text})."""
    from myst_nb import glue

    if hasattr(value, "item"):
        value = value.item()
    if not isinstance(value, (str, int, float)):
        raise TypeError(f"glue {name!r}: expected str, int or float, got {type(value).__name__}")
    glue(name, value, display=False)


# shares of mentions have no interval: one respondent's several answers are not independent draws
NO_MENTIONS_INTERVAL = "none (a share of mentions has no interval)"


class ChapterGlue(ChapterData):
    """The glue concern of `kamsurvey.report.chapter.Chapter`."""

    def glue(self, name: str, value) -> None:
        _glue(name, value)

    @property
    def protection_rule(self) -> str:
        """The small-base policy's protection rule, in one sentence, from its thresholds."""
        words = phrasing.number_words
        return (f"In every table split by sector, and in the whole-sample table of the same question, each count "
                f"from one to {words(policy.MIN_CELL - 1)} is withheld, together with further counts (of any size, "
                "zero included) chosen so that nothing the book publishes (counts, bases, totals, percentages, "
                f"tests, verdicts or ranks) narrows a withheld count to fewer than {words(policy.MIN_VALUES)} "
                f"possible values, or to values all under {words(policy.MIN_CELL)}.")

    def glue_question(self, question_id: str) -> None:
        """The question's wording as asked in this wave, from the codebook."""
        _glue(f"q_{question_id}", self.question(question_id).wording_in(self.meta.wave))

    def glue_mean(self, name: str, question_id: str, digits: int = 1) -> None:
        """Options ticked per respondent: mentions over respondents, both published with the question's tables."""
        self.meanings[name] = {"kind": "mean", "question": question_id, "digits": digits}
        _glue(name, self.unavailable(question_id) or phrasing.mean_words(self.mean_choices(question_id), digits))

    def glue_when(self, name: str, needs: Iterable[str], compute) -> None:
        """Glue `compute()` when every question in `needs` has answers in this wave, else the marker saying why.

        For a chapter's own phrase logic (a ranking turned into words, say), which would
        raise or mislead on a question this wave left out.
        """
        marker = self.unavailable(*needs)
        _glue(name, marker if marker else compute())

    def glue_figure(self, figure: figures.Figure) -> None:
        """Glue a figure under its id, for a `{glue:figure}` directive with the same :name:."""
        from myst_nb import glue

        glue(figure.id, figure, display=False)

    def glue_share(self, name: str, proportion: Proportion, *, words: str = "approx") -> None:
        """Glue a share in every form the prose needs: 59%, 66, 112, 50%–68%, nearly 60%.

        A `Withheld` share (it rests on a withheld cell) is the mark in every form but its base.
        """
        if isinstance(proportion, Share):
            self.meanings[name] = {"kind": "share", "question": proportion.question, "codes": list(proportion.codes),
                                   "group": proportion.group, "percent_of": proportion.percent_of}
        if isinstance(proportion, Withheld):
            for form in ("pct", "n", "ci", "words", "fraction"):
                _glue(f"{name}_{form}", proportion.why)
            _glue(f"{name}_base", int(proportion.base))
            return
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
        mentions = isinstance(proportion, Share) and proportion.percent_of == tabulate.MENTIONS
        _glue(f"{name}_ci", NO_MENTIONS_INTERVAL if mentions else f"{phrasing.percent(low)}–{phrasing.percent(high)}")
        _glue(f"{name}_words", phrasing.approx_percent(proportion.share) if words == "approx" else phrasing.share_words(proportion.share))
        _glue(f"{name}_fraction", phrasing.share_words(proportion.share))

    # -- rankings ------------------------------------------------------------------------
    def glue_top(self, name: str, question_id: str, *, rank: int = 1, percent_of: str = tabulate.RESPONDENTS,
                 label=str) -> str | None:
        """The option at `rank`: its label (through `label`, e.g. str.lower) as `name`, its share as `name_pct` etc.

        Shares are of mentions or of respondents as `percent_of` says. Returns the option's
        code, or None when the wave cannot rank it (the keys then hold the marker).
        """
        ranked = self.ranking(question_id, percent_of=percent_of)
        code = ranked[rank - 1] if rank <= len(ranked) else None
        if code is None:
            missing = self.unavailable(question_id) or (policy.SUPPRESSED_MARK if self.rank_withheld(question_id, rank)
                                                        else NO_RANK)
            _glue(name, missing)
            self.glue_share(name, Unavailable(0, 0, missing))
            return None
        _glue(name, label(self.question(question_id).label(code)))
        self.glue_share(name, self.share_of(question_id, [code], percent_of))
        return code

    def glue_ranked(self, prefix: str, question_id: str, k: int, *, percent_of: str = tabulate.RESPONDENTS,
                    label=str) -> list[str]:
        """`glue_top` for ranks 1..k as `<prefix>1` ... `<prefix>k`; returns the codes ranked (up to k)."""
        codes = [self.glue_top(f"{prefix}{rank}", question_id, rank=rank, percent_of=percent_of, label=label)
                 for rank in range(1, k + 1)]
        return [code for code in codes if code is not None]

    # -- pharma against other sectors ------------------------------------------------------
    def glue_sector_test(self, name: str, question_id: str, codes: Iterable[str]) -> Comparison:
        """Pharma against other sectors for one share: both shares, the difference and its
        interval (`stats.CONFIDENCE`), the exact tests, and a verdict sentence that says honestly
        whether a difference of this size can be told apart from chance with groups this small.
        Shares resting on cells under `policy.MIN_CELL` respondents are not printed (small-base policy).
        """
        codes = list(codes)
        comparison = self.sector_comparison(question_id, codes)
        pharma, other = comparison.first, comparison.second
        if self.unavailable(question_id, SECTOR) or not pharma.base or not other.base:
            self._glue_sector_untestable(name, question_id, codes, pharma, other)
            return comparison
        self.meanings[name] = {"kind": "sector_test", "question": question_id, "codes": codes}
        if note := self.breakdown_note(question_id):
            for label, proportion in (("pharma", pharma), ("other", other)):
                _glue(f"{name}_{label}_pct", policy.SUPPRESSED_MARK)
                _glue(f"{name}_{label}_base", int(proportion.base))
            self._glue_sector_not_shown(name, f"the figures are {note}, so they are not tested",
                                        f"the per-sector figures are {note}, so the difference is not shown or tested")
            return comparison
        withheld = self.reveals_suppressed(question_id, codes)
        for label, proportion in (("pharma", pharma), ("other", other)):
            _glue(f"{name}_{label}_pct", policy.SUPPRESSED_MARK if withheld else phrasing.percent(proportion.share))
            _glue(f"{name}_{label}_base", int(proportion.base))
        if withheld:
            self._glue_sector_not_shown(
                name,
                f"the figures would reveal {SMALL_CELLS}, so they are withheld and not tested",
                f"the per-sector figures are withheld: they would reveal {SMALL_CELLS}, so the difference is not "
                "shown or tested",
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
              f"a difference of {phrasing.points(comparison.difference, signed=True)} ({phrasing.percent(CONFIDENCE)} "
              f"interval {phrasing.points(low, signed=True)} to {phrasing.points(high, signed=True)}; "
              f"{comparison.test_name} {p_text}): {verdict}")
        return comparison

    def _glue_sector_untestable(self, name: str, question_id: str, codes: list[str], pharma: Proportion,
                                other: Proportion) -> None:
        """Every key of a sector test, when this wave cannot compare the sectors (and says why).

        The sector that has respondents still shows its share, unless it rests on a withheld cell.
        """
        marker = self.unavailable(question_id, SECTOR)
        empty = [label for label, p in (("pharma", pharma), ("other sectors", other)) if not p.base]
        for label, proportion in (("pharma", pharma), ("other", other)):
            if marker or not proportion.base:
                shown = marker or NO_RESPONDENTS
            elif self.reveals_suppressed(question_id, codes, [label]):
                shown = policy.SUPPRESSED_MARK
            else:
                shown = phrasing.percent(proportion.share)
                self.meanings[f"{name}_{label}"] = {"kind": "share", "question": question_id, "codes": codes,
                                                    "group": label, "percent_of": tabulate.RESPONDENTS}
            _glue(f"{name}_{label}_pct", shown)
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
