"""The slide deck (kamsurvey.site.deck): 16:9, a title slide, the key findings, one slide per figure with its title,
chart, number and address, a sources slide; every word editable; the same content gives the same bytes. The deck of
the built edition is opened in the slow test at the end."""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
import zlib

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from book import ROOT
from kamsurvey.report import citation
from kamsurvey.site import deck, kit
from kamsurvey.site.keyfindings import Run

PUBLISHED = dt.date(2026, 11, 26)


def png(width: int, height: int) -> bytes:
    """A blank PNG of that size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\xff" * (width * 3) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def content(figures: int = 3, findings: int = 5, caveat: str | None = "Respondent-level data reconstructed from "
            "the published article") -> deck.DeckContent:
    slides = [deck.SlideFigure(label=f"Figure 2.{i}", title=f"Finding number {i}: 59% say sales <b>&</b>",
                               caption=f"Caption {i}.", image=png(160 + i, 90), notes=["Base: respondents (n = 112)."],
                               source="Source: the survey.", caveats=["A caveat."], url=f"https://x.org/e/2022/p.html#fig-{i}",
                               reference=f"AKAM (2026). Figure 2.{i}.", alt=f"Bar chart {i}: 59% say sales.")
              for i in range(1, figures + 1)]
    items = [[Run(f"Finding {i}.", bold=True), Run(" 59% say so ("), Run("Figure 2.1", url="https://x.org/#fig-1"),
              Run(").")] for i in range(1, findings + 1)]
    return deck.DeckContent(
        title="Rewarding KAM performance: survey findings", edition="2022 edition: the 2022 survey",
        facts="Answered between July and September 2022 · 112 respondents · Published 26 November 2026", caveat=caveat,
        url="https://x.org/e/2022/", publisher="AKAM", findings=items, figures=slides,
        sources=[("The article", "Woodburn, D. (2022)."), ("This edition", "AKAM (2026).")],
        reuse="© AKAM. Figures may be quoted with attribution.", published=PUBLISHED, keywords=("rewards",))


def opened(data: bytes):
    return Presentation(io.BytesIO(data))


def texts(slide) -> str:
    return " ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)


def test_the_title_slide_dates_the_fieldwork_as_the_prose_does():
    """One phrasing of the fieldwork across prose, figures and the deck (issue 16 item 1)."""
    edition = citation.load_citation(ROOT).edition("2022")
    facts = kit._facts(edition)
    assert facts[0] == "Answered " + edition.fieldwork_between and edition.fieldwork_between.startswith("between ")
    assert "–" not in facts[0]


def test_the_deck_is_16_9_with_a_slide_for_each_part():
    prs = opened(deck.make_deck(content()))
    assert abs(prs.slide_width / prs.slide_height - 16 / 9) < 0.001
    titles = [slide.shapes.title.text for slide in prs.slides]
    assert titles[0] == "Rewarding KAM performance: survey findings"
    assert titles[1] == "Key findings"
    assert titles[2:5] == [f"Finding number {i}: 59% say sales <b>&</b>" for i in (1, 2, 3)]
    assert titles[-1] == "Sources" and len(titles) == 6


def test_the_title_slide_names_edition_fieldwork_n_date_and_the_caveat():
    first = opened(deck.make_deck(content())).slides[0]
    words = texts(first)
    for expected in ("2022 edition", "Answered between July and September 2022", "112 respondents", "Published 26 November 2026",
                     "Respondent-level data reconstructed from the published article", "https://x.org/e/2022/"):
        assert expected in words, expected
    plain = texts(opened(deck.make_deck(content(caveat=None))).slides[0])
    assert "reconstructed" not in plain


def test_each_figure_slide_has_its_chart_number_address_and_notes():
    prs = opened(deck.make_deck(content()))
    for i, slide in enumerate(list(prs.slides)[2:5], start=1):
        pictures = [s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == 1 and pictures[0].image.blob == png(160 + i, 90)
        assert pictures[0]._element.nvPicPr.cNvPr.get("descr") == f"Bar chart {i}: 59% say sales."
        assert f"Figure 2.{i}" in texts(slide) and f"https://x.org/e/2022/p.html#fig-{i}" in texts(slide)
        notes = slide.notes_slide.notes_text_frame.text
        for expected in (f"Figure 2.{i}: Caption {i}.", "Base: respondents (n = 112).", "Source: the survey.",
                         "A caveat.", f"Cite as: AKAM (2026). Figure 2.{i}."):
            assert expected in notes


def test_every_word_is_editable_text_and_links_are_links():
    prs = opened(deck.make_deck(content()))
    for slide in prs.slides:
        for shape in slide.shapes:
            assert shape.has_text_frame or shape.shape_type == MSO_SHAPE_TYPE.PICTURE, shape.name
    findings = prs.slides[1]
    runs = [run for shape in findings.shapes if shape.has_text_frame
            for p in shape.text_frame.paragraphs for run in p.runs]
    assert any(run.font.bold and run.text == "Finding 1." for run in runs)
    assert any(run.hyperlink.address == "https://x.org/#fig-1" for run in runs)
    sources = texts(prs.slides[-1])
    assert "Woodburn, D. (2022)." in sources and "Figures may be quoted with attribution." in sources


def test_many_findings_go_on_as_many_slides_as_they_need():
    prs = opened(deck.make_deck(content(findings=14)))
    titles = [slide.shapes.title.text for slide in prs.slides]
    continued = [t for t in titles if t.startswith("Key findings")]
    assert len(continued) >= 2 and continued[0].startswith("Key findings (1 of ")
    found = " ".join(texts(s) for s in prs.slides if s.shapes.title.text.startswith("Key findings"))
    assert all(f"Finding {i}." in found for i in range(1, 15))


def test_the_same_content_gives_the_same_bytes_dated_by_the_edition():
    first = deck.make_deck(content())
    assert deck.make_deck(content()) == first
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 11, 26, 0, 0, 0)}
        assert archive.namelist()[0] == "[Content_Types].xml"
    props = opened(first).core_properties
    assert props.created == props.modified == dt.datetime(2026, 11, 26) and props.revision == 1
    assert props.author == props.last_modified_by == "AKAM"


# -- the built edition's deck --------------------------------------------------------------------------------------

FIGURE = re.compile(r'<figure[^>]* id="(fig-[^"]+)"[^>]*>.*?<span class="caption-number">(Figure [\d.]+) </span>', re.S)


def site_figure_labels(site) -> dict[str, str]:
    found = {}
    for page in sorted(site.rglob("*.html")):
        if page.relative_to(site).parts[0] not in {"_static", "_sources", kit.KIT_DIR}:
            found.update(FIGURE.findall(page.read_text(encoding="utf-8")))
    return found


@pytest.mark.slow
def test_the_editions_deck_has_every_figure_with_its_title(site):
    book = citation.load_citation(ROOT)
    names = kit.kit_names(book, book.current.wave)
    prs = opened((site / kit.KIT_DIR / names["deck"]).read_bytes())
    labels = site_figure_labels(site)
    slides = list(prs.slides)
    titles = [slide.shapes.title.text for slide in slides]
    findings = [t for t in titles if t.startswith("Key findings")]
    assert titles[0] == book.title and titles[-1] == "Sources" and findings
    assert len(slides) == 1 + len(findings) + len(labels) + 1
    figure_slides = slides[1 + len(findings):-1]
    shown = [next(label for label in labels.values() if texts(s).find(f"{label} · ") >= 0) for s in figure_slides]
    assert sorted(shown) == sorted(labels.values())  # every figure once
    for slide, label in zip(figure_slides, shown):
        fig_id = next(k for k, v in labels.items() if v == label)
        about = (site / "figures" / f"{fig_id}_{book.current.wave}.txt").read_text(encoding="utf-8-sig")
        assert about.splitlines()[0] == f"{label}: {' '.join(slide.shapes.title.text.split())}"
        assert f"#{fig_id}" in texts(slide)
    assert "Respondent-level data reconstructed from the published article" in texts(slides[0])
