"""The edition as a 16:9 slide deck (python-pptx): what a member briefing is made of.

    title slide     the book, the edition, fieldwork, n, publication date, and for a reconstructed
                    wave "Respondent-level data reconstructed from the published article"
    key findings    the landing page's, with the book's numbers; each figure number links to the figure
    one per figure  the figure's title as the slide title, the chart, and in the footer its number,
                    the publisher and its permanent address; the notes hold the caption, the chart's
                    notes (base, what the percentage is of), the source line, the caveats and its reference
    sources         the article, this edition's reference, the reuse terms

Every word is in a text box or a placeholder (editable, read by screen readers and by PowerPoint's
outline); only the charts are pictures. python-pptx writes the time into the file's properties and
its zip; both are set from the edition (its publication date), so the same book gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from pptx import Presentation
from pptx.enum.text import PP_ALIGN
from pptx.util import Inches, Pt

from kamsurvey.site.keyfindings import Run
from kamsurvey.site.zipped import refixed

WIDTH_IN, HEIGHT_IN = 13.333, 7.5  # 16:9
MARGIN_IN = 0.6
TITLE_TOP_IN, TITLE_HEIGHT_IN = 0.35, 1.15
FOOTER_HEIGHT_IN = 0.55
TITLE_SLIDE, TITLE_ONLY = 0, 5  # layouts of python-pptx's default template
TITLE_PT, BODY_PT, FOOTER_PT, FINDINGS_PT = 26, 16, 11, 18
GLYPH_EM = 0.5  # an average glyph's width in ems, to estimate how many lines a text needs
LINE_SPACING = 1.25


@dataclass(frozen=True)
class SlideFigure:
    label: str  # "Figure 2.3"
    title: str  # what the figure says: the slide's title
    caption: str
    image: bytes  # the chart, PNG
    notes: Sequence[str]  # the chart's notes: base, what the percentage is of, ...
    source: str
    caveats: Sequence[str]
    url: str  # its permanent address
    reference: str  # its citation (APA 7)
    alt: str = ""  # the chart's alt text (from its data), read by screen readers


@dataclass(frozen=True)
class DeckContent:
    title: str
    edition: str  # "2022 edition: AKAM performance and rewards survey 2022"
    facts: str  # "Answered between July and September 2022 · 112 respondents · Published 26 November 2026"
    caveat: str | None  # the reconstruction caveat, where it applies
    url: str  # the edition's permanent address
    publisher: str
    findings: Sequence[Sequence[Run]]
    figures: Sequence[SlideFigure]
    sources: Sequence[tuple[str, str]]  # (what, reference)
    reuse: str
    published: dt.date | None
    keywords: Sequence[str] = field(default_factory=tuple)


def _add_runs(paragraph, runs: Sequence[Run], size: float) -> None:
    for part in runs:
        run = paragraph.add_run()
        run.text = part.text
        run.font.size = Pt(size)
        run.font.bold = part.bold
        if part.url:
            run.hyperlink.address = part.url


def _text_box(slide, left: float, top: float, width: float, height: float, paragraphs: Sequence[Sequence[Run]],
              size: float, *, space_after: float = 0.0, name: str | None = None):
    box = slide.shapes.add_textbox(Inches(left), Inches(top), Inches(width), Inches(height))
    if name:
        box.name = name
    frame = box.text_frame
    frame.word_wrap = True
    for i, runs in enumerate(paragraphs):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(space_after)
        _add_runs(paragraph, runs, size)
    return box


def _set_title(slide, text: str, size: float = TITLE_PT) -> None:
    title = slide.shapes.title
    title.left, title.top = Inches(MARGIN_IN), Inches(TITLE_TOP_IN)
    title.width, title.height = Inches(WIDTH_IN - 2 * MARGIN_IN), Inches(TITLE_HEIGHT_IN)
    frame = title.text_frame
    frame.word_wrap = True
    frame.text = text
    for paragraph in frame.paragraphs:
        paragraph.alignment = PP_ALIGN.LEFT
        for run in paragraph.runs:
            run.font.size = Pt(size)
            run.font.bold = True


def _notes(slide, lines: Sequence[str]) -> None:
    slide.notes_slide.notes_text_frame.text = "\n".join(line for line in lines if line)


def _footer(slide, runs: Sequence[Run]) -> None:
    _text_box(slide, MARGIN_IN, HEIGHT_IN - FOOTER_HEIGHT_IN - 0.15, WIDTH_IN - 2 * MARGIN_IN, FOOTER_HEIGHT_IN,
              [runs], FOOTER_PT, name="Footer")


def _lines_needed(text: str, size: float, width_in: float) -> int:
    per_line = max(1, int(width_in * 72 / (size * GLYPH_EM)))
    return max(1, math.ceil(len(text) / per_line))


def _pages(items: Sequence[Sequence[Run]], size: float, width_in: float, height_in: float) -> list[list[Sequence[Run]]]:
    """The items split over as few slides as they fit on (at `size` points in a box of that size)."""
    budget = int(height_in * 72 / (size * LINE_SPACING))
    pages: list[list[Sequence[Run]]] = [[]]
    used = 0
    for item in items:
        lines = _lines_needed("".join(run.text for run in item), size, width_in) + 1  # and the gap after it
        if pages[-1] and used + lines > budget:
            pages.append([])
            used = 0
        pages[-1].append(item)
        used += lines
    return pages


def png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("a chart image that is not a PNG")
    return struct.unpack(">II", data[16:24])


def _title_slide(prs, content: DeckContent) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_SLIDE])
    title = slide.shapes.title
    title.left, title.top = Inches(MARGIN_IN), Inches(1.3)
    title.width, title.height = Inches(WIDTH_IN - 2 * MARGIN_IN), Inches(1.9)
    title.text_frame.word_wrap = True
    title.text_frame.text = content.title
    for run in title.text_frame.paragraphs[0].runs:
        run.font.size = Pt(36)
        run.font.bold = True
    subtitle = slide.placeholders[1]
    subtitle.left, subtitle.top = Inches(MARGIN_IN), Inches(3.4)
    subtitle.width, subtitle.height = Inches(WIDTH_IN - 2 * MARGIN_IN), Inches(3.2)
    frame = subtitle.text_frame
    frame.word_wrap = True
    lines = [[Run(content.edition, bold=True)], [Run(content.facts)]]
    if content.caveat:
        lines.append([Run(content.caveat)])
    lines += [[Run(content.url, url=content.url)], [Run(content.publisher)]]
    for i, runs in enumerate(lines):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.alignment = PP_ALIGN.LEFT
        paragraph.space_after = Pt(6)
        _add_runs(paragraph, runs, 20 if i == 0 else BODY_PT + 2)
    _notes(slide, [content.title, content.edition, content.facts, content.caveat or "", content.url])


def _findings_slides(prs, content: DeckContent) -> None:
    top = TITLE_TOP_IN + TITLE_HEIGHT_IN + 0.1
    width, height = WIDTH_IN - 2 * MARGIN_IN, HEIGHT_IN - top - FOOTER_HEIGHT_IN - 0.3
    pages = _pages(content.findings, FINDINGS_PT, width, height)
    for i, items in enumerate(pages):
        slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
        _set_title(slide, "Key findings" + (f" ({i + 1} of {len(pages)})" if len(pages) > 1 else ""))
        _text_box(slide, MARGIN_IN, top, width, height, [[Run("• "), *runs] for runs in items], FINDINGS_PT,
                  space_after=10, name="Key findings")
        _footer(slide, [Run(f"{content.edition} · "), Run(content.url, url=content.url)])
        _notes(slide, ["".join(run.text for run in runs) for runs in items])


def _figure_slide(prs, content: DeckContent, figure: SlideFigure) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _set_title(slide, figure.title, TITLE_PT if len(figure.title) <= 110 else TITLE_PT - 4)
    top = TITLE_TOP_IN + TITLE_HEIGHT_IN + 0.1
    box_w, box_h = WIDTH_IN - 2 * MARGIN_IN, HEIGHT_IN - top - FOOTER_HEIGHT_IN - 0.3
    px_w, px_h = png_size(figure.image)
    scale = min(box_w / px_w, box_h / px_h)
    width, height = px_w * scale, px_h * scale
    picture = slide.shapes.add_picture(io.BytesIO(figure.image), Inches(MARGIN_IN + (box_w - width) / 2),
                                       Inches(top), Inches(width), Inches(height))
    picture.name = f"{figure.label} chart"
    picture._element.nvPicPr.cNvPr.set("descr", figure.alt or figure.title)  # alt text: python-pptx has no API for it
    _footer(slide, [Run(f"{figure.label} · {content.publisher} · "), Run(figure.url, url=figure.url)])
    _notes(slide, [f"{figure.label}: {figure.caption}" if figure.caption else figure.label, *figure.notes,
                   figure.source, *figure.caveats, f"Permanent address: {figure.url}", f"Cite as: {figure.reference}"])


def _sources_slide(prs, content: DeckContent) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[TITLE_ONLY])
    _set_title(slide, "Sources")
    top = TITLE_TOP_IN + TITLE_HEIGHT_IN + 0.1
    paragraphs = [[Run(f"{what}: ", bold=True), Run(reference)] for what, reference in content.sources]
    paragraphs.append([Run("Reuse: ", bold=True), Run(content.reuse)])
    paragraphs.append([Run("This edition: ", bold=True), Run(content.url, url=content.url)])
    _text_box(slide, MARGIN_IN, top, WIDTH_IN - 2 * MARGIN_IN, HEIGHT_IN - top - 0.5, paragraphs, BODY_PT,
              space_after=12, name="Sources")
    _notes(slide, ["".join(run.text for run in runs) for runs in paragraphs])


def _properties(prs, content: DeckContent) -> None:
    """The file's properties from the edition, not from the clock (python-pptx would write today's date)."""
    when = dt.datetime.combine(content.published or dt.date(1980, 1, 1), dt.time(0, 0))
    props = prs.core_properties
    props.title = f"{content.title}: {content.edition}"
    props.subject = content.facts
    props.author = props.last_modified_by = content.publisher
    props.keywords = "; ".join(content.keywords)
    props.comments = content.reuse
    props.category = "Briefing"
    props.created = props.modified = when
    props.revision = 1
    props.identifier = content.url
    props.language = "en"


def make_deck(content: DeckContent) -> bytes:
    """The deck's bytes: the same content gives the same bytes."""
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(WIDTH_IN), Inches(HEIGHT_IN)
    _title_slide(prs, content)
    _findings_slides(prs, content)
    for figure in content.figures:
        _figure_slide(prs, content, figure)
    _sources_slide(prs, content)
    _properties(prs, content)
    buffer = io.BytesIO()
    prs.save(buffer)
    return refixed(buffer.getvalue(), content.published)
