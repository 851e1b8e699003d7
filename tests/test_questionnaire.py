"""The questionnaire appendix is written from the codebook."""

from __future__ import annotations

from kamsurvey.report.questionnaire import questionnaire_markdown


def test_every_question_and_option_appears(codebook):
    text = questionnaire_markdown(codebook, "2022")
    for question in codebook:
        assert f"**Q{question.number}." in text
        for option in question.options:
            assert f"`{option.code}`" in text


def test_skip_logic_and_reconstruction_are_stated(codebook):
    text = questionnaire_markdown(codebook, "2022")
    assert "Respondents who answered ‘Bonus (cash)’ at Q7" in text
    assert "reconstructed" in text
    assert "only answer if chosen" in text


def test_codebook_text_is_escaped(codebook):
    """Through the one escaping mechanism (kamsurvey.report.literal; rendered and checked in test_literal)."""
    from dataclasses import replace

    question = codebook["reflects_job"]
    evil = replace(question, wording="<script>*x*</script>", note="# {download}`../x`",
                   options=(replace(question.options[0], label="[a](javascript:x)", code="a`b"),) + question.options[1:])
    text = questionnaire_markdown(replace(codebook, questions=(evil,)), "2022")
    assert "**Q1. \\<script\\>\\*x\\*\\</script\\>**" in text
    assert "- \\# \\{download\\}\\`../x\\`" in text
    assert "1. \\[a\\](javascript:x) ``a`b``" in text
