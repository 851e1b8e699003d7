"""Figure downloads that travel (kamsurvey.site.downloads): a CSV Excel reads as UTF-8, a note saying what the numbers
are, a slide image that carries its number, edition, publisher and address; names that carry the edition; the same
bytes every time. The built site's downloads are checked in the slow tests at the end."""

from __future__ import annotations

import csv
import io
import json
import re
import struct
import zipfile
from pathlib import Path

import nbformat
import pytest

from book import ROOT
from kamsurvey.report import citation, citeformats, figures
from kamsurvey.site import downloads, render
from kamsurvey.site.zipped import fixed_zip, refixed

BOM = b"\xef\xbb\xbf"


def chapter_payloads() -> dict[str, dict]:
    """fig-id -> the figure payload a chapter glued."""
    found = {}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                for mime, data in output.get("data", {}).items():
                    if mime.endswith(figures.FIGURE_MIME):
                        payload = data if isinstance(data, dict) else json.loads(data)
                        found[payload["id"]] = payload
    assert len(found) >= 10
    return found


@pytest.fixture(scope="module")
def payloads() -> dict[str, dict]:
    return chapter_payloads()


@pytest.fixture(scope="module")
def book() -> citation.Citation:
    return citation.load_citation(ROOT)


def record_of(payload: dict, book: citation.Citation, label: str = "Figure 2.3") -> downloads.FigureRecord:
    page = "chapters/assessing-performance.html"
    return downloads.FigureRecord(fig_id=payload["id"], label=label, docname=page[:-5], page=page,
                                  url=f"{book.edition(payload['wave']).url}{page}#{payload['id']}",
                                  caption="The caption under the chart.", payload=payload)


def test_file_names_carry_the_figure_and_the_edition():
    assert downloads.file_name("fig-most-important", "2022", "csv") == "fig-most-important_2022.csv"


def test_the_csv_starts_with_a_byte_order_mark_and_reads_back_as_the_table(payloads):
    payload = dict(payloads["fig-most-important"])
    payload["table"] = {"columns": ["Option", "Percentage"], "rows": [["10–20% of salary", "55.1%"], ["Café, “quoted”", "4%"]]}
    data = downloads.csv_bytes(payload)
    assert data.startswith(BOM) and not data.startswith(BOM * 2)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["Option", "Percentage"], ["10–20% of salary", "55.1%"], ["Café, “quoted”", "4%"]]
    assert data.decode("utf-8-sig") == figures.table_csv(payload["table"])


def test_the_chart_words_are_its_question_notes_and_source(payloads):
    """The heading is the chart's finding (the figure's title); its question comes first under it, then the base."""
    payload = payloads["fig-most-important"]
    words = downloads.chart_words(payload["spec"])
    assert " ".join(words.heading) == payload["title"]
    assert " ".join(words.notes).startswith("Question: ‘Which is the most important factor")
    assert any(note.startswith("Base:") for note in words.notes)
    assert any(note.startswith("% of respondents") for note in words.notes)
    assert words.source.startswith("Source:") and "reconstructed from the published article" in words.source


def test_the_note_says_what_the_numbers_are(payloads, book):
    payload = payloads["fig-most-important"]
    record = record_of(payload, book)
    edition = book.edition(payload["wave"])
    text = downloads.about_text(record, book=book, edition=edition, question="Which factor matters most?",
                                reuse=citation.reuse_terms(ROOT))
    assert text.startswith("\ufeffFigure 2.3: ")
    for expected in ("Question: Which factor matters most?", "Base: respondents answering (n = 112).",
                     "% of respondents; one answer each.", "Source: AKAM survey", "Caption: The caption under the chart.",
                     f"Edition: {edition.label}: {edition.survey}", f"Permanent address: {record.url}",
                     "Cite as (APA 7): ", "Cite as (Harvard): ", f"Reuse: {citation.reuse_terms(ROOT)}",
                     "Respondent-level data reconstructed from the published article: Woodburn",
                     record.file_name("csv"), record.file_name("png")):
        assert expected in text, expected
    assert "withheld" not in text.split("Caveats:")[1]


