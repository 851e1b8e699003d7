"""Numbers and phrases glued for a chapter's prose ({glue:text}), in every form the text needs.

Every glue helper glues each of its keys, whatever the wave: a `{glue:text}` key left unglued
fails the -W build, so a number this wave does not have is glued as the marker saying why
(`NOT_ASKED`, `NO_RESPONDENTS`, `NO_RANK`). A finding whose question a wave may leave out is
glued as whole sentences (`glue_text`): a question not asked drops them, and one sentence says
the question was left out; no placeholder reaches the prose.

Say what is known. Every glued number carries its class (`published.Known`, from the wave's
ranges when it is reconstructed; `ChapterData.meanings[name]["provenance"]`), and every form of
it follows that class, so that no form states a reconstruction's choice as a finding:

    original or published   the number: "59%", "most (75%)", 66, "3.5"
    reconstructed           the article's own words for it, when the chapter names them
                            (`article="nearly 60%"`, checked against the claims ledger entries
                            about that number): "‘nearly 60%’"; otherwise what the article
                            allows: "a share the article does not publish (any value from 0% to
                            20% fits it)"

`said` gives the phrase a sentence uses for a share; `glue_share` glues it (`<name>_said`, and
`<name>_said_cap` to open a sentence) beside the classic forms (`_pct`, `_n`, `_base`, `_ci`,
`_words`, `_fraction`, each class-aware, and `_cap` forms of those that open sentences). A
marker is never capitalised: a page that could show one glues whole sentences (`glue_text`),
composed with `said`, so that whether a phrase opens a sentence is decided where it is written.

Pharma against other sectors: `sector_sentences` words a paragraph's tests in plain English (one
sentence per test, or one sentence for all when a reconstructed wave cannot test them), and
`ChapterNotes.statistics_note` puts the statistics of each (`_detail`: difference, interval,
exact test, and that they assume a random sample) in a note the reader opens only if they want it.
"""

from __future__ import annotations

from typing import Callable, Iterable

