"""The questionnaire appendix, written from the codebook so that it can never disagree with it.

The codebook's words are data: each goes into the MyST through `literal.myst` (and a code or
column name through `literal.myst_code`), so that it reads as written and is never parsed.
"""

from __future__ import annotations

from typing import Iterable

from kamsurvey.data.codebook import Codebook, Question
from kamsurvey.report.literal import myst, myst_code

TYPE_WORDS = {
    "single": "One answer",
    "multi": "Several answers allowed",
    "likert": "One answer on a five-point agreement scale",
}


def asked_of_words(question: Question, codebook: Codebook) -> str:
    if question.asked_of is None:
        return "All respondents"
    source = codebook[question.asked_of.question]
    return f"Respondents who answered ‘{myst(source.label(question.asked_of.option))}’ at Q{source.number}"


def question_markdown(question: Question, codebook: Codebook, wave: str | None = None, *, asked: bool = True) -> str:
    lines = [f"**Q{question.number}. {myst(question.wording_in(wave))}**", ""]
    details = [f"Not asked in the {myst(wave)} survey: the question was left out of its questionnaire"] if not asked else []
    details += [
        f"Column{'s' if question.is_multi else ''} in the data: "
        + myst_code(f"{question.id}{'__<option>' if question.is_multi else ''}"),
        f"Type: {TYPE_WORDS[question.type]}",
        f"Asked of: {asked_of_words(question, codebook)}",
    ]
    if question.answer_among:
        among = codebook[question.answer_among]
        details.append(f"Answer must be one of the options the respondent chose at Q{among.number}")
    if question.reconstructed:
        details.append("Wording reconstructed (not published in the article)")
    if question.note:
        details.append(myst(" ".join(question.note.split())))
    lines += [f"- {d}" for d in details] + ["", "Options:", ""]
    for option in question.options:
        if not option.offered_in(wave):
            continue
        notes = []
        if option.exclusive:
            notes.append("only answer if chosen")
        if option.group:
            notes.append(myst(codebook.group_label(option.group).lower()))
        if option.reconstructed:
            notes.append("reconstructed")
        if wave is not None and option.since is not None and str(option.since) == str(wave):
            notes.append(f"new in {myst(wave)}")
        suffix = f" ({'; '.join(notes)})" if notes else ""
        lines.append(f"1. {myst(option.label)} {myst_code(option.code)}{suffix}")
    return "\n".join(lines)


def questionnaire_markdown(codebook: Codebook, wave: str | None = None, *, not_asked: Iterable[str] = ()) -> str:
    """Every question in order; those in `not_asked` (left out of this wave) are listed and marked so."""
    left_out = set(not_asked)
    return "\n\n".join(question_markdown(q, codebook, wave, asked=q.id not in left_out)
                       for q in sorted(codebook.questions, key=lambda q: q.number))
