"""The briefing pack (`make briefing`): the landing page's key findings with the book's own numbers, linked to
their figures, the slide images and the citation, written the same way every time."""

from __future__ import annotations

import re
import struct
from html import unescape
from pathlib import Path

import pytest

from book import ROOT
from kamsurvey.report import citation
from kamsurvey.build import briefing
from sitecheck import external, loaded_resources

pytestmark = pytest.mark.slow


LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def plain(markdown: str) -> str:
    text = LINK.sub(r"\1", markdown).replace("**", "")
    return " ".join(re.sub(r"^- ", "", line) for line in text.splitlines() if line.strip()).replace("  ", " ")


def words(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split()).replace(" .", ".").replace(" ,", ",").replace("( ", "(").replace(" )", ")")


@pytest.fixture(scope="module")
def pack(site, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("briefing") / "briefing"
    briefing.write_briefing(ROOT, site, out)
    return out


def findings(markdown: str) -> str:
    return markdown.split("## Key findings\n", 1)[1].split("\n## ", 1)[0].strip()


def test_the_pack_has_its_files(pack, site):
    names = sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file())
    pngs = sorted(f"figures/{p.name}" for p in (site / "figures").glob("*.png"))
    assert names == sorted(["key-findings.md", "key-findings.html", "citation.bib", "citation.txt"] + pngs)
    for png in pngs:
        data = (pack / png).read_bytes()
        assert data == (site / png).read_bytes() and struct.unpack(">I", data[16:20])[0] >= 1600


def test_key_findings_are_the_landing_pages_with_the_same_numbers(pack, site):
    """Same words and numbers as the built landing page shows (which glues them from the chapters)."""
    markdown = (pack / "key-findings.md").read_text(encoding="utf-8")
    landing = (site / "index.html").read_text(encoding="utf-8")
    section = landing.split('<section id="key-findings">', 1)[1].split("</section>", 1)[0]
    shown = words(section.split("</h2>", 1)[1]).replace("‘ ", "‘").replace(" ’", "’")
    assert plain(findings(markdown)) == shown
    assert re.search(r"\d+%", findings(markdown))
    assert "{glue" not in markdown and "{numref" not in markdown and "{doc" not in markdown


def test_every_finding_links_to_its_figure_in_the_edition(pack, site):
    markdown = (pack / "key-findings.md").read_text(encoding="utf-8")
    edition = citation.load_citation(ROOT).current
    items = [line for line in findings(markdown).splitlines() if line.startswith("- ")]
    assert len(items) >= 5
    for item in items:
        links = [url for label, url in LINK.findall(item) if label.startswith("Figure ")]
        assert links, item
        for url in links:
            page, fig_id = url.removeprefix(edition.url).split("#")
            assert url.startswith(edition.url) and fig_id.startswith("fig-")
            assert f'id="{fig_id}"' in (site / page).read_text(encoding="utf-8"), url


def test_citation_is_generated(pack):
    book = citation.load_citation(ROOT)
    assert (pack / "citation.bib").read_text(encoding="utf-8") == citation.bibtex(book)
    text = (pack / "citation.txt").read_text(encoding="utf-8").strip()
    assert text == citation.edition_text(book, book.current)
    assert text in (pack / "key-findings.md").read_text(encoding="utf-8")


def test_html_is_self_contained(pack):
    page = (pack / "key-findings.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert not [url for _, url in loaded_resources(page) if external(url)]
    assert "<h2>Key findings</h2>" in page and 'href="figures/fig-most-important.png"' in page


def test_the_pack_is_deterministic(pack, site, tmp_path):
    again = tmp_path / "again"
    briefing.write_briefing(ROOT, site, again)
    for path in sorted(p for p in pack.rglob("*") if p.is_file()):
        assert (again / path.relative_to(pack)).read_bytes() == path.read_bytes(), path.name


def test_without_a_built_site_it_says_what_to_do(tmp_path):
    with pytest.raises(briefing.BriefingError, match="make html"):
        briefing.write_briefing(ROOT, tmp_path / "nowhere", tmp_path / "out")
