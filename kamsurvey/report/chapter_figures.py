"""A chapter's figures: each chart kind built through the same chart functions, as `figures.Figure` payloads.

A figure whose question this wave did not ask (or nobody answered) keeps its number, title
and anchor, and says so in place of bars.
"""

from __future__ import annotations

import pandas as pd

from kamsurvey.analysis import tabulate
from kamsurvey.analysis.published import ALL_LABEL
from kamsurvey.report import charts, figures, phrasing
from kamsurvey.report.chapter_data import SECTOR, ChapterData


class ChapterFigures(ChapterData):
    """The figures concern of `kamsurvey.report.chapter.Chapter`."""

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
        """The agreement scale for all respondents and, when the breakdown is published, each sector."""
        if reason := self._no_data(question_id):
            return self.unavailable_figure(fig_id, question_id, reason)
        question = self.question(question_id)
        rows = [(ALL_LABEL, self.table(question_id))]
        note = self.breakdown_note(question_id) if self.asked(SECTOR) else None
        if note is None and self.asked(SECTOR):
            for option in self.question(SECTOR).options:
                table = self.table(question_id, within={SECTOR: option.code})
                if table.attrs["respondents"]:  # a sector nobody in this wave belongs to has no row
                    rows.append((option.label, table))
        chart = charts.likert_bars(rows, question, self.meta, note=phrasing.capitalise(note) + "." if note else None)
        stacked = pd.concat([t.assign(row=label) for label, t in rows], ignore_index=True)
        stacked.attrs.update(rows[0][1].attrs)
        return self._figure(fig_id, chart, stacked[["row"] + [c for c in stacked.columns if c != "row"]],
                            kind="Diverging bar chart", title=question.wording,
                            base=int(rows[0][1].attrs["respondents"]), question=question_id)

    def sector_figure(self, fig_id: str, question_id: str, *, percent_of: str = tabulate.RESPONDENTS,
                      sort: bool = True) -> figures.Figure:
        if reason := self._no_data(question_id, by_sector=True):
            return self.unavailable_figure(fig_id, question_id, reason)
        if note := self.breakdown_note(question_id):
            return self.unavailable_figure(fig_id, question_id, phrasing.capitalise(note) + ".")
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
