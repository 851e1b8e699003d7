"""The book builds with warnings as errors, its pages hold their charts, and nothing loads from another host.

`site` (tests/conftest.py) is the book built once for its current inputs; the browser
tests (tests/test_browser.py) use the same build.
"""

from __future__ import annotations

import csv
import io
import re
import struct
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from book import ROOT, chapter_notebooks, toc_files
from kamsurvey.report import citation, figures
from kamsurvey.site import figureblock
from sitecheck import external, external_loads, loaded_resources, respondent_level_leaks

pytestmark = pytest.mark.slow

RESPONSES = sorted((ROOT / "data" / "waves").glob("*/responses.csv"))
FIGURE_IDS = re.compile(r'data-kam-figure="([^"]+)"')


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def pages(site: Path) -> dict[str, str]:
    return {str(p.relative_to(site)): p.read_text(encoding="utf-8") for p in sorted(site.rglob("*.html"))}


def figure_pages(site: Path) -> dict[str, list[str]]:
    """page -> the ids of the figures on it."""
    found = {}
    for name, html in pages(site).items():
        ids = FIGURE_IDS.findall(html)
        if ids:
            found[name] = ids
    return found


class FigureBlocks(HTMLParser):
    """The figure blocks of a page: their aria-label (alt text), downloads and citation text."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[dict] = []
        self._in_cite = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "kam-figure" in classes:
            self.blocks.append({"id": attrs["data-kam-figure"], "alt": None, "downloads": [], "cite": ""})
        elif "kam-chart" in classes:
            self.blocks[-1]["alt"] = attrs.get("aria-label")
        elif tag == "a" and "kam-download" in classes:
            self.blocks[-1]["downloads"].append((attrs["href"], "download" in attrs))
        elif "kam-cite-text" in classes:
            self._in_cite = True

    def handle_endtag(self, tag):
        if tag == "p":
            self._in_cite = False

    def handle_data(self, data):
        if self._in_cite:
            self.blocks[-1]["cite"] += data


def blocks_of(html: str) -> list[dict]:
    # the landing page's headline shows a chapter's figure again, without its downloads or citation
    html = re.sub(r'<div class="kam-headline">.*?<p class="kam-headline-link">', "", html, flags=re.S)
    parser = FigureBlocks()
    parser.feed(html)
    return parser.blocks


def test_landing_page_and_every_chapter_are_built(site):
    assert (site / "index.html").exists()
    for notebook in chapter_notebooks():
        assert (site / notebook.relative_to(ROOT).with_suffix(".html")).exists(), notebook
    for name in toc_files():
        assert (site / f"{name}.html").exists(), name


def test_landing_page_shows_key_findings_with_links_to_figures(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "Key findings" in html
    assert 'href="chapters/assessing-performance.html#fig-most-important"' in html
    assert 'href="cite.html"' in html


def test_chapter_contains_its_charts(site):
    html = (site / "chapters" / "assessing-performance.html").read_text(encoding="utf-8")
    for fig in ("fig-targets-set", "fig-assessment-basis", "fig-most-important"):
        assert f'id="{fig}"' in html
        assert f'data-kam-figure="{fig}"' in html
    assert html.count('<div class="kam-static" aria-hidden="true"><svg') == 3 * len(figureblock.LAYOUTS)
    assert html.count('<script type="application/json" class="kam-spec">') == 3 * len(figureblock.LAYOUTS)


def test_every_figure_has_alt_text_from_its_data(site):
    for name, html in pages(site).items():
        for block in blocks_of(html):
            alt = block["alt"] or ""
            assert alt and ": " in alt, (name, block["id"])
            if not alt.startswith("Diagram"):
                assert re.search(r"Base: \d+ respondents", alt) and re.search(r"\d+%", alt), (name, alt)


def test_every_figure_has_its_downloads(site):
    seen = 0
    for name, html in pages(site).items():
        for block in blocks_of(html):
            kinds = {}
            for href, has_download_attribute in block["downloads"]:
                assert has_download_attribute, (name, href)
                path = (site / name).parent / href
                assert path.resolve().is_relative_to(site.resolve()) and path.stat().st_size > 0, (name, href)
                kinds[path.suffix] = path.read_bytes()
            diagram = block["alt"].startswith("Diagram")  # no numbers behind it: no CSV
            assert set(kinds) == {".txt", ".svg", ".png"} | (set() if diagram else {".csv"}), (name, block["id"], kinds.keys())
            width, _ = png_size(kinds[".png"])
            assert width >= 1600, (block["id"], width)
            assert kinds[".svg"].lstrip().startswith(b"<svg"), block["id"]
            seen += 1
    assert seen >= 13


def test_figure_csv_holds_the_data_table_and_only_aggregates(site):
    allowed = set(figures.DISPLAY_COLUMNS.values()) | {"Mentions (all options)", "Share of mentions"}
    for path in sorted((site / "figures").glob("*.csv")):
        assert path.read_bytes()[:3] == b"\xef\xbb\xbf", path.name  # Excel reads UTF-8 with a byte-order mark
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        header, body = rows[0], rows[1:]
        assert set(header) <= allowed, (path.name, header)
        assert 0 < len(body) < 40, (path.name, len(body))


def test_slide_images_are_slide_sized_and_carry_title_base_and_source(site):
    for path in sorted((site / "figures").glob("*.png")):
        width, height = png_size(path.read_bytes())
        assert width >= 1600 and height >= 400, (path.name, width, height)
    # What is drawn into the PNG is the chart's spec: the same title, base and source as the SVG.
    svg = (site / "figures" / f"fig-most-important_{citation.load_citation(ROOT).current.wave}.svg").read_text(encoding="utf-8")
    for words in ("most important factor", "n = 112", "Source:"):
        assert words in svg


def test_every_figure_can_be_cited_by_number_edition_address_and_year(site):
    book = citation.load_citation(ROOT)
    edition = book.current
    for name, html in pages(site).items():
        for block in blocks_of(html):
            cite = block["cite"]
            assert re.search(r"Figure \d+\.\d+: ", cite), (name, cite)
            assert f"{edition.wave} edition" in cite, cite
            assert f"{edition.url}{name}#{block['id']}" in cite, cite
            if edition.published:
                assert f"({edition.published.year})" in cite, cite


def test_how_to_cite_page_and_citation_files(site):
    html = (site / "cite.html").read_text(encoding="utf-8")
    text = unescape(re.sub(r"<[^>]+>", "", html))  # the BibTeX block is highlighted: compare its text
    book = citation.load_citation(ROOT)
    assert (site / "citation.bib").read_text(encoding="utf-8") == citation.bibtex(book)
    assert (site / "CITATION.cff").read_bytes() == (ROOT / "CITATION.cff").read_bytes()
    for edition in book.editions:
        assert f"@misc{{{edition.key}," in text
        assert edition.url in text
    assert f"@misc{{{citation.BOOK_KEY}," in text
    assert citation.edition_text(book, book.current) in text
    assert 'href="citation.bib"' in html and 'href="CITATION.cff"' in html


def test_no_page_loads_anything_from_another_host(site):
    assert external_loads(site) == {}


def test_vega_is_served_from_the_site_itself(site):
    html = (site / "chapters" / "assessing-performance.html").read_text(encoding="utf-8")
    scripts = [url for tag, url in loaded_resources(html) if tag == "script"]
    assert any(url.startswith("../_static/vega-bundle.js") for url in scripts)
    assert (site / "_static" / "vega-bundle.js").stat().st_size > 100_000
    assert not list((site / "_static").glob("*.version")), "build stamps are not published"


def test_the_external_check_can_fail(tmp_path):
    page = '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script><link rel="stylesheet" href="//fonts.example/x.css">'
    assert [external(url) for _, url in loaded_resources(page)] == [True, True]
    (tmp_path / "a.html").write_text('<script src="_static/local.js"></script>')
    (tmp_path / "b.css").write_text('a{background:url("data:image/svg+xml;utf8,<svg xmlns=\'http://www.w3.org/2000/svg\'/>")}'
                                    '@import "https://fonts.example/f.css";')
    assert external_loads(tmp_path) == {"b.css": ["https://fonts.example/f.css"]}


@pytest.mark.parametrize("responses", RESPONSES, ids=lambda p: p.parent.name)
def test_no_built_file_carries_respondent_level_data(site, responses):
    assert respondent_level_leaks(site, responses) == {}
    assert sorted(p.relative_to(site).parts[0] for p in site.rglob("*.csv")) == ["figures"] * len(list(site.rglob("*.csv")))


def test_the_respondent_level_check_can_fail(tmp_path):
    responses = RESPONSES[0]
    header, first = responses.read_text(encoding="utf-8").splitlines()[:2]
    respondent_id = first.split(",")[0]
    (tmp_path / "page.html").write_text(f"<td>{respondent_id}</td>")
    (tmp_path / "notebook.ipynb").write_text(header.split(",")[2])
    (tmp_path / "copy.csv").write_bytes(responses.read_bytes())
    (tmp_path / "clean.html").write_text("<td>Sales</td><td>66</td>")
    leaks = respondent_level_leaks(tmp_path, responses)
    assert set(leaks) == {"page.html", "notebook.ipynb", "copy.csv"}
    assert "a copy of the respondent-level file" in leaks["copy.csv"]
