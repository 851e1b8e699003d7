"""The print edition (kamsurvey.site.printed): the system's Chromium prints each page, pypdf puts together a cover,
contents with page numbers, the pages in reading order, bookmarks and page numbers; links inside the edition become
links inside the PDF and no local path is left; the same pages give the same bytes. The built edition's PDF is
opened in the slow test at the end.

Without Chromium the tests that print skip locally, saying why, and fail with CI=true (.ci/run installs it)."""

from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from pypdf import PdfReader

from book import ROOT
from kamsurvey.report import citation
from kamsurvey.site import kit, printed


@pytest.fixture(scope="module")
def chromium() -> str:
    found = printed.find_chromium()
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("no Chromium to print with in CI (Debian: apt-get install chromium)")
        pytest.skip("no Chromium found (Debian: apt-get install chromium; or set CHROMIUM)")
    return found


EDITION = printed.Edition(
    book="A book <with> & markup", edition="2022 edition: the 2022 survey", facts=["Fieldwork July–September 2022",
    "112 respondents", "Published 26 November 2026"], caveat="Respondent-level data reconstructed from the published article",
    reference="AKAM (2026). A book (2022 edition).", url="https://example.org/editions/2022/", publisher="AKAM",
    reuse="© AKAM. Figures may be quoted with attribution.", published=dt.date(2026, 11, 26),
    short="A book · 2022 edition", keywords=("rewards",))

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body>
<h1 id="top">{title}</h1>{body}</body></html>"""


def tiny_site(folder):
    """Two pages: the second has a figure on its second sheet, linked from the first page and from itself."""
    (folder / "chapters").mkdir(parents=True)
    (folder / "index.html").write_text(PAGE.format(title="Landing", body=(
        '<p>See <a href="chapters/two.html#fig-b">Figure 1.1</a> and <a href="other.html">a page not printed</a> '
        'and <a href="https://example.com/x">elsewhere</a>.</p>')), encoding="utf-8")
    (folder / "chapters" / "two.html").write_text(PAGE.format(title="Chapter two", body=(
        '<p>Text.</p><div style="break-before: page"></div>'
        '<figure id="fig-b"><p>A chart</p><figcaption>Figure 1.1 <a href="#fig-b">#</a></figcaption></figure>'
        '<p>Back to <a href="#fig-b">Figure 1.1</a>.</p>')), encoding="utf-8")
    return [printed.PrintPage("index.html", "Landing"),
            printed.PrintPage("chapters/two.html", "1. Chapter two", [printed.PrintFigure("fig-b", "Figure 1.1", "B")])]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, chromium):
    folder = tmp_path_factory.mktemp("site")
    pages = tiny_site(folder)
    return folder, pages, printed.print_edition(folder, pages, EDITION, chromium=chromium)


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return found


def test_cover_contents_pages_and_bookmarks(tiny):
    _, _, data = tiny
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 5  # cover, contents, landing, chapter two on two sheets
    cover = reader.pages[0].extract_text()
    for expected in ("A book <with> & markup", "2022 edition", "112 respondents", "Published 26 November 2026",
                     "Respondent-level data reconstructed from the published article", "AKAM (2026).",
                     "https://example.org/editions/2022/", "Figures may be quoted with attribution."):
        assert expected in cover, expected
    contents = reader.pages[1].extract_text()
    assert "Landing 3" in contents and "1. Chapter two 4" in contents and "Figure 1.1: B 5" in contents
    assert outline(reader) == [(0, "Cover", 1), (0, "Contents", 2), (0, "Landing", 3), (0, "1. Chapter two", 4),
                               (1, "Figure 1.1: B", 5)]


def test_every_page_but_the_cover_is_numbered(tiny):
    reader = PdfReader(io.BytesIO(tiny[2]))
    assert "A book · 2022 edition" not in reader.pages[0].extract_text()
    for number, page in enumerate(reader.pages[1:], start=2):
        assert page.extract_text().rstrip().endswith(f"A book · 2022 edition {number}"), number


def test_links_inside_the_edition_stay_inside_the_pdf_and_no_local_path_is_left(tiny):
    folder, _, data = tiny
    reader = PdfReader(io.BytesIO(data))
    pages = {page.indirect_reference.idnum: i for i, page in enumerate(reader.pages)}
    internal, external = [], []
    for i, page in enumerate(reader.pages):
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if "/Dest" in annotation:
                internal.append((i + 1, pages[annotation["/Dest"][0].idnum] + 1))
            elif "/A" in annotation:
                external.append((i + 1, str(annotation["/A"]["/URI"])))
    assert {(2, 3), (2, 4), (2, 5)} <= set(internal)  # the contents' entries
    assert (3, 5) in internal  # the landing page's link to the figure, on the chapter's second sheet
    assert (5, 5) in internal  # the chapter's own link to its figure
    assert (3, "https://example.org/editions/2022/other.html") in external  # a page not printed: its permanent address
    assert (3, "https://example.com/x") in external
    assert b"file:" not in data and str(folder).encode() not in data


def test_the_same_pages_give_the_same_bytes_dated_by_the_edition(tiny, chromium):
    folder, pages, data = tiny
    assert printed.print_edition(folder, pages, EDITION, chromium=chromium) == data
    info = PdfReader(io.BytesIO(data)).metadata
    assert info["/CreationDate"] == info["/ModDate"] == "D:20261126000000Z"
    assert info["/Title"] == "A book <with> & markup: 2022 edition: the 2022 survey"


def test_a_page_missing_from_the_site_is_an_error(tmp_path, chromium):
    with pytest.raises(printed.PrintError, match="nowhere.html"):
        printed.print_edition(tmp_path, [printed.PrintPage("nowhere.html", "Nowhere")], EDITION, chromium=chromium)


def test_the_front_matter_escapes_what_it_is_given():
    page = printed.front_matter_html(EDITION, [printed.PrintPage("a.html", "<i>x</i>")], {"a.html": 3}, {})
    assert "A book &lt;with&gt; &amp; markup" in page and "&lt;i&gt;x&lt;/i&gt;" in page and "<i>" not in page


def test_chromium_is_found_where_it_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-browser"))
    assert printed.find_chromium() is None
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(fake))
    assert printed.find_chromium() == str(fake)


# -- the built edition's print edition -----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_editions_pdf_holds_every_page_and_figure(site, chromium):
    from test_deck import site_figure_labels

    book = citation.load_citation(ROOT)
    edition = book.current
    path = site / kit.KIT_DIR / kit.kit_names(book, edition.wave)["print"]
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    labels = site_figure_labels(site)
    assert len(reader.pages) > 2 + len(labels) // 3
    for label in labels.values():
        assert label in text, label
    assert f"{edition.label}: {edition.survey}" in reader.pages[0].extract_text()
    assert "Respondent-level data reconstructed from the published article" in reader.pages[0].extract_text()
    marks = outline(reader)
    assert sorted(title.split(":")[0] for depth, title, _ in marks if depth == 1) == sorted(labels.values())
    assert [page for _, _, page in marks] == sorted(page for _, _, page in marks)  # in reading order
    assert b"file:" not in path.read_bytes()


def test_chromium_found_later_makes_the_html_step_run_again(monkeypatch, tmp_path):
    """A book built where no Chromium was has no print edition; installing one must rebuild, not say 'up to date'."""
    from kamsurvey.build import stamps

    step, command = stamps.STEPS["html"], ["kam", "html"]
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "none"))
    without = stamps.fingerprint(tmp_path, step, command)
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("CHROMIUM", str(fake))
    assert stamps.fingerprint(tmp_path, step, command) != without
    assert stamps.fingerprint(tmp_path, step, command) == stamps.fingerprint(tmp_path, step, command)


def test_a_chromium_that_cannot_start_is_a_clear_error(tmp_path):
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(printed.PrintError, match="could not start"):
        printed.print_edition(tmp_path, [], EDITION, chromium=str(broken))