def test_a_withheld_cell_is_a_caveat(payloads, book):
    payload = dict(payloads["fig-most-important"])
    payload["table"] = {"columns": ["Option", "Count"], "rows": [["Sales", 66], ["Other", downloads.SUPPRESSED_MARK]]}
    record = record_of(payload, book)
    caveats = downloads.caveats(record, book, book.edition(payload["wave"]))
    assert any(c.startswith(f"{downloads.SUPPRESSED_MARK}: withheld because fewer than") for c in caveats)
    assert not any("small-base" in c for c in caveats)  # plain words for readers, not the policy's name


def test_a_diagram_carries_no_data_caveat(payloads, book):
    """Figure 7.1 draws the article's argument: its reference, note and slide carry no caveat about data."""
    diagram = payloads["fig-spectrum"]
    assert diagram["kind"] == figures.DIAGRAM
    edition = book.edition(diagram["wave"])
    assert edition.reconstructed
    record = record_of(diagram, book, label="Figure 7.1")
    item = downloads.figure_item(record, book, edition)
    for style in ("apa", "harvard-cite-them-right"):
        assert citation.RECONSTRUCTED not in citeformats.text(item, style).lower(), style
    assert "medium" not in item and item["note"].startswith("Figure 7.1 of the ")
    assert downloads.caveats(record, book, edition) == []
    about = downloads.about_text(record, book=book, edition=edition, question=None, reuse="Reuse terms.")
    assert citation.RECONSTRUCTED not in about.lower()
    data = downloads.figure_item(record_of(payloads["fig-most-important"], book), book, edition)
    assert data["medium"] == citation.RECONSTRUCTED  # a chart of the data keeps it


def test_the_edition_line_dates_the_fieldwork_as_the_prose_does(book):
    edition = book.edition("2022")
    line = downloads.edition_line(edition)
    assert f"answered {edition.fieldwork_between}," in line and edition.fieldwork_between.startswith("between ")
    assert edition.fieldwork not in line  # not the 'July–September 2022' form


def test_the_slide_image_draws_number_edition_publisher_and_address_around_the_chart(payloads, book, tmp_path):
    payload = payloads["fig-most-important"]
    record = record_of(payload, book)
    chart = render.render_svg(payload["spec"]).decode("utf-8")
    svg = downloads.figure_slide_svg(record, chart, book, book.edition(payload["wave"]))
    assert "Figure 2.3 · Rewarding KAM performance, 2022 edition" in svg
    assert f"© {downloads.publisher(book)}" in svg and record.url in svg
    assert chart.split(">", 1)[1] in svg  # the chart itself, untouched but for its position
    png = render.rasterised(tmp_path, svg)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">I", png[16:20])[0] >= render.PNG_MIN_WIDTH
    assert render.rasterised(tmp_path, svg) == png == render.render_png(svg)  # cached, and the same bytes


def test_text_drawn_into_the_slide_image_stays_text():
    chart = '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100"><rect width="300" height="100"/></svg>'
    svg = downloads.slide_svg(chart, header='Figure 1 <script>alert(1)</script> & "x"', footer=["https://x/?a=1&b=<2>"])
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp;b=&lt;2&gt;" in svg
    width = float(re.search(r'<svg[^>]* width="([\d.]+)"', svg).group(1))
    assert width > 300  # widened to the header's length, not cut off


def test_a_long_address_widens_the_image_instead_of_being_cut(payloads):
    chart = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="80"></svg>'
    url = "https://example.org/" + "a" * 200
    svg = downloads.slide_svg(chart, header="Figure 1", footer=[url])
    width = float(re.search(r'<svg[^>]* width="([\d.]+)"', svg).group(1))
    assert width >= len(url) * downloads.FOOTER_SIZE * 0.5


