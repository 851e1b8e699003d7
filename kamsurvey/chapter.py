"""What a chapter notebook works with: one object per notebook, holding its wave.

Chapters stay short: each cell asks this object for a table, a figure or a
glued number. The object loads (and so validates) the wave once, and builds
every figure through the same chart functions, so that no analysis is written
twice across chapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import pandas as pd

from . import charts, figures, phrasing, policy, tabulate
from .codebook import Question
from .stats import Comparison, Proportion, compare_proportions
from .waves import Wave, load_wave

SECTOR = "sector"


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

    @classmethod
    def load(cls, *, wave: str, data_dir: str, compare_with: str = "") -> "Chapter":
        current = load_wave(data_dir, wave)
        previous = load_wave(data_dir, compare_with, current.codebook) if compare_with else None
        return cls(wave=current, previous=previous)

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

    def subset(self, within: Mapping[str, str] | None) -> pd.DataFrame:
        return tabulate.within(self.frame, self.codebook, within)

    def table(self, question_id: str, *, percent_of: str = tabulate.RESPONDENTS,
              within: Mapping[str, str] | None = None) -> pd.DataFrame:
        return policy.flag_low_base(tabulate.option_table(self.subset(within), self.question(question_id), percent_of=percent_of))

    def share(self, question_id: str, codes: Iterable[str], *, within: Mapping[str, str] | None = None) -> Proportion:
        return tabulate.share_of_respondents(self.subset(within), self.question(question_id), list(codes))

    def mention_share(self, question_id: str, codes: Iterable[str]) -> Proportion:
        return tabulate.share_of_mentions(self.frame, self.question(question_id), list(codes))

    def mean_choices(self, question_id: str) -> float:
        return tabulate.mean_choices(self.frame, self.question(question_id))

    def ranking(self, question_id: str, *, percent_of: str = tabulate.RESPONDENTS) -> list[str]:
        return tabulate.rank_options(tabulate.option_table(self.frame, self.question(question_id), percent_of=percent_of))

    def sector_comparison(self, question_id: str, codes: Iterable[str]) -> Comparison:
        """Pharma minus other sectors, for the share choosing any of `codes`."""
        codes = list(codes)
        return compare_proportions(
            self.share(question_id, codes, within={SECTOR: "pharma"}),
            self.share(question_id, codes, within={SECTOR: "other"}),
        )

    def sector_breakdown(self, question_id: str, *, percent_of: str = tabulate.RESPONDENTS) -> pd.DataFrame:
        question = self.question(question_id)
        table = tabulate.by_group(self.frame, self.codebook, question, SECTOR, percent_of=percent_of)
        return policy.suppress_breakdown(table, single_choice=not question.is_multi)

    # -- glue --------------------------------------------------------------
    def glue(self, name: str, value) -> None:
        _glue(name, value)

    def glue_figure(self, figure: figures.Figure) -> None:
        """Glue a figure under its id, for a `{glue:figure}` directive with the same :name:."""
        from myst_nb import glue

        glue(figure.id, figure, display=False)

    def glue_share(self, name: str, proportion: Proportion, *, words: str = "approx") -> None:
        """Glue a share in every form the prose needs: 59%, 66, 112, 50%–68%, nearly 60%."""
        low, high = proportion.interval
        _glue(f"{name}_pct", phrasing.percent(proportion.share))
        _glue(f"{name}_n", int(proportion.count))
        _glue(f"{name}_base", int(proportion.base))
        _glue(f"{name}_ci", f"{phrasing.percent(low)}–{phrasing.percent(high)}")
        _glue(f"{name}_words", phrasing.approx_percent(proportion.share) if words == "approx" else phrasing.share_words(proportion.share))
        _glue(f"{name}_fraction", phrasing.share_words(proportion.share))

    # -- figures -----------------------------------------------------------
    def _figure(self, fig_id: str, chart, table: pd.DataFrame, *, kind: str, title: str, base: int | None,
                question: str | None) -> figures.Figure:
        meta = self.meta
        return figures.Figure(
            id=fig_id,
            title=title,
            spec=chart.to_dict(),
            table=figures.display_table(table),
            alt=figures.describe(kind, title, base, table),
            wave=meta.wave,
            wave_title=meta.title,
            published=meta.published.isoformat() if meta.published else None,
            reconstructed=meta.reconstructed,
            question=question,
        )

    def bars_figure(self, fig_id: str, question_id: str, *, percent_of: str = tabulate.RESPONDENTS,
                    sort: bool = True, grouped: bool = False) -> figures.Figure:
        question = self.question(question_id)
        table = self.table(question_id, percent_of=percent_of)
        groups = dict(self.codebook.groups) if grouped else None
        chart = charts.option_bars(table, question, self.meta, sort=sort, groups=groups)
        kind = "Bar chart of the share of mentions" if percent_of == tabulate.MENTIONS else "Bar chart"
        return self._figure(fig_id, chart, table, kind=kind, title=question.wording,
                            base=int(table.attrs["respondents"]), question=question_id)

    def likert_figure(self, fig_id: str, question_id: str) -> figures.Figure:
        question = self.question(question_id)
        rows = [("All respondents", self.table(question_id))]
        for option in self.question(SECTOR).options:
            rows.append((option.label, self.table(question_id, within={SECTOR: option.code})))
        chart = charts.likert_bars(rows, question, self.meta)
        stacked = pd.concat([t.assign(row=label) for label, t in rows], ignore_index=True)
        return self._figure(fig_id, chart, stacked[["row"] + [c for c in stacked.columns if c != "row"]],
                            kind="Diverging bar chart", title=question.wording,
                            base=int(rows[0][1].attrs["respondents"]), question=question_id)

    def sector_figure(self, fig_id: str, question_id: str, *, percent_of: str = tabulate.RESPONDENTS) -> figures.Figure:
        question = self.question(question_id)
        table = self.sector_breakdown(question_id, percent_of=percent_of)
        order = charts.bar_order(self.table(question_id, percent_of=percent_of), sort=True)
        chart = charts.group_comparison_bars(table, question, self.meta, group_title="Sector", order=order)
        return self._figure(fig_id, chart, table, kind="Bar chart by sector", title=question.wording,
                            base=int(tabulate.answered(self.frame, question).sum()), question=question_id)

    def spectrum_figure(self, fig_id: str, ends: list[dict], *, title: str) -> figures.Figure:
        source = "Source: diagram drawn from the article's account of an earlier AKAM research project."
        chart = charts.spectrum_diagram(ends, title=title, source=source)
        table = pd.DataFrame([{"label": e["label"], "row": e["rewarded_on"].replace("\n", " ")} for e in ends])
        return self._figure(fig_id, chart, table, kind="Diagram", title=title, base=None, question=None)
