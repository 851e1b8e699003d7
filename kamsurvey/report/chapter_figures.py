"""A chapter's figures: each chart kind built through the same chart functions, as `figures.Figure` payloads.

Every figure states its finding as its title, computed from the same published numbers as the
chart, so that it changes with the wave ("Sales is the most important factor for 59%"). In a
reconstructed wave a title states only what the article pins down: a number or a rank it
publishes, or the article's own words (quoted, and checked against the claims ledger entry they
come from); a chart with neither says that it is not a finding. A breakdown the article gives no
number for (the sector profile, an agreement scale's sector rows) says so beside the chart.

Each figure is drawn twice, for a desktop page (and the downloads) and for a phone
(`charts.LAYOUTS`); its data table lists the rows in the order the chart shows them.

A figure whose question this wave did not ask (or nobody answered) keeps its number, title
and anchor, and says so in place of bars.
"""

from __future__ import annotations

import re
from typing import Callable

import pandas as pd

from kamsurvey.analysis import published as publishing, tabulate
from kamsurvey.analysis.published import ALL, ALL_LABEL
from kamsurvey.report import charts, figures, marks, phrasing
from kamsurvey.report.chapter_data import SECTOR, ArticleWordsError, ChapterData

# A question's finding, from its most chosen answer: (with its share, with its rank only). {label} is the
# answer's label as it reads inside a sentence, {Label} as it opens one, {pct} its share (or, in a
# reconstructed wave, the article's words for it).
TOP_FINDINGS = {
    "sector": ("{pct} of respondents work in {label}", "{Label} is the larger part of the sample"),
    "targets_set": ("{Label} are set for more key account managers than any other kind: {pct}",
                    "{Label} are set for more key account managers than any other kind"),
    "assessment_basis": ("{Label} is the most common basis of assessment: {pct}",
                         "{Label} is the most common basis of assessment"),
    "most_important": ("{Label} is the most important factor for {pct}",
                       "{Label} is named most often as the most important factor"),
    "should_include": ("{Label} comes first in what should count: {pct} of mentions",
                       "{Label} comes first in what should count"),
    "reward_basis": ("{Label} is the most common basis of reward: {pct}", "{Label} is the most common basis of reward"),
    "rewarded_with": ("{Label} is the most common reward: {pct}", "{Label} is the most common reward"),
    "bonus_size": ("The most common bonus: {label} of salary, for {pct}", "The most common bonus: {label} of salary"),
    "downsides": ("The downside named most often: ‘{Label}’, by {pct}", "The downside named most often: ‘{Label}’"),
}
GENERIC_FINDING = ("The most common answer: ‘{Label}’, {pct}", "The most common answer: ‘{Label}’")
# when the article publishes the share of the most chosen answer but not that it comes first
SHARE_FINDINGS = {"assessment_basis": "{pct} are assessed on {label}"}
AGREEMENT_FINDINGS = {"reflects_job": "{agree} agree that the approach reflects their job; {disagree} disagree"}
GENERIC_AGREEMENT = "{agree} agree; {disagree} disagree"
SECTOR_FINDING = "{Label}: {first} in {first_group}, {second} in {second_group}"

# A reconstructed wave's findings in the article's words: a template, and each placeholder's words with the
# claims-ledger entry they are quoted from (checked when the title is made; `ArticleWordsError` otherwise).
ARTICLE_SHARE_WORDS = {
    ("most_important", "sales"): ("nearly 60%", "most_important_sales_nearly_60"),
    ("reward_basis", "sales"): ("two thirds", "reward_basis_sales_two_thirds"),
    ("rewarded_with", "bonus_cash"): ("nearly three-quarters", "rewarded_with_bonus_nearly_three_quarters"),
}
ARTICLE_TITLES = {
    "sector": ("In the article's words, the sample has ‘{0}’", [("strong representation from pharma",
                                                                 "pharma_strongly_represented")]),
    "downsides": ("In the article's words: “{0}”", [(
        "Top of the list were ‘Overemphasises sales/short term results’, and ‘Doesn’t recognise important inputs like "
        "relationship building and strategic account planning’", "downsides_top_two")]),
    "bonus_size": ("In the article's words: “{0}”", [(
        "A quarter of key account managers reported that their bonus is less than 10% of salary for them",
        "bonus_under_10_quarter")]),
    "reflects_job": ("In the article's words, ‘{0}’, ‘{1}’", [("half agree", "reflects_job_half_agree"),
                                                             ("although a third still disagree", "reflects_job_third_disagree")]),
}
ARTICLE_SECTOR_TITLES = {
    "reward_basis": ("In the article's words, ‘{0}’, ‘{1}’", [
        ("14% of the non-pharma sample are not specially rewarded at all", "reward_basis_not_rewarded_non_pharma_14"),
        ("but this doesn’t happen in pharma", "reward_basis_not_rewarded_pharma_none")]),
    "bonus_size": ("In the article's words, of those who get a bonus of 20% or more there are ‘{0}’, and of those "
                   "who get 40% or more, ‘{1}’", [
        ("fewer in pharma", "bonus_20_plus_fewer_in_pharma"),
        ("virtually none in pharma", "bonus_40_plus_virtually_none_pharma")]),
}
NOT_BY_SECTOR = ("Not a finding by sector: the article gives no split by sector, so each sector's numbers (and its "
                 "size) are the reconstruction's choice.")
