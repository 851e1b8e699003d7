"""The briefing kit: made by the build of the edition (kamsurvey.site.kit), on its website, and copied out by
`make briefing` (kamsurvey.build.briefing): the landing page's key findings with the book's own numbers, linked to
their figures; the slides; the print edition; every figure's downloads in one zip; the same bytes every time."""

from __future__ import annotations

import io
import re
import zipfile
from html import unescape
from pathlib import Path

import pytest

from book import ROOT
from kamsurvey.build import briefing
from kamsurvey.report import citation
from kamsurvey.site import kit, printed
from sitecheck import external, loaded_resources

LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
NAMES = {"deck": "x_2022_slides.pptx", "print": "x_2022.pdf", "figures": "x_2022_figures.zip",
         "findings": "x_2022_key-findings.html", "findings_md": "x_2022_key-findings.md"}


def plain(markdown: str) -> str:
    text = LINK.sub(r"\1", markdown).replace("**", "").replace("\\", "")
    return " ".join(re.sub(r"^- ", "", line) for line in text.splitlines() if line.strip()).replace("  ", " ")


def words(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split()).replace(" .", ".").replace(" ,", ",").replace("( ", "(").replace(" )", ")")


def findings(markdown: str) -> str:
    return markdown.split("## Key findings\n", 1)[1].split("\n## ", 1)[0].strip()


def test_the_kit_page_links_each_file_from_where_it_is():
    page = kit.files_html(NAMES, "briefing.html", with_print=True)
    for kind in ("deck", "print", "figures", "findings"):
        assert f'href="briefing/{NAMES[kind]}" download>' in page
    nested = kit.files_html(NAMES, "about/briefing.html", with_print=True)
    assert f'href="../briefing/{NAMES["deck"]}"' in nested


def test_without_chromium_the_kit_page_says_the_pdf_is_not_in_this_build():
    page = kit.files_html(NAMES, "briefing.html", with_print=False)
    assert NAMES["print"] not in page and "not part of this build" in page and "Chromium" in page
    assert NAMES["deck"] in page and NAMES["figures"] in page


def test_file_names_carry_the_book_and_the_edition():
    book = citation.load_citation(ROOT)
    names = kit.kit_names(book, "2023")
    assert names["deck"] == "rewarding-kam-performance_2023_slides.pptx"
    assert names["print"] == "rewarding-kam-performance_2023.pdf"
    assert names["figures"] == "rewarding-kam-performance_2023_figures.zip"


def test_without_a_built_site_it_says_what_to_do(tmp_path):
    with pytest.raises(briefing.BriefingError, match="make html"):
        briefing.write_briefing(ROOT, tmp_path / "nowhere", tmp_path / "out")


def test_a_build_without_a_kit_says_what_to_do(tmp_path):
    site = tmp_path / "html"
    site.mkdir()
    (site / "index.html").write_text('<meta name="kam-edition" content="2022">', encoding="utf-8")
    with pytest.raises(briefing.BriefingError, match=r"no briefing kit .*make html"):
        briefing.write_briefing(ROOT, site, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# -- the built edition's kit -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack(site, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("briefing") / "briefing"
    briefing.write_briefing(ROOT, site, out)
    return out


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    book = citation.load_citation(ROOT)
    return kit.kit_names(book, book.current.wave)


@pytest.mark.slow
def test_make_briefing_copies_the_kit_of_the_built_edition(pack, site, names):
    made = sorted(p.name for p in (site / kit.KIT_DIR).iterdir())
    expected = [names[k] for k in ("deck", "figures", "findings", "findings_md")]
    if printed.find_chromium():
        expected.append(names["print"])
    assert made == sorted(expected)
    assert sorted(p.name for p in pack.iterdir()) == made
    for name in made:
        assert (pack / name).read_bytes() == (site / kit.KIT_DIR / name).read_bytes(), name


@pytest.mark.slow
def test_key_findings_are_the_landing_pages_with_the_same_numbers(pack, site, names):
    """Same words and numbers as the built landing page shows (which glues them from the chapters)."""
    markdown = (pack / names["findings_md"]).read_text(encoding="utf-8")
    landing = (site / "index.html").read_text(encoding="utf-8")
    section = landing.split('<section id="key-findings">', 1)[1].split("</section>", 1)[0]
    shown = words(section.split("</h2>", 1)[1]).replace("‘ ", "‘").replace(" ’", "’")
    assert plain(findings(markdown)) == shown
    assert re.search(r"\d+%", findings(markdown))
    assert "{glue" not in markdown and "{numref" not in markdown and "{doc" not in markdown


@pytest.mark.slow
def test_the_kit_page_shows_the_same_key_findings(site):
    page = (site / "briefing.html").read_text(encoding="utf-8")
    landing = (site / "index.html").read_text(encoding="utf-8")
    section = landing.split('<section id="key-findings">', 1)[1].split("</section>", 1)[0].split("</h2>", 1)[1]
    kit_section = page.split('<section id="key-findings">', 1)[1].split("</section>", 1)[0].split("</h2>", 1)[1]
    assert words(kit_section) == words(section)


@pytest.mark.slow
def test_every_finding_links_to_its_figure_in_the_edition(pack, site, names):
    markdown = (pack / names["findings_md"]).read_text(encoding="utf-8")
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


@pytest.mark.slow
def test_the_one_page_key_findings_cite_the_edition_and_load_nothing(pack, names):
    book = citation.load_citation(ROOT)
    markdown = (pack / names["findings_md"]).read_text(encoding="utf-8")
    assert citation.edition_text(book, book.current) in plain(markdown)
    assert citation.reuse_terms(ROOT) in plain(markdown)
    page = (pack / names["findings"]).read_text(encoding="utf-8")
    assert "<script" not in page
    assert not [url for _, url in loaded_resources(page) if external(url)]
    assert "<h2>Key findings</h2>" in page and f"figures/fig-most-important_{book.current.wave}.png" in page


@pytest.mark.slow
def test_the_zip_holds_every_figures_downloads(pack, site, names):
    wave = citation.load_citation(ROOT).current.wave
    downloads = sorted((site / "figures").glob(f"*_{wave}.*"))
    assert len(downloads) >= 4 * 12 + 3  # a diagram (Figure 7.1) has no CSV
    with zipfile.ZipFile(io.BytesIO((pack / names["figures"]).read_bytes())) as archive:
        held = {Path(name).name: archive.read(name) for name in archive.namelist()}
        assert {Path(name).parent.as_posix() for name in archive.namelist()} == {Path(names["figures"]).stem}
    assert sorted(held) == [p.name for p in downloads]
    for path in downloads:
        assert held[path.name] == path.read_bytes(), path.name


@pytest.mark.slow
def test_make_briefing_on_unchanged_inputs_gives_the_same_bytes(pack, site, tmp_path):
    again = tmp_path / "again"
    briefing.write_briefing(ROOT, site, again)
    assert sorted(p.name for p in again.iterdir()) == sorted(p.name for p in pack.iterdir())
    for path in sorted(pack.iterdir()):
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name
