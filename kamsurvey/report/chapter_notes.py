"""What a reader of this wave needs beside the text, as MyST admonitions: where the data comes from,
how a reconstructed edition's text says what is known, a question left out, the change since the
previous wave, an article finding this wave does not bear out, and where each chapter is computed.

Every value from data or metadata in them (wave ids, wordings, labels, the ledger's words, the
provenance note) goes in through `literal.myst`: it reads as written and is never parsed as
markup. A note this wave does not need is None, and the notebook shows nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kamsurvey.analysis import claims, trend
from kamsurvey.analysis.stats import CONFIDENCE
from kamsurvey.report import phrasing, trendnotes
from kamsurvey.report.chapter_claims import CLAIMS_WAVE, ChapterClaims
from kamsurvey.report.literal import myst

#: a repository address the source links may use (from _config.yml's `repository`)
_REPOSITORY_URL = re.compile(r"^https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~-]+)+$")
_PATH = re.compile(r"^[A-Za-z0-9._/-]+$")


def _markdown(lines: list[str]):
    from IPython.display import Markdown

    return Markdown("\n".join(lines))


class ChapterNotes(ChapterClaims):
    """The Markdown notes concern of `kamsurvey.report.chapter.Chapter`."""

    def provenance_note(self):
        """Where this wave's respondent-level data comes from, in words for readers."""
        meta = self.meta
        wave, note = myst(meta.wave), myst(meta.provenance_note)
        if not meta.reconstructed:
            return _markdown([f"The figures are computed from the original respondent-level answers of the "
                              f"{wave} survey ({int(meta.n)} respondents). {note}"])
        return _markdown([
            ":::{admonition} This edition's data is a reconstruction",
            ":class: important",
            "",
            f"The answers of the {wave} survey's respondents are not public: the article publishes totals and "
            "shares only. The data behind this edition was rebuilt from them. " + note,
            "",
            "What this means for readers:",
            "",
            "- Every figure the article publishes is reproduced exactly; the "
            "{doc}`reproduction check </chapters/reproduction-check>` confirms that the rebuilt data satisfies "
            "each of the article's statements (which it was built to do: it is a check of the book, not of the "
            "article);",
            "- Everything the article does not publish is a choice made to fit it, not a finding: the split "
            "between pharma and other sectors, how answers to one question relate to answers to another, "
            "and the options marked *reconstructed* in the {doc}`questionnaire </chapters/questionnaire>`;",
            "- So the text states a number only where the article publishes it. Where the article gives words "
            "instead (‘nearly 60%’, ‘most’), the text quotes them; where it gives nothing, the text says so, "
            "with the range of values any data consistent with the article allows. The charts, their data "
            "tables and downloads mark every number the article does not publish, with the same range;",
            "- Intervals and tests describe what the article's numbers can support at this sample size; "
            "they do not add information about the real respondents, and nothing that rests on the split "
            "between the sectors is tested.",
            "",
            "When the original answers are available they replace the reconstruction without any change to the "
            "book's code, and this note disappears.",
            ":::",
        ])

    def source_note(self, notebook: str):
        """A chapter's last line: the notebook that computes it, at the book's repository (from _config.yml)."""
        if not _PATH.fullmatch(notebook) or ".." in notebook:
            raise ValueError(f"not a notebook path of the book: {notebook!r}")
        config_file = self.data_dir.parent / "_config.yml"
        if not config_file.is_file():
            return None  # a data folder outside a book (a test's copy of the data): no book repository to link to
        config = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
        repository = config.get("repository") or {}
        url, branch = str(repository.get("url", "")).rstrip("/"), str(repository.get("branch", "main"))
        folder = str(repository.get("path_to_book") or "").strip("/")
        if not _REPOSITORY_URL.fullmatch(url) or not _PATH.fullmatch(branch):
            raise ValueError(f"_config.yml: repository.url {url!r} / branch {branch!r} is not a repository address")
        path = "/".join(part for part in (folder, notebook) if part)
        return _markdown([
            f"How this chapter is computed: [its notebook, {myst(Path(notebook).name)}]({url}/blob/{branch}/{path}), "
            "which the book runs on the survey's answers each time it is built."
        ])

    def wave_note(self, question_id: str):
        """What a reader of this wave needs beside a figure of `question_id`, or None (the 2022 edition).

        - the question was not asked in this wave: says so, and how the text shows it;
        - compared with a previous wave (`compare_with`): the change since, or why the
          question cannot be compared (wording or options changed, not asked then).
        """
        question = self.question(question_id)
        wave = self.meta.wave
        if not self.asked(question_id):
            earlier = (f" The {myst(self.previous.meta.wave)} edition has the question's last results."
                       if self.previous else "")
            return _markdown([
                f":::{{admonition}} Not asked in the {myst(wave)} survey",
                ":class: important",
                "",
                f"The {myst(wave)} questionnaire left out the question ‘{myst(question.wording)}’, so this edition "
                f"has no figures for it, and the text says so where it would give them.{earlier}",
                ":::",
            ])
        if self.previous is None:
            return None
        previous = self.previous
        verdict = trend.comparability(question, wave, previous.meta.wave, frame=self.frame,
                                      previous_frame=previous.responses)
        if not verdict.comparable:
            return _markdown([trendnotes.not_compared_markdown(question, verdict)])
        table = trend.option_changes(question, self.codebook, self.frame, previous.responses,
                                     wave=wave, previous_wave=previous.meta.wave)
        return _markdown([trendnotes.change_markdown(question, table)])

    def statistics_note(self, tests):
        """The statistics behind a paragraph of `sector_sentences` (the same `tests`), in a note the reader opens
        only if they want it; None when nothing was tested (a reconstructed wave, a question left out)."""
        details = self.sector_details(tests)
        if not details:
            return None
        return _markdown([":::{admonition} The statistics behind these comparisons", ":class: dropdown", "",
                          *[f"- {myst(detail)}" for detail in details], ":::"])

    def comparison_note(self):
        """For the methodology: how this wave is compared with the previous one, and which questions cannot be."""
        if self.previous is None:
            return None
        wave, before = self.meta.wave, self.previous.meta.wave
        verdicts = trend.comparable_questions(self.codebook, wave, before, self.frame, self.previous.responses)
        compared = [v for v in verdicts.values() if v.comparable]
        not_compared = [v for v in verdicts.values() if not v.comparable]
        lines = [
            f":::{{admonition}} Comparing the {myst(wave)} survey with the {myst(before)} survey",
            ":class: note",
            "",
            f"Beside each figure, a note sets this survey's shares against the {myst(before)} survey's: both shares, "
            f"the difference in percentage points with its {phrasing.percent(CONFIDENCE)} Newcombe interval, and "
            "whether the change is more than noise (Fisher's exact test, adjusted with Holm's method for the several "
            "answers of a question). The two surveys are separate samples of self-selected respondents, so a change "
            "can also come from who chose to answer.",
            "",
            f"{phrasing.capitalise(phrasing.number_words(len(compared)))} of the "
            f"{phrasing.number_words(len(verdicts))} questions are compared. A question is compared only when both "
            "surveys asked it with the same wording and the same answers to choose from.",
        ]
        if not_compared:
            lines += ["", "Not compared:", ""]
            lines += [f"- ‘{myst(self.question(v.question).short_title)}’: "
                      f"{myst(trendnotes.reason(self.question(v.question), v))}" for v in not_compared]
        lines.append(":::")
        return _markdown(lines)

    def article_check(self, *claim_ids: str):
        """An admonition beside the article's statements that this wave does not bear out.

        Shows nothing when every listed claim holds, so the 2022 edition (which reproduces
        the article) reads cleanly while a later wave flags each finding that has changed.
        """
        results = self.claim_results()
        unknown = [cid for cid in claim_ids if cid not in results]
        if unknown:
            raise KeyError(f"no claim {unknown} in data/claims/{CLAIMS_WAVE}.yml")
        failing = [results[cid] for cid in claim_ids if results[cid].status != claims.HOLDS]
        if not failing:
            return None
        title = (f"The {CLAIMS_WAVE} article's finding, re-tested on the {myst(self.meta.wave)} survey" if self.later_wave
                 else "The article's statement, as this edition can show it")
        lines = [f":::{{admonition}} {title}", ":class: warning", ""]
        for result in failing:
            said = result.claim.article_words
            enclosed = said.startswith("(") and said.endswith(")")  # the article's aside: "(fewer in pharma)"
            words = phrasing.quoted(said[1:-1] if enclosed else said)
            words = myst(words[1:-1])  # the words inside the quotes (inner quotes made double), escaped
            if result.status == claims.DOES_NOT_HOLD:
                # a ranking's words name the options they allow: the range would repeat them
                allowed = "" if result.claim.measure == "rank" else f" (the article's words allow {myst(result.allowed_text)})"
                lines.append(f"- The statement *‘{words}’* no longer holds: {myst(result.value_text)}{allowed}.")
            else:
                lines.append(f"- The statement *‘{words}’* cannot be re-tested: {myst(result.reason)}.")
        lines.append(":::")
        return _markdown(lines)
