"""Every number in the book's prose is computed: no digit may be typed outside a glue role.

Exceptions are explicit and marked in the source: words quoted from the article
({article}`...`), figure references ({numref}), citations ({cite}), document links
({doc}) and inline code. Anything else with a digit in it is a number somebody typed.
"""

from __future__ import annotations

import re

import pytest

from book import markdown_sources

ALLOWED_ROLES = re.compile(r"\{(glue|glue:text|glue:any|article|numref|cite|cite:p|cite:t|doc|ref)\}`[^`]*`")
DIRECTIVE_NAME = re.compile(r"^(`{3,}|:{3,})\{[^}]+\}.*$", re.MULTILINE)
DIRECTIVE_OPTION = re.compile(r"^:[a-z-]+:.*$", re.MULTILINE)
INLINE_CODE = re.compile(r"`[^`]*`")
LIST_MARKER = re.compile(r"^\s*\d+\.\s", re.MULTILINE)
TYPED_NUMBER = re.compile(r"[^\s]*\d[^\s]*")


def typed_numbers(markdown: str) -> list[str]:
    text = ALLOWED_ROLES.sub(" ", markdown)
    text = DIRECTIVE_NAME.sub(" ", text)
    text = DIRECTIVE_OPTION.sub(" ", text)
    text = INLINE_CODE.sub(" ", text)
    text = LIST_MARKER.sub(" ", text)
    return TYPED_NUMBER.findall(text)


SOURCES = markdown_sources()


@pytest.mark.parametrize("document", sorted(SOURCES))
def test_no_typed_numbers_in_prose(document):
    found = typed_numbers(SOURCES[document])
    assert not found, f"{document}: numbers typed in the prose instead of glued: {found}"


def test_the_check_catches_typed_numbers():
    assert typed_numbers("Nearly 60% say it is sales") == ["60%"]
    assert typed_numbers("112 key account managers") == ["112"]
    assert typed_numbers("a third (33%)") == ["(33%)"]
    assert typed_numbers("in 2022, 1 in 5") == ["2022,", "1", "5"]


def test_the_check_allows_marked_exceptions():
    prose = (
        "{glue:text}`sales_pct` say so ({numref}`fig-most-important`), "
        "{article}`a few (<5%)` {cite:p}`FrancoSantosBourne2008` `data/claims/2022.yml`\n"
        "```{glue:figure} fig-1\n:name: fig-1\n```\n1. a numbered list item"
    )
    assert typed_numbers(prose) == []
