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
    from kamsurvey.report.questionnaire import _escape

    assert _escape("<script>*x*</script>") == "\\<script\\>\\*x\\*\\</script\\>"
