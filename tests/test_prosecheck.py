"""The prose check itself (tests/prosecheck.py): each check finds the mistake it is named for, and the page's
prose is found at all, so that a clean result over the built pages means something."""

from __future__ import annotations

import prosecheck
import pytest


def page(tmp_path, body: str):
    path = tmp_path / "page.html"
    path.write_text(f"<html><body><main>{body}</main></body></html>", encoding="utf-8")
    return path


def test_the_prose_of_a_page_is_its_paragraphs_and_list_items_not_its_figures_or_tables(tmp_path):
    blocks = prosecheck.prose_blocks(page(tmp_path, (
        "<p>Most say sales.</p><ul><li>First item.</li></ul>"
        "<div class='kam-figure'><p>inside a figure.</p></div><table><tr><td><p>in a table</p></td></tr></table>")))
    assert blocks == ["Most say sales.", "First item."]


@pytest.mark.parametrize(("check", "bad", "good"), [
    (prosecheck.lowercase_starts, "(Figure 2.1). just over two thirds have a mix.", "(Figure 2.1). Just over two thirds."),
    (prosecheck.lowercase_starts, "nearly 60% say it is sales.", "Nearly 60% say it is sales."),
    (prosecheck.doubled_words, "They say the the approach fits.", "They say the approach fits."),
    (prosecheck.placeholders, "Sales dominates. [not asked] of key account managers…", "Sales dominates."),
    (prosecheck.placeholders, "A share of nan.", "A share of none of them."),
    (prosecheck.placeholders, "In pharma: None.", "In pharma, none."),
    (prosecheck.repeated_phrases,
     "The kind of target set most often is this; the kind of target set most often is that.",
     "The kind of target set most often is this, and the next is that."),
    (prosecheck.off_style_dates, "answered between July–September 2022.", "answered between July and September 2022."),
    (prosecheck.off_style_dates, "fieldwork July–September 2022.", "fieldwork between July and September 2022."),
])
def test_each_check_finds_its_mistake_and_passes_the_corrected_sentence(check, bad, good):
    assert check(bad), bad
    assert not check(good), good


def test_problems_name_the_page_the_check_and_the_passage(tmp_path):
    found = prosecheck.problems([page(tmp_path, "<p>Sales first. nearly 60% say so.</p>")])
    assert len(found) == 1 and found[0].startswith("page.html: lower-case start: ")


def test_a_page_with_no_prose_is_a_problem_not_a_pass(tmp_path):
    assert prosecheck.problems([page(tmp_path, "<div class='kam-figure'><p>Only a figure.</p></div>")]) == [
        "page.html: no prose found"]


def test_the_packages_own_markers_are_placeholders():
    from kamsurvey.report.chapter_data import NO_RANK, NO_RESPONDENTS, NOT_ASKED

    for marker in (NOT_ASKED, NO_RESPONDENTS, NO_RANK, NOT_ASKED.capitalize()):
        assert prosecheck.placeholders(f"Sales is {marker} here."), marker