def test_zips_are_the_same_bytes_whenever_they_are_made(tmp_path):
    import datetime as dt

    members = [("a/one.csv", b"\xef\xbb\xbfx,y\n"), ("a/two.png", bytes(range(256)) * 40)]
    day = dt.date(2026, 11, 26)
    first = fixed_zip(members, day)
    assert fixed_zip(members, day) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert [i.filename for i in archive.infolist()] == ["a/one.csv", "a/two.png"]
        assert {i.date_time for i in archive.infolist()} == {(2026, 11, 26, 0, 0, 0)}
        assert archive.read("a/two.png") == members[1][1]
    assert fixed_zip(members, dt.date(2027, 1, 1)) != first
    # another library's zip, rewritten: same members, same order, the edition's date
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    assert refixed(other.getvalue(), day) == first


# -- the built site ------------------------------------------------------------------------------------------------

# a figure block with its downloads (the landing page's headline chart shows a chapter's figure again, without them)
FIGURE_BLOCK = re.compile(r'data-kam-figure-more="([^"]+)"')
DOWNLOAD = re.compile(r'<a class="kam-download" href="([^"]+)" download>([^<]+)</a>')


def figure_downloads(site: Path) -> dict[str, list[tuple[str, str]]]:
    """page -> (href, words) of every figure download on it."""
    found = {}
    for page in sorted(site.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        if FIGURE_BLOCK.search(html):
            found[page.relative_to(site).as_posix()] = DOWNLOAD.findall(html)
    return found


def is_diagram(html: str, fig_id: str) -> bool:
    """A figure block with no data table before its downloads: a diagram (no numbers behind it, so no CSV)."""
    start = html.index(f'data-kam-figure-more="{fig_id}"')
    return "kam-data-table" not in html[start:html.index('class="kam-downloads"', start)]


@pytest.mark.slow
def test_every_figure_of_the_site_has_its_four_downloads_named_by_edition(site):
    """Four for a chart; a diagram has no numbers behind it, so no CSV (and no data table)."""
    wave = citation.load_citation(ROOT).current.wave
    pages = figure_downloads(site)
    figures_seen = diagrams = 0
    for page, links in pages.items():
        html = (site / page).read_text(encoding="utf-8")
        for fig_id in FIGURE_BLOCK.findall(html):
            mine = {href.rsplit("/", 1)[-1]: (href, words) for href, words in links
                    if href.rsplit("/", 1)[-1].startswith(f"{fig_id}_{wave}.")}
            kinds = {ext: words for ext, words in downloads.DOWNLOAD_KINDS.items()
                     if ext != "csv" or not is_diagram(html, fig_id)}
            assert {name: words for name, (_, words) in mine.items()} == {
                downloads.file_name(fig_id, wave, ext): words for ext, words in kinds.items()}, fig_id
            diagrams += is_diagram(html, fig_id)
            for href, _ in mine.values():
                assert ((site / page).parent / href).is_file(), href
            figures_seen += 1
    assert figures_seen >= 13 and diagrams == 1  # the spectrum (Figure 7.1)
    for path in sorted((site / "figures").glob("*.csv")):
        data = path.read_bytes()
        assert data[:3] == BOM and re.fullmatch(rf"fig-[a-z0-9-]+_{wave}\.csv", path.name), path.name
        assert data[3:].decode("utf-8").splitlines()[0].split(",")[0] in {"Option", "Group", "Note", "Row"}
        about = path.with_suffix(".txt").read_text(encoding="utf-8-sig")
        assert re.match(r"Figure \d+\.\d+: ", about) and f"Edition: {wave} edition" in about, path.name
        png = path.with_suffix(".png").read_bytes()
        assert struct.unpack(">I", png[16:20])[0] >= render.PNG_MIN_WIDTH
