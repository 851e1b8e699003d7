"""The book's prose: every number in it computed, and it reads as prose in every wave.

Every number is computed: no digit may be typed outside a glue role. Exceptions are explicit
and marked in the source: words quoted from the article ({article}`...`), figure references
({numref}), citations ({cite}), document links ({doc}) and inline code. Anything else with a
digit in it is a number somebody typed.

The prose check (issue 16 item 3) and the prose half of issue 12's "must hold", over built
editions: over the built 2022 edition and over a synthetic wave (another size, another sector
mix, a question left out), no sentence or list item starts in lower case, no doubled word, no
placeholder or nan/None, no phrase repeated within a paragraph, dates in the house style
(`prosecheck`). The 2022 edition, a reconstruction, states no number the article does not
publish (its key findings give only the article's words or its published figures); a wave of
original answers carries no mark of a reconstruction anywhere in its prose.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import prosecheck
from book import markdown_sources
from conftest import ROOT
from kamsurvey.analysis import published as publishing, tabulate
from kamsurvey.report import phrasing

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


# -- the prose check, over built editions ------------------------------------------------------------
def published_percentages() -> set[str]:
    """Every percentage the 2022 edition may state as a number: the shares of cells the article publishes."""
    from kamsurvey import Chapter

    ch = Chapter.load(wave="2022", data_dir=str(ROOT / "data"))
    found = set()
    for question in ch.codebook:
        if not ch.asked(question.id):
            continue
        table = ch.published(question.id)
        for percent_of in (tabulate.RESPONDENTS, tabulate.MENTIONS):
            if percent_of == tabulate.MENTIONS and not question.is_multi:
                continue
            for group in dict.fromkeys([publishing.ALL, *table.group_codes]):
                view = table.view(group, percent_of=percent_of)
                for _, row in view[view["provenance"] == "published"].iterrows():
                    found.add(phrasing.percent(row["share"]))
    ledger = yaml.safe_load((ROOT / "data" / "claims" / "2022.yml").read_text(encoding="utf-8"))
    found.update(m for claim in ledger["claims"] for m in re.findall(r"\d+%", claim["article_words"]))
    return found


#: numbers that are not shares of respondents: the bands of the bonus question, the confidence level
NOT_SHARES = re.compile(r"\d+–\d+%|\d+% (of (their )?salary )?or more|less than \d+%|\d+%\+|95%|<5%", re.IGNORECASE)


#: pages whose numbers are the ranges the article's words allow (the ledger's), not findings
RANGES_PAGES = ("methodology.html", "reproduction-check.html")


def unmarked_percentages(block: str, published: set[str]) -> list[str]:
    """Percentages in a block that are neither the article's quoted words, nor a range the article allows,
    nor a figure the article publishes."""
    text = re.sub(r"‘[^’]*’", "", block)  # the article's own words
    text = re.sub(r"any value (from \d+% to \d+%|that rounds to \d+%)", "", text)
    text = NOT_SHARES.sub("", text)
    return [m for m in re.findall(r"\d+%", text) if m not in published]


@pytest.mark.slow
def test_the_2022_edition_reads_as_prose(site):
    assert prosecheck.problems(prosecheck.pages_of(site)) == []


@pytest.mark.slow
def test_the_2022_key_findings_and_chapters_state_only_published_numbers(site):
    published = published_percentages()
    findings = [block for block in prosecheck.prose_blocks(site / "index.html")]
    assert any("Nearly 60%" in block for block in findings), findings
    stated = {page.name: [m for block in prosecheck.prose_blocks(page) for m in unmarked_percentages(block, published)]
              for page in prosecheck.pages_of(site) if page.name not in RANGES_PAGES}
    assert {page: found for page, found in stated.items() if found} == {}


@pytest.fixture(scope="module")
def synthetic_site(tmp_path_factory) -> Path:
    """A copy of the book with a synthetic 2023 wave of original answers (90 respondents, a third in pharma, the
    bonus question left out) as its edition: chapters run and the book built."""
    from wavekit import write_synthetic_wave

    book = tmp_path_factory.mktemp("prose") / "book"
    shutil.copytree(ROOT, book, ignore=shutil.ignore_patterns("_build", ".venv", ".git", "__pycache__", "node_modules"))
    write_synthetic_wave(book / "data", "2023", n=90, seed=7, omit=["bonus_size"], pharma_share=0.33)
    register = yaml.safe_load((book / "data" / "editions.yml").read_text(encoding="utf-8"))
    register["editions"].append({"wave": "2023", "title": "2023 survey (March to May 2023)", "compare_with": None})
    (book / "data" / "editions.yml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
    kam = Path(sys.executable).parent / "kam"
    run = subprocess.run([str(kam), "chapters", "--wave", "2023", "--book", str(book)], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = book.parent / "out"
    build = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", str(book), "--path-output",
                            str(out), "-W", "-n", "--keep-going"], capture_output=True, text=True, env=_env("2023"))
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out / "_build" / "html"


def _env(wave: str) -> dict:
    import os

    return {**os.environ, "KAM_EDITION": wave}


@pytest.mark.slow
def test_a_synthetic_wave_reads_as_prose(synthetic_site):
    assert prosecheck.problems(prosecheck.pages_of(synthetic_site)) == []


@pytest.mark.slow
def test_a_wave_of_original_answers_carries_no_mark_of_a_reconstruction(synthetic_site):
    marked = [f"{page.name}: {block[:120]}" for page in prosecheck.pages_of(synthetic_site)
              for block in prosecheck.prose_blocks(page) if prosecheck.RECONSTRUCTION_WORDS.search(block)]
    assert marked == []
    intro = " ".join(prosecheck.prose_blocks(synthetic_site / "chapters" / "introduction.html"))
    assert "between March and May 2023" in intro

def test_the_conclusions_given_in_the_article_s_words_are_its_words():
    from conftest import ARTICLE

    def normalised(text: str) -> str:
        text = text.translate(str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-"}))
        return " ".join(text.replace("- ", "").split()).casefold()

    article = next(path for path in ARTICLE if path.exists()).read_text(encoding="utf-8")
    page = markdown_sources()["chapters/conclusions"]
    bold = [" ".join(item.split()) for item in re.findall(r"^\d\. \*\*(.+?)\*\*", page, re.M | re.S)]
    assert len(bold) == 6
    missing = [item for item in bold if normalised(item) not in normalised(article)]
    assert not missing, f"not the article's words: {missing}"
    # nothing between a conclusion and its evidence passes as the article's words unless attributed
    after = re.findall(r"^\d\. \*\*.+?\*\*\s*(.{0,30})", page, re.M | re.S)
    assert all(text.startswith(("{glue:text}", "In the article's reading")) for text in after), after
