"""What a reader reads on a built page, and the mistakes a template makes in it (issue 16 item 3, issue 12).

The prose of a page is its paragraphs and list items outside figures, tables, code and navigation:
the words the chapters and the landing page write, glued phrases included. Each check returns the
offending passages, so that a failing test names them.
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup

from kamsurvey.report.chapter_data import NO_RANK, NO_RESPONDENTS, NOT_ASKED

#: not prose: figure blocks (their captions, data tables, cite notes), tables, code, navigation, the claims table
NOT_PROSE = ("figure", "table", "pre", "code", "nav", "details", "#kam-editions-list", ".kam-figure", ".kam-headline", ".toctree-wrapper",
             ".kam-claims-table", ".bd-sidebar", ".bd-header", "footer", ".prev-next-area", ".cell_output table")
MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
#: the markers a glued value falls back on, as the package defines them (any case), and what pandas prints for nothing
PLACEHOLDERS = re.compile("(?i:" + "|".join(re.escape(marker) for marker in (NOT_ASKED, NO_RESPONDENTS, NO_RANK))
                          + r")|\bnan\b|\bNaN\b|\bNone\b(?=[.,;:)]|$)|\bn/a\b")
DOUBLED = re.compile(r"\b([A-Za-z]+)\s+\1\b", re.IGNORECASE)
MONTH_SPAN = re.compile(rf"\b({MONTHS})\s*[–—-]\s*({MONTHS})\b|\bbetween ({MONTHS})[–—-]")
# a sentence's end, then its next word: abbreviations ("e.g.", "i.e.") are not ends, nor the end of a sentence quoted
# inside another ("‘… a surprise.’ no longer holds")
SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bc)[.!?][”)]?\s+([‘“(\[]?)(\S)")
OPENING = "‘“'\"([*"
#: words that say a number is not published by the article (the marks of a reconstructed edition's prose)
RECONSTRUCTION_WORDS = re.compile(r"does not publish|reconstruction's choice|fits the article|fits it\)|rebuilt from",
                                  re.IGNORECASE)


def prose_blocks(page: Path) -> list[str]:
    """The page's paragraphs and list items a reader reads as text, whitespace collapsed."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    main = soup.select_one("main") or soup
    for selector in NOT_PROSE:
        for node in main.select(selector):
            node.decompose()
    blocks = []
    for node in main.find_all(["p", "li"]):
        if node.name == "li" and node.find("p"):
            continue  # its paragraphs are blocks of their own
        text = " ".join(node.get_text(" ").split())
        text = re.sub(r"\s+([.,;:)])", r"\1", text).replace("( ", "(")
        if text:
            blocks.append(text)
    return blocks


def lowercase_starts(block: str) -> list[str]:
    """Sentences (and the block itself) that start with a lower-case letter."""
    found = []
    first = block.lstrip(OPENING)[:1]
    if first.islower():
        found.append(block[:60])
    for match in SENTENCE_END.finditer(block):
        if match.group(2).islower() and not match.group(2).isdigit():
            found.append(block[max(0, match.start() - 30):match.end() + 30])
    return found


def doubled_words(block: str) -> list[str]:
    return [m.group(0) for m in DOUBLED.finditer(block) if not m.group(1).isdigit()]


def placeholders(block: str) -> list[str]:
    return [m.group(0) for m in PLACEHOLDERS.finditer(block)]


QUOTATION = re.compile(r"‘(?:[^‘’]|’(?=\w))*’(?!\w)")  # innermost ‘…’, an apostrophe (Doesn’t) inside it


def without_quotations(block: str) -> str:
    """The block without the words it quotes (nested quotations too)."""
    while True:
        stripped = QUOTATION.sub(" ", block)
        if stripped == block:
            return block
        block = stripped


def repeated_phrases(block: str, words: int = 6) -> list[str]:
    """Runs of `words` words that occur twice in one paragraph (a template repeating itself); the article's words
    quoted (‘…’) are not the book's, and a statement re-tested may name the options it names."""
    tokens = re.findall(r"[\w’'%–-]+", without_quotations(block).lower())
    seen, repeats = set(), []
    for i in range(len(tokens) - words + 1):
        run = " ".join(tokens[i:i + words])
        if run in seen and run not in repeats:
            repeats.append(run)
        seen.add(run)
    return repeats


def off_style_dates(block: str) -> list[str]:
    return [m.group(0) for m in MONTH_SPAN.finditer(block)]


def problems(pages: list[Path]) -> list[str]:
    """Every prose problem of the pages, as "page: check: passage"."""
    found = []
    checks = {"lower-case start": lowercase_starts, "doubled word": doubled_words, "placeholder": placeholders,
              "repeated phrase": repeated_phrases, "date style": off_style_dates}
    for page in pages:
        blocks = prose_blocks(page)
        if not blocks:  # a selector that removed everything would pass every check
            found.append(f"{page.name}: no prose found")
        for block in blocks:
            for name, check in checks.items():
                found += [f"{page.name}: {name}: {passage}" for passage in check(block)]
    return found


def pages_of(html: Path) -> list[Path]:
    """The reader pages of a built edition: the landing page and every chapter."""
    return [html / "index.html", *sorted((html / "chapters").glob("*.html"))]