from kamsurvey.analysis import policy, published as publishing, tabulate
from kamsurvey.analysis.stats import CONFIDENCE, Comparison, Proportion
from kamsurvey.report import figures, phrasing
from kamsurvey.report.chapter_data import (NO_RANK, ArticleWordsError, NO_RESPONDENTS, SECTOR, SMALL_CELLS, ChapterData,
                                           Share, Unavailable, Withheld)


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
#: a share resting on a withheld cell, in a sentence (the `_pct` form keeps the mark)
WITHHELD_WORDS = "a share withheld to protect small groups"
#: a difference between the sectors of a reconstructed wave: the split is the reconstruction's choice
SPLIT_NOT_PUBLISHED = ("the article gives no figures by sector, and this edition's split between the sectors is the "
                       "reconstruction's choice, so the difference is not tested")



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

    # -- the words for a number ----------------------------------------------------------------
    def article_words(self, words: str, known: publishing.Known) -> str:
        """`words` as the article's own for a number, quoted; ArticleWordsError unless a ledger entry about the
        number (`known.published_by`) has them."""
        ledger = self.ledger()
        about = [ledger[cid] for cid in known.published_by if cid in ledger]
        if not any(phrasing.same_words(words, claim.article_words) for claim in about):
            said = "; ".join(f"{c.id}: {c.article_words!r}" for c in about) or "no ledger entry is about this number"
            raise ArticleWordsError(f"{words!r} is not what the article says of this number ({said})")
        return phrasing.quoted(words)

    def _unpublished(self, known: publishing.Known, article: str | None, say: Callable[..., str]) -> str:
        """A reconstructed number: the article's words for it if given, else what the article allows."""
        if article:
            return self.article_words(article, known)
        return say(known.low, known.high) if known.has_range else say()

    def said(self, proportion: Proportion, *, article: str | None = None, detail: str = "pct") -> str:
        """The phrase a sentence uses for a share, as the wave knows it (see the module docstring).

        `detail`: "pct" ("59%"), "fraction" ("most (75%)"), "count" ("59% (66 of 112)", the count only
        where neither it nor its base is the reconstruction's). `article`: the article's words for the
        share, used where the share is reconstructed (ignored otherwise).
        """
        if isinstance(proportion, Withheld):
            return WITHHELD_WORDS
        if not proportion.base:
            return getattr(proportion, "why", NO_RESPONDENTS)
        known = self._known(proportion)
        if known.reconstructed:
            return self._unpublished(known, article, phrasing.unpublished_share)
        pct = phrasing.percent(proportion.share)
        if detail == "fraction":
            words = phrasing.share_words(proportion.share)
            return pct if words == pct else f"{words} ({pct})"
        if detail == "count":
            counted = not (self._count_known(proportion).reconstructed or self._base_known(proportion).reconstructed)
            return f"{pct} ({proportion.count} of {proportion.base})" if counted else pct
        return pct

    def plain(self, proportion: Proportion) -> str | None:
        """The share's percentage if the text may state it (not reconstructed, not withheld, with a base), else None:
        for a figure in brackets that a reconstructed wave simply leaves out."""
        if isinstance(proportion, Withheld) or not proportion.base or self._known(proportion).reconstructed:
            return None
        return phrasing.percent(proportion.share)

    @staticmethod
    def _known(proportion: Proportion) -> publishing.Known:
        return getattr(proportion, "known", publishing.ORIGINAL_KNOWN)

    def _count_known(self, proportion: Proportion) -> publishing.Known:
        if not isinstance(proportion, Share) or not self.reconstructed:
            return self._known(proportion)
        if len(proportion.codes) == 1:
            return self.count_known(proportion.question, proportion.codes[0], proportion.group)
        return publishing.Known(publishing.RECONSTRUCTED)

    def _base_known(self, proportion: Proportion) -> publishing.Known:
        if not isinstance(proportion, Share) or not self.reconstructed:
            return self._known(proportion)
        if proportion.percent_of == tabulate.MENTIONS:
            return self.provenance.mentions(proportion.question)
        return self.base_known(proportion.question, proportion.group)

    def _count_words(self, value: int, known: publishing.Known) -> int | str:
        return self._unpublished(known, None, phrasing.unpublished_count) if known.reconstructed else int(value)

    # -- gluing --------------------------------------------------------------------------------
    def glue_question(self, question_id: str) -> None:
        """The question's wording as asked in this wave, from the codebook."""
        _glue(f"q_{question_id}", self.question(question_id).wording_in(self.meta.wave))

    def mean_said(self, question_id: str, digits: int = 1, *, article: str | None = None) -> str:
        """Options ticked per respondent, as a sentence states it (the article's words or range where reconstructed)."""
        missing = self.unavailable(question_id)
        if missing:
            return missing
        known = self.mean_known(question_id)
        if known.reconstructed:
            return self._unpublished(known, article, lambda *r: phrasing.unpublished_mean(*r, digits=digits))
        return phrasing.mean_words(self.mean_choices(question_id), digits)

    def glue_mean(self, name: str, question_id: str, digits: int = 1, *, article: str | None = None) -> None:
        """Options ticked per respondent: mentions over respondents (the article's words where reconstructed)."""
        known = self.mean_known(question_id)
        self.meanings[name] = {"kind": "mean", "question": question_id, "digits": digits, **known.as_meaning()}
        _glue(name, self.mean_said(question_id, digits, article=article))

    def glue_when(self, name: str, needs: Iterable[str], compute) -> None:
        """Glue `compute()` when every question in `needs` has answers in this wave, else the marker saying why.

        For a chapter's own phrase logic (a ranking turned into words, say), which would
        raise or mislead on a question this wave left out.
        """
        marker = self.unavailable(*needs)
        _glue(name, marker if marker else compute())

    def not_asked_sentence(self, *question_ids: str) -> str:
        """One sentence for a finding whose questions this wave left out (or nobody answered)."""
        missing = [q for q in question_ids if not self.asked(q)]
        wave = self.meta.wave
        if missing:
            titles = phrasing.list_words([f"‘{self.question(q).short_title}’" for q in missing])
            return f"The {wave} survey did not ask about {titles}."
        empty = [q for q in question_ids if not tabulate.answered(self.frame, self.question(q)).any()]
        titles = phrasing.list_words([f"‘{self.question(q).short_title}’" for q in empty])
        return f"Nobody answered the question on {titles} in the {wave} survey."

    def glue_text(self, name: str, needs: Iterable[str], compose: Callable[[], str | Iterable[str]], *,
                  close: bool = True) -> None:
        """Glue sentences about questions `needs`: `compose()` (a sentence, or several, each capitalised and ended by
        `phrasing.sentences`) when every one has answers, else one sentence saying which was left out.

        `close=False` leaves the last sentence open, for the page to end it (with a figure reference, say).
        """
        needs = list(needs)
        self.meanings[name] = {"kind": "text", "questions": needs}
        if self.unavailable(*needs):
            text = self.not_asked_sentence(*needs)
        else:
            composed = compose()
            text = phrasing.sentences([composed] if isinstance(composed, str) else composed)
        _glue(name, text if close else phrasing.unended(text))

    def glue_figure(self, figure: figures.Figure) -> None:
        """Glue a figure under its id, for a `{glue:figure}` directive with the same :name:."""
        from myst_nb import glue

        glue(figure.id, figure, display=False)

    def glue_share(self, name: str, proportion: Proportion, *, words: str = "approx", article: str | None = None,
                   detail: str | None = None) -> None:
        """Glue a share in every form the prose needs, each as the wave knows it (see the module docstring).

        `_pct` 59%, `_n` 66, `_base` 112, `_ci` 50%–68%, `_words` nearly 60%, `_fraction` most, and
        `_said` (the share as a sentence states it; `detail` as in `said`, by default "fraction" when
        `words="fraction"`), with `_cap` forms of `_pct`, `_words`, `_fraction` and `_said`.
        A `Withheld` share (it rests on a withheld cell) is the mark in every form but its base and
        `_said`; a reconstructed one is the article's words (`article`) or its range in every form.
        """
        detail = detail or ("fraction" if words == "fraction" else "pct")
        known = self._known(proportion)
        if isinstance(proportion, Share):
            kind = "share" if proportion.codes else "share_from_every_group"
            self.meanings[name] = {"kind": kind, "question": proportion.question, "codes": list(proportion.codes),
                                   "group": proportion.group, "percent_of": proportion.percent_of,
                                   **known.as_meaning()}
        said = self.said(proportion, article=article, detail=detail)
        _glue(f"{name}_said", said)
        # a marker ("[not asked]") is never a sentence's opening words: its _cap form is the marker itself
        _glue(f"{name}_said_cap", said if said.startswith("[") else phrasing.capitalise(said))
        if isinstance(proportion, Withheld):
            for form in ("pct", "n", "ci", "words", "fraction", "pct_cap", "words_cap", "fraction_cap"):
                _glue(f"{name}_{form}", proportion.why)
            _glue(f"{name}_base", int(proportion.base))
            return
        if not proportion.base:
            marker = getattr(proportion, "why", NO_RESPONDENTS)
            for form in ("pct", "n", "ci", "words", "fraction", "pct_cap", "words_cap", "fraction_cap"):
                _glue(f"{name}_{form}", marker)
            _glue(f"{name}_base", marker if isinstance(proportion, Unavailable) else 0)
            return
        _glue(f"{name}_n", self._count_words(proportion.count, self._count_known(proportion)))
        _glue(f"{name}_base", self._count_words(proportion.base, self._base_known(proportion)))
        mentions = isinstance(proportion, Share) and proportion.percent_of == tabulate.MENTIONS
        if known.reconstructed:
            stated = said
            forms = {"pct": stated, "words": stated, "fraction": stated,
                     "ci": NO_MENTIONS_INTERVAL if mentions else f"none: {phrasing.unpublished_share()}"}
        else:
            low, high = proportion.interval
            forms = {
                "pct": phrasing.percent(proportion.share),
                "words": phrasing.approx_percent(proportion.share) if words == "approx" else phrasing.share_words(proportion.share),
                "fraction": phrasing.share_words(proportion.share),
                "ci": NO_MENTIONS_INTERVAL if mentions else f"{phrasing.percent(low)}–{phrasing.percent(high)}",
            }
        for form, text in forms.items():
            _glue(f"{name}_{form}", text)
        for form in ("pct", "words", "fraction"):
            _glue(f"{name}_{form}_cap", phrasing.capitalise(forms[form]))

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
        self.meanings[name].update(rank=rank, rank_provenance=self.rank_known(question_id, [code]).cls)
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
        interval (`stats.CONFIDENCE`), the exact test, and a verdict in plain words that says honestly
        whether a difference of this size can be told apart from chance with groups this small.

        `_summary` is the plain-English sentence for the text, `_detail` the statistics for a note
        beside it (`ChapterNotes.statistics_note`). Shares resting on cells under `policy.MIN_CELL`
        respondents are not printed (small-base policy); in a reconstructed wave, where the split is
        the reconstruction's choice, nothing is tested and the shares are said as the article allows.
        """
        comparison, parts = self.sector_test_parts(name, question_id, codes)
        _glue_parts(name, parts)
        return comparison

    def sector_test_parts(self, name: str, question_id: str, codes: Iterable[str]) -> tuple[Comparison, dict]:
        """What `glue_sector_test` glues, by key suffix (`pharma_pct`, `verdict`, `summary`, `detail`, ...), and
        `tested`: whether a difference was shown and tested (a sentence then gives both shares)."""
        return self._sector_test(name, question_id, list(codes))

    def _sector_test(self, name: str, question_id: str, codes: list[str]) -> tuple[Comparison, dict]:
        comparison = self.sector_comparison(question_id, codes)
        pharma, other = comparison.first, comparison.second
        if self.unavailable(question_id, SECTOR) or not pharma.base or not other.base:
            return comparison, self._sector_untestable(name, question_id, codes, pharma, other)
        known = self.comparison_known(question_id, codes)
        self.meanings[name] = {"kind": "sector_test", "question": question_id, "codes": codes, **known.as_meaning()}
        parts: dict = {}
        if note := self.breakdown_note(question_id):
            for label, proportion in (("pharma", pharma), ("other", other)):
                parts[f"{label}_pct"] = policy.SUPPRESSED_MARK
                parts[f"{label}_base"] = int(proportion.base)
            return comparison, {**parts, **_not_shown(f"the figures are {note}, so they are not tested",
                                                      f"the figures by sector are {note}, so the difference is "
                                                      "not shown or tested")}
        withheld = self.reveals_suppressed(question_id, codes)
        if known.reconstructed and not withheld:
            for label, proportion in (("pharma", pharma), ("other", other)):
                share_known = self.provenance.share(question_id, codes, label)
                parts[f"{label}_pct"] = (phrasing.percent(proportion.share) if not share_known.reconstructed
                                         else self._unpublished(share_known, None, phrasing.unpublished_share))
                parts[f"{label}_base"] = self._count_words(proportion.base, self.base_known(question_id, label))
            return comparison, {**parts, **_not_shown(SPLIT_NOT_PUBLISHED, f"not tested: {SPLIT_NOT_PUBLISHED}")}
        for label, proportion in (("pharma", pharma), ("other", other)):
            parts[f"{label}_pct"] = policy.SUPPRESSED_MARK if withheld else phrasing.percent(proportion.share)
            parts[f"{label}_base"] = int(proportion.base)
        if withheld:
            return comparison, {**parts, **_not_shown(
                f"the figures would reveal {SMALL_CELLS}, so they are withheld and not tested",
                f"the figures by sector are withheld, since they would reveal {SMALL_CELLS}, so the difference is "
                "not shown or tested")}
        low, high = comparison.interval
        p_text = f"p = {comparison.p_value:.2f}" if comparison.p_value >= 0.01 else "p < 0.01"
        direction = phrasing.compare_words(comparison.difference, None, higher="higher in pharma", lower="lower in pharma")
        if phrasing.direction_words(comparison.difference) == "the same":
            verdict = "about the same in both, in this sample"
        elif comparison.significant:
            verdict = f"{direction}, and a difference this size is unlikely to be chance alone"
        else:
            verdict = (f"{direction} in this sample, but a difference this size could easily arise by chance "
                       "with groups of this size, so the data neither confirms nor rules it out")
        shares = f"{phrasing.percent(pharma.share)} in pharma against {phrasing.percent(other.share)} in other sectors"
        return comparison, {
            **parts, "tested": True,
            "diff": phrasing.points(comparison.difference, signed=True),
            "diff_ci": f"{phrasing.points(low, signed=True)} to {phrasing.points(high, signed=True)}",
            "p": p_text, "verdict": verdict, "summary": f"{shares}: {verdict}",
            "detail": (f"The difference is {phrasing.points(comparison.difference, signed=True)}; a "
                       f"{phrasing.percent(CONFIDENCE)} interval for it runs from {phrasing.points(low, signed=True)} "
                       f"to {phrasing.points(high, signed=True)}, and an exact test of no difference gives {p_text} "
                       "(assuming a random sample; this one is self-selected)."),
            "shares": shares,
        }

    def sector_sentences(self, tests: Iterable[tuple[str, str, str, Iterable[str]]]) -> list[str]:
        """The sentences of a paragraph on pharma against other sectors: `tests` are (name, what, question, codes),
        `what` naming the share in words ("reward calculated on sales"). Each test's keys are glued as by
        `glue_sector_test` (call it once per chapter, for a `glue_text` paragraph).

        A tested share gets one sentence ("For reward calculated on sales, the share (65% in pharma against 70% in
        other sectors) is lower in pharma in this sample, but ..."), with the sizes of the groups said once before
        them; in a reconstructed wave, where the split between the sectors is the reconstruction's choice, one
        sentence says that nothing is tested (not the same sentence for each share).
        """
        tests = list(tests)
        found = [(what, self.sector_test_parts(name, question, codes)) for name, what, question, codes in tests]
        for (name, *_), (_, (_, parts)) in zip(tests, found):
            _glue_parts(name, parts)  # the numbers the words give, under the test's keys, for an audit of the page
        if any(parts.get("verdict") == SPLIT_NOT_PUBLISHED for _, (_, parts) in found):
            return ["This edition does not test these differences: the article gives no figures by sector for them, "
                    "and the split between pharma and other sectors in this edition's data is the reconstruction's "
                    "choice, so a test would only test that choice"]
        text = []
        tested = [(what, comparison, parts) for what, (comparison, parts) in found if parts.get("tested")]
        if tested:
            comparison = tested[0][1]
            text.append(f"With {comparison.first.base} respondents in pharma and {comparison.second.base} in other "
                        "sectors, a difference has to be large to stand out from chance")
        for what, (comparison, parts) in found:
            if parts.get("tested"):
                text.append(f"For {what}, the share ({parts['shares']}) is {parts['verdict']}")
            else:
                text.append(f"For {what}, {parts['verdict']}")
        return text

    def sector_details(self, tests: Iterable[tuple[str, str, str, Iterable[str]]]) -> list[str]:
        """The statistics of each share `sector_sentences` tested, as "For <what>: <detail>" (none untested)."""
        details = []
        for name, what, question, codes in tests:
            _, parts = self.sector_test_parts(name, question, codes)
            if parts.get("tested"):
                details.append(f"For {what}: {parts['detail'][0].lower()}{parts['detail'][1:]}")
        return details

    def _sector_untestable(self, name: str, question_id: str, codes: list[str], pharma: Proportion,
                           other: Proportion) -> dict:
        """Every key of a sector test, when this wave cannot compare the sectors (and says why).

        The sector that has respondents still shows its share, unless it rests on a withheld cell.
        """
        marker = self.unavailable(question_id, SECTOR)
        empty = [label for label, p in (("pharma", pharma), ("other sectors", other)) if not p.base]
        parts: dict = {}
        for label, proportion in (("pharma", pharma), ("other", other)):
            if marker or not proportion.base:
                shown = marker or NO_RESPONDENTS
            elif self.reveals_suppressed(question_id, codes, [label]):
                shown = policy.SUPPRESSED_MARK
            else:
                known = self.provenance.share(question_id, codes, label)
                shown = (self._unpublished(known, None, phrasing.unpublished_share) if known.reconstructed
                         else phrasing.percent(proportion.share))
                self.meanings[f"{name}_{label}"] = {"kind": "share", "question": question_id, "codes": codes,
                                                    "group": label, "percent_of": tabulate.RESPONDENTS,
                                                    **known.as_meaning()}
            parts[f"{label}_pct"] = shown
            parts[f"{label}_base"] = marker or int(proportion.base)
        if not self.asked(question_id):
            why = f"the question was not asked in the {self.meta.wave} survey"
        elif not self.asked(SECTOR):
            why = f"the {self.meta.wave} survey did not ask respondents' sector"
        elif marker:
            why = f"nobody answered the question in the {self.meta.wave} survey"
        else:
            why = f"no respondent in {phrasing.list_words(empty)} answered it in the {self.meta.wave} survey"
        return {**parts, **_not_shown(f"{why}, so the sectors cannot be compared",
                                      f"not available: {why}, so the sectors cannot be compared")}


def _glue_parts(name: str, parts: dict) -> None:
    for key, value in parts.items():
        if key not in ("tested", "shares"):
            _glue(f"{name}_{key}", value)


def _not_shown(verdict: str, summary: str) -> dict:
    """The keys of a sector test that has no difference to show: `not shown` for the numbers, then the words."""
    return {"diff": "not shown", "diff_ci": "not shown", "p": "not shown", "verdict": verdict, "summary": summary,
            "detail": phrasing.sentences([summary])}