SECTOR_SIZES = "The sector sizes are the reconstruction's choice: the article gives no split by sector."


def in_sentence(label: str) -> str:
    """An answer's label inside a sentence: 'Sales' -> 'sales'; 'Personal Development Plan objectives' kept."""
    return label[:1].lower() + label[1:] if label[1:] == label[1:].lower() else label


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

    def _figure(self, fig_id: str, draw: Callable[[charts.Layout], object], table: pd.DataFrame, *, kind: str,
                title: str, base: int | None, question: str | None, wording: str | None,
                notes: tuple[str, ...] = (), figure_kind: str = "chart") -> figures.Figure:
        """A figure drawn for every layout from `draw(layout)`, with its data table (rows in chart order) and alt text."""
        return figures.Figure(
            id=fig_id,
            title=title,
            spec=draw(charts.WIDE).to_dict(),
            spec_narrow=draw(charts.NARROW).to_dict(),
            table=figures.display_table(table) if figure_kind != figures.DIAGRAM else {"columns": [], "rows": []},
            alt=figures.describe(kind, title, base, table, question=wording, notes=notes,
                                 in_words=question is not None and self._said_in_words(question)),
            **self._wave_fields(),
            question=question,
            wording=wording,
            kind=figure_kind,
        )

    def _said_in_words(self, question_id: str) -> bool:
        """Does the article say anything of the question's numbers (in any published group), if only in words?"""
        return any(self.shows_findings(question_id, group.code) for group in self.published(question_id).groups)

    def _classed(self, question_id: str, table: pd.DataFrame) -> pd.DataFrame:
        """The view with its base's class, so that no interval is drawn around a share of an unpublished base."""
        if not self.reconstructed or not len(table):
            return table
        return marks.with_base_class(table, lambda group: self.base_known(question_id, group).cls)

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
        return figures.Figure(
            id=fig_id,
            title=title,
            spec=charts.notice(title, reason, charts.source_line(self.meta), layout=charts.WIDE).to_dict(),
            spec_narrow=charts.notice(title, reason, charts.source_line(self.meta), layout=charts.NARROW).to_dict(),
            table={"columns": ["Note"], "rows": [[reason]]},
            alt=f"{reason} Question: {title}",
            **self._wave_fields(),
            question=question_id,
            wording=title,
            extra={"unavailable": reason},
        )

    # -- titles: the finding, as far as the wave knows it ----------------------------------------
    def _quote(self, words: str, claim_id: str) -> str:
        """`words` as the article's, after checking that the ledger entry `claim_id` has them."""
        claim = self.ledger().get(claim_id)
        if claim is None or not phrasing.same_words(words, claim.article_words):
            raise ArticleWordsError(f"{words!r} is not in the claims ledger entry {claim_id!r}")
        return words

    def _article_title(self, entry: tuple[str, list[tuple[str, str]]] | None) -> str | None:
        if entry is None:
            return None
        template, quoted = entry
        return template.format(*(self._quote(words, claim_id) for words, claim_id in quoted))

    def _share_words(self, question_id: str, code: str, row, known: publishing.Known) -> str | None:
        """A share as a title may state it: the number (original or published), the article's words, or None."""
        if not known.reconstructed:
            return phrasing.percent(row.share)
        if (question_id, code) in ARTICLE_SHARE_WORDS:
            words, claim_id = ARTICLE_SHARE_WORDS[question_id, code]
            return phrasing.quoted(self._quote(words, claim_id))
        return None

    def _fallback_title(self, question_id: str, *, by_sector: bool = False) -> str:
        """A reconstructed wave's title when nothing in the chart is the article's: its words, or 'not a finding'."""
        entry = (ARTICLE_SECTOR_TITLES if by_sector else ARTICLE_TITLES).get(question_id)
        if entry is not None:
            return self._article_title(entry)
        short = self.question(question_id).short_title
        return f"{short}{' by sector' if by_sector else ''}: not published by the article"

    def top_title(self, question_id: str, table: pd.DataFrame) -> str:
        """The finding of a bar chart: its most chosen answer, with its share where the wave may state it."""
        percent_of = table.attrs.get("percent_of", tabulate.RESPONDENTS)
        ranked = self.ranking(question_id, percent_of=percent_of)
        question = self.question(question_id)
        if not ranked:
            return question.wording_in(self.meta.wave)
        top = ranked[0]
        row = next(r for r in table.itertuples(index=False) if r.code == top)
        label = question.label(top)
        fill = {"label": in_sentence(label), "Label": label}
        with_share, rank_only = TOP_FINDINGS.get(question_id, GENERIC_FINDING)
        pct = self._share_words(question_id, top, row, self.provenance.share(question_id, [top], ALL, percent_of))
        if not self.rank_known(question_id, [top]).reconstructed:
            return (with_share.format(pct=pct, **fill) if pct else rank_only.format(**fill))
        if pct and question_id in SHARE_FINDINGS:
            return SHARE_FINDINGS[question_id].format(pct=pct, **fill)
        return self._fallback_title(question_id)

    def _group_total(self, question_id: str, table: pd.DataFrame, codes: list[str], group: str) -> dict:
        """An agreement scale's total (agree or disagree) for a row: its text, and its class where the wave has one."""
        rows = table[table["code"].isin(codes)]
        if rows["suppressed"].astype(bool).any() or not len(rows):
            return {"text": ""}
        base = int(table.attrs.get("respondents", 0))
        share = int(rows["count"].sum()) / base if base else float("nan")
        known = self.provenance.share(question_id, codes, group)
        total = {"text": phrasing.percent(share), "share": share, "known": known}
        if known.cls != publishing.ORIGINAL:
            total["provenance"] = known.cls
            total["article"] = (marks.range_words(known.low, known.high) if known.reconstructed else "published")
        return total

    def agreement_title(self, question_id: str, totals: dict) -> str:
        """'50% agree that …; 33% disagree', as far as the wave may state the totals (else the article's words)."""
        agree, disagree = totals["agree"], totals["disagree"]
        if not agree["text"] or not disagree["text"]:
            return self.question(question_id).wording_in(self.meta.wave)
        if agree["known"].reconstructed or disagree["known"].reconstructed:
            return self._fallback_title(question_id)
        template = AGREEMENT_FINDINGS.get(question_id, GENERIC_AGREEMENT)
        return phrasing.capitalise(template.format(agree=agree["text"], disagree=disagree["text"]))

    def sector_title(self, question_id: str, table: pd.DataFrame, order: list[str]) -> str:
        """The first option's shares in each sector, where the wave may state them (else the article's words)."""
        question = self.question(question_id)
        if self.reconstructed:
            return self._fallback_title(question_id, by_sector=True)
        for code in order:
            rows = table[table["code"] == code]
            if len(rows) == 2 and not rows["suppressed"].astype(bool).any():
                first, second = rows.itertuples(index=False)
                label = question.label(code)
                return SECTOR_FINDING.format(Label=label, first=phrasing.percent(first.share),
                                             first_group=in_sentence(first.group_label),
                                             second=phrasing.percent(second.share),
                                             second_group=in_sentence(second.group_label))
        return f"{question.short_title} by sector"

    # -- the figures ---------------------------------------------------------------------------------
    def bars_figure(self, fig_id: str, question_id: str, *, percent_of: str = tabulate.RESPONDENTS,
                    sort: bool = True, grouped: bool = False) -> figures.Figure:
        if reason := self._no_data(question_id):
            return self.unavailable_figure(fig_id, question_id, reason)
        question = self.question(question_id)
        table = self._classed(question_id, self.table(question_id, percent_of=percent_of))
        groups = dict(self.codebook.groups) if grouped else None
        title = self.top_title(question_id, table)
        notes = () if self.shows_findings(question_id) else (marks.NOT_A_FINDING,)
        order = charts.bar_order(table, sort=sort)

        def draw(layout: charts.Layout):
            return charts.option_bars(table, question, self.meta, title=title, sort=sort, groups=groups,
                                      notes=notes, layout=layout)

        kind = "Bar chart of the share of mentions" if percent_of == tabulate.MENTIONS else "Bar chart"
        return self._figure(fig_id, draw, figures.in_chart_order(table, order), kind=kind, title=title,
                            base=int(table.attrs["respondents"]), question=question_id,
                            wording=question.wording_in(self.meta.wave), notes=notes)

    def likert_figure(self, fig_id: str, question_id: str) -> figures.Figure:
        """The agreement scale for all respondents and, when the breakdown is published, each sector."""
        if reason := self._no_data(question_id):
            return self.unavailable_figure(fig_id, question_id, reason)
        question = self.question(question_id)
        rows = [(ALL_LABEL, ALL, self._classed(question_id, self.table(question_id)))]
        note = self.breakdown_note(question_id) if self.asked(SECTOR) else None
        if note is None and self.asked(SECTOR):
            for option in self.question(SECTOR).options:
                table = self._classed(question_id, self.table(question_id, within={SECTOR: option.code}))
                if table.attrs["respondents"]:  # a sector nobody in this wave belongs to has no row
                    rows.append((option.label, option.code, table))
        sides = {side: question.codes_in_group(side) for side in ("agree", "disagree")}
        totals = [{"row": label, **{side: self._group_total(question_id, table, codes, group)
                                    for side, codes in sides.items()}} for label, group, table in rows]
        title = self.agreement_title(question_id, totals[0])
        notes = [phrasing.capitalise(note) + "."] if note else []
        if len(rows) > 1 and not all(self.shows_findings(question_id, group) for _, group, _ in rows[1:]):
            notes.append(NOT_BY_SECTOR)
        shown = [{"row": t["row"], **{side: {k: v for k, v in t[side].items() if k in ("text", "provenance", "article")}
                                      for side in sides}} for t in totals]
        scale = [o.code for o in sorted(question.options, key=lambda o: o.score or 0)]

        def draw(layout: charts.Layout):
            return charts.likert_bars([(label, table) for label, _, table in rows], question, self.meta, title=title,
                                      notes=tuple(notes), totals=shown, layout=layout)

        stacked = pd.concat([figures.in_chart_order(t, scale).assign(row=label) for label, _, t in rows],
                            ignore_index=True)
        stacked.attrs.update(rows[0][2].attrs)
        return self._figure(fig_id, draw, stacked[["row"] + [c for c in stacked.columns if c != "row"]],
                            kind="Diverging bar chart", title=title, base=int(rows[0][2].attrs["respondents"]),
                            question=question_id, wording=question.wording_in(self.meta.wave), notes=tuple(notes))

    def sector_figure(self, fig_id: str, question_id: str, *, percent_of: str = tabulate.RESPONDENTS,
                      sort: bool = True) -> figures.Figure:
        if reason := self._no_data(question_id, by_sector=True):
            return self.unavailable_figure(fig_id, question_id, reason)
        if note := self.breakdown_note(question_id):
            return self.unavailable_figure(fig_id, question_id, phrasing.capitalise(note) + ".")
        question = self.question(question_id)
        table = self._classed(question_id, self.sector_breakdown(question_id, percent_of=percent_of))
        overall = self.table(question_id, percent_of=percent_of)
        order = charts.bar_order(overall, sort=sort)
        groups = list(dict.fromkeys(table["group_code"]))
        title = self.sector_title(question_id, table, order)
        notes: list[str] = []
        if self.reconstructed:
            shows = any(self.shows_findings(question_id, g) for g in groups)
            notes.append(SECTOR_SIZES if shows else NOT_BY_SECTOR)

        def draw(layout: charts.Layout):
            return charts.group_comparison_bars(table, question, self.meta, group_title="Sector", title=title,
                                                order=order, notes=tuple(notes), layout=layout)

        return self._figure(fig_id, draw, figures.by_code(table, order, "group_code", groups),
                            kind="Bar chart by sector", title=title, base=int(overall.attrs["respondents"]),
                            question=question_id, wording=question.wording_in(self.meta.wave), notes=tuple(notes))

    def spectrum_figure(self, fig_id: str, ends: list[dict], *, title: str) -> figures.Figure:
        """The article's diagram: no numbers behind it, so no data table and no CSV."""
        source = "Source: diagram drawn from the article's account of an earlier research project."

        def draw(layout: charts.Layout):
            return charts.spectrum_diagram(ends, title=title, source=source, layout=layout)

        table = pd.DataFrame([{"label": e["label"], "row": re.sub(r"\s+", " ", e["rewarded_on"])} for e in ends])
        return self._figure(fig_id, draw, table, kind="Diagram", title=title, base=None, question=None, wording=None,
                            figure_kind=figures.DIAGRAM)
