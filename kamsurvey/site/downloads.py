"""Each figure's downloads, made to travel: they say what they are wherever they end up.

Under every figure, and in the briefing kit's zip of every figure (`kamsurvey.site.kit`):

- `<fig-id>_<wave>.csv`: the numbers behind the chart, UTF-8 with a byte-order mark, so that
  Excel on Windows reads '10–20%' and not '10â€“20%';
- `<fig-id>_<wave>.txt`: what the CSV cannot say: the figure's number and title, the question's
  wording, the chart's notes (base, what the percentage is of, intervals, the withheld mark),
  its source line, the caveats (reconstructed data, withheld cells), the edition, the figure's
  permanent address, its citation (APA 7, Harvard) and the reuse terms;
- `<fig-id>_<wave>.svg`: the chart;
- `<fig-id>_<wave>.png`: the chart with the figure's number and edition above it and the
  publisher and permanent address under it: an SVG drawn around the chart's own SVG,
  rasterised by vl-convert like every chart (`kamsurvey.site.render`), cached by its text.

The file names carry the figure id and the edition, so that two editions' downloads never
overwrite each other in a Downloads folder. Every byte comes from the figure's payload, the
built figure's number and caption, and the citation model: the same book gives the same files.

Figure numbers exist only once every page is read, so the figures of the whole build are
gathered from the doctrees (`book_figures`) when the first figure is written; their PNGs are
then rasterised together by a pool of processes (one per core), and each page's writer reads
them from the cache.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util.osutil import relative_uri

from kamsurvey.analysis.policy import SUPPRESSED_MARK
from kamsurvey.data.codebook import Codebook, load_codebook
from kamsurvey.report import citation, citeformats, figures, marks
from kamsurvey.report.charts import FONT, MUTED_COLOUR, TEXT_COLOUR
from kamsurvey.report.literal import html
from kamsurvey.site import render

BOM = "\ufeff"
DOWNLOAD_KINDS = {  # extension -> the link's words under the figure, in the order shown
    "csv": "Data (CSV)",
    "txt": "About the data (TXT)",
    "svg": "Chart (SVG)",
    "png": "Slide image (PNG)",
}
FIGURES_DIR = "figures"


@dataclass(frozen=True)
class FigureRecord:
    """A figure as the built book numbers, captions and addresses it."""

    fig_id: str
    label: str  # "Figure 2.3" ("Figure" if unnumbered)
    docname: str
    page: str  # chapters/assessing-performance.html
    url: str  # its permanent address: …/editions/<wave>/<page>#<fig-id>
    caption: str
    payload: dict

    @property
    def title(self) -> str:
        return str(self.payload["title"])

    @property
    def wave(self) -> str:
        return str(self.payload["wave"])

    def file_name(self, ext: str) -> str:
        return file_name(self.fig_id, self.wave, ext)


def file_name(fig_id: str, wave: str, ext: str) -> str:
    """'fig-most-important_2022.csv'."""
    return f"{fig_id}_{wave}.{ext}"


# -- the chart's own words ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartWords:
    """What the chart prints around its marks: heading (the question), notes (base, percentages...), source."""

    heading: tuple[str, ...]
    notes: tuple[str, ...]
    source: str


def _lines(value: Any) -> list[str]:
    if value is None:
        return []
    return [" ".join(str(v).split()) for v in (value if isinstance(value, list) else [value]) if str(v).strip()]


def chart_words(spec: dict) -> ChartWords:
    """The title, subtitle and source line of a chart spec (`kamsurvey.report.charts`): a title at the bottom is
    the source line; the first other title with text is the heading, its subtitle the notes."""
    heading: list[str] = []
    notes: list[str] = []
    source: list[str] = []

    def walk(node: Any) -> None:
        nonlocal heading, notes
        if isinstance(node, list):
            for item in node:
                walk(item)
        if not isinstance(node, dict):
            return
        title = node.get("title")
        if isinstance(title, dict):
            if title.get("orient") == "bottom":
                source.extend(_lines(title.get("text")))
            elif not heading:
                heading, notes = _lines(title.get("text")), _lines(title.get("subtitle"))
        for key, value in node.items():
            if key not in {"config", "title", "data", "datasets", "encoding"}:
                walk(value)

    walk(spec)
    return ChartWords(tuple(heading), tuple(notes), " ".join(source))


# -- the files ---------------------------------------------------------------------------------------------------


def csv_bytes(payload: dict) -> bytes:
    """The data table as CSV, with a UTF-8 byte-order mark (Excel reads it as UTF-8 only with one)."""
    return (BOM + figures.table_csv(payload["table"])).encode("utf-8")


def withheld(payload: dict) -> bool:
    return any(cell == SUPPRESSED_MARK for row in payload["table"]["rows"] for cell in row)


def is_diagram(payload: dict) -> bool:
    """Does the figure draw the article's argument rather than survey data (no numbers, so no data caveat)?"""
    return payload.get("kind") == figures.DIAGRAM


def figure_item(record: FigureRecord, book: citation.Citation, edition: citation.EditionRecord) -> dict:
    """The figure's reference (`citation.figure_item`), without the data caveat for a diagram: no data behind it."""
    return cite_item(book, edition, record.payload, label=record.label, title=record.title, url=record.url,
                     fig_id=record.fig_id)


def cite_item(book: citation.Citation, edition: citation.EditionRecord, payload: dict, *, label: str, title: str,
              url: str, fig_id: str) -> dict:
    """`citation.figure_item`; for a diagram, without what it says of where the edition's numbers come from."""
    item = citation.figure_item(book, edition, label=label, title=title, url=url, fig_id=fig_id)
    if is_diagram(payload):
        item.pop("medium", None)
        item["note"] = item["note"].removesuffix(" " + citation.provenance(book, edition))
    return item


def caveats(record: FigureRecord, book: citation.Citation, edition: citation.EditionRecord) -> list[str]:
    """What a reader of the numbers must know: reconstructed data, withheld cells, a question not asked (a diagram
    has no numbers, so no data caveat)."""
    found = []
    if edition.reconstructed and not is_diagram(record.payload):
        found.append(citation.provenance(book, edition))
    if withheld(record.payload):
        found.append(f"{SUPPRESSED_MARK}: {marks.WITHHELD_WORDS}.")
    if record.payload.get("unavailable"):
        found.append(" ".join(str(record.payload["unavailable"]).split()))
    return found


def fieldwork_words(edition: citation.EditionRecord) -> str:
    """'answered between July and September 2022': the house style of the pages (`phrasing.date_span`)."""
    return f"answered {edition.fieldwork_between}" if edition.fieldwork_between else edition.fieldwork


def edition_line(edition: citation.EditionRecord) -> str:
    """'2022 edition: AKAM performance and rewards survey 2022, answered between July and September 2022, n = 112;
    published 26 November 2026.' (the fieldwork dated as the prose dates it: `EditionRecord.fieldwork_between`)"""
    published = citation.published_text(edition)
    return (f"{edition.label}: {edition.survey}, {fieldwork_words(edition)}, n = {edition.n}"
            + (f"; {published}" if published else "") + ".")


def about_text(record: FigureRecord, *, book: citation.Citation, edition: citation.EditionRecord,
               question: str | None, reuse: str) -> str:
    """The metadata file beside the CSV: everything the numbers need to be quoted correctly, as plain text."""
    words = chart_words(record.payload["spec"])
    item = figure_item(record, book, edition)
    lines = [f"{record.label}: {_one_line(record.title)}", "", f"Book: {book.title}", f"Edition: {edition_line(edition)}",
             f"Permanent address: {record.url}"]
    if record.caption:
        lines.append(f"Caption: {_one_line(record.caption)}")
    if question:
        lines.append(f"Question: {_one_line(question)}")
    if words.notes:
        lines += ["Chart notes:", *(f"  {note}" for note in words.notes)]
    if words.source:
        lines.append(words.source if words.source.startswith("Source:") else f"Source: {words.source}")
    found = caveats(record, book, edition)
    if found:
        lines += ["Caveats:", *(f"  - {caveat}" for caveat in found)]
    lines += ["", *(f"Cite as ({name}): {citeformats.text(item, style)}" for style, name in citeformats.STYLES.items()),
              f"Reuse: {reuse}", "",
              "Files:",
              *([f"  {record.file_name('csv')}: the numbers behind the chart (UTF-8 CSV; percentages rounded to one "
                 "decimal)"] if figures.has_data_table(record.payload) else []),
              f"  {record.file_name('svg')}: the chart",
              f"  {record.file_name('png')}: the chart for slides, with its number, edition, publisher and address"]
    return BOM + "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# -- the slide image: the chart with its number, edition, publisher and address ---------------------------------

HEADER_SIZE, FOOTER_SIZE, PAD, LINE = 15, 11, 14, 1.45
CHAR_WIDTH = 0.6  # a generous average glyph width of DejaVu Sans, in ems: the canvas is widened to fit the text


def _svg_size(svg: str) -> tuple[float, float]:
    tag = re.search(r"<svg\b[^>]*>", svg)
    found = {name: re.search(rf'\s{name}="([\d.]+)"', tag.group(0)) if tag else None for name in ("width", "height")}
    if not all(found.values()):
        raise ValueError("a chart's SVG without a width and height")
    return float(found["width"].group(1)), float(found["height"].group(1))


def slide_svg(chart_svg: str, *, header: str, footer: list[str]) -> str:
    """`chart_svg` with a header line above it and footer lines under it, as one SVG (text escaped)."""
    chart_width, height = _svg_size(chart_svg)
    texts = [(header, HEADER_SIZE)] + [(line, FOOTER_SIZE) for line in footer]
    width = max(chart_width, *(len(text) * size * CHAR_WIDTH for text, size in texts)) + 2 * PAD
    head = PAD + HEADER_SIZE * LINE
    total = head + height + PAD * 0.5 + len(footer) * FOOTER_SIZE * LINE + PAD
    inner = re.sub(r"^\s*<\?xml[^>]*>\s*", "", chart_svg)
    inner = re.sub(r"<svg\b", f'<svg x="{PAD}" y="{head:g}"', inner, count=1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{total:g}" '
             f'viewBox="0 0 {width:g} {total:g}">',
             f'<rect width="{width:g}" height="{total:g}" fill="white"/>',
             f'<text x="{PAD}" y="{PAD + HEADER_SIZE:g}" font-family="{html(FONT)}" font-size="{HEADER_SIZE}" '
             f'font-weight="bold" fill="{TEXT_COLOUR}">{html(header)}</text>',
             inner]
    y = head + height + PAD * 0.5
    for line in footer:
        y += FOOTER_SIZE * LINE
        parts.append(f'<text x="{PAD}" y="{y:g}" font-family="{html(FONT)}" font-size="{FOOTER_SIZE}" '
                     f'fill="{MUTED_COLOUR}">{html(line)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def publisher(book: citation.Citation) -> str:
    """The book's authors as CITATION.cff names them (an organisation: its name)."""
    return "; ".join(str(a.get("name") or f"{a.get('given-names', '')} {a.get('family-names', '')}".strip())
                     for a in book.authors)


def figure_slide_svg(record: FigureRecord, chart_svg: str, book: citation.Citation,
                     edition: citation.EditionRecord) -> str:
    short_title = book.title.split(":")[0].strip()
    header = f"{record.label} · {short_title}, {edition.label}"
    return slide_svg(chart_svg, header=header, footer=[f"© {publisher(book)}", record.url])


# -- in the Sphinx build -----------------------------------------------------------------------------------------


def _site():
    from kamsurvey.site import sphinx_ext  # the extension that calls this module (imported late: no cycle)

    return sphinx_ext


def reading_order(env) -> list[str]:
    """Every document of the table of contents, in reading order (the root, then each toctree, depth first)."""
    order: list[str] = []

    def visit(doc: str) -> None:
        if doc in order:
            return
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            visit(child)

    visit(env.config.root_doc)
    return order


def _kam_figures(doctree) -> list[tuple[nodes.Element, nodes.Element | None]]:
    kind = _site().kam_figure
    found = []
    for node in doctree.findall(kind):
        parent = node.parent
        while parent is not None and not isinstance(parent, nodes.figure):
            parent = parent.parent
        found.append((node, parent))
    return found


def book_figures(app) -> list[FigureRecord]:
    """Every figure of the book, in reading order, numbered and addressed as the pages show it (once per build)."""
    if getattr(app, "_kam_book_figures", None) is None:
        env = app.env
        docs = reading_order(env)
        docs += sorted(set(env.found_docs) - set(docs))  # pages outside the table of contents, if any
        app._kam_book_figures = [_record(app, docname, node, figure)
                                 for docname in docs for node, figure in _kam_figures(env.get_doctree(docname))]
    return app._kam_book_figures


def _record(app, docname: str, node: nodes.Element, figure: nodes.Element | None) -> FigureRecord:
    """A figure as its page shows it: the id and number of the figure that holds it, its caption, its address."""
    payload = json.loads(node["payload_json"])
    fig_id = (figure["ids"][0] if figure is not None and figure["ids"] else "") or payload["id"]
    number = app.env.toc_fignumbers.get(docname, {}).get("figure", {}).get(fig_id)
    caption = next((c.astext() for c in figure.findall(nodes.caption)), "") if figure is not None else ""
    page = app.builder.get_target_uri(docname)
    return FigureRecord(fig_id=fig_id, label="Figure " + ".".join(str(n) for n in number) if number else "Figure",
                        docname=docname, page=page, url=f"{_site().stable_url(app, payload['wave'], page)}#{fig_id}",
                        caption=_one_line(caption), payload=payload)


def _codebook(app) -> Codebook | None:
    if not hasattr(app, "_kam_codebook"):
        path = Path(app.confdir) / "data" / "codebook.yml"
        app._kam_codebook = load_codebook(path) if path.exists() else None
    return app._kam_codebook


def question_wording(app, payload: dict) -> str | None:
    codebook = _codebook(app)
    qid = payload.get("question")
    if codebook is None or not qid or qid not in codebook:
        return None
    return codebook[qid].wording_in(str(payload["wave"]))


def cache_dir(app) -> Path:
    return _site()._cache_dir(app)


def _book(app, record: FigureRecord) -> tuple[citation.Citation, citation.EditionRecord]:
    book = _site().book_citation(app)
    if book is None:
        raise ExtensionError(f"kamsurvey: figure downloads are described from {citation.CFF_FILE}; there is none "
                             "next to the book's configuration")
    try:
        return book, book.edition(record.wave)
    except KeyError as error:
        raise ExtensionError(f"kamsurvey: figure {record.fig_id}: {error.args[0]}") from None


def slide_image_svg(app, record: FigureRecord) -> str:
    book, edition = _book(app, record)
    chart = render.cached(cache_dir(app), record.payload["spec"], "svg").decode("utf-8")
    return figure_slide_svg(record, chart, book, edition)


def figure_files(app, record: FigureRecord) -> dict[str, bytes]:
    """extension -> bytes of the figure's downloads (a diagram has no numbers behind it, so no CSV)."""
    book, edition = _book(app, record)
    cache = cache_dir(app)
    about = about_text(record, book=book, edition=edition, question=question_wording(app, record.payload),
                       reuse=_site().reuse_terms(app))
    files = {"csv": csv_bytes(record.payload)} if figures.has_data_table(record.payload) else {}
    return files | {
        "txt": about.encode("utf-8"),
        "svg": render.cached(cache, record.payload["spec"], "svg"),
        "png": render.rasterised(cache, slide_image_svg(app, record)),
    }


def _prerender_slide_images(app, records: list[FigureRecord]) -> None:
    """Every figure's slide image not cached yet, rasterised together by a pool of processes (KAM_RENDER_JOBS,
    else one per core); what fails there is rendered again, and reported, by the page writer."""
    jobs = int(os.environ.get("KAM_RENDER_JOBS") or os.cpu_count() or 1)
    cache = cache_dir(app)
    missing = [svg for svg in (slide_image_svg(app, record) for record in records) if not render.is_rasterised(cache, svg)]
    if jobs < 2 or len(missing) < _site().PRERENDER_MIN:
        return
    pool = render.Prerenderer(cache, jobs)
    pool.rasterise(missing)
    pool.wait()


def write_figure_downloads(app, payload: dict, fig_id: str, page_uri: str) -> dict[str, str]:
    """Write the figure's downloads beside the pages (figures/…); the links under the figure: words -> href."""
    records = getattr(app, "_kam_book_figures", None)
    if records is None:
        records = book_figures(app)
        _prerender_slide_images(app, records)
    record = next((r for r in records if r.fig_id == fig_id and r.page == page_uri), None)
    if record is None:
        raise ExtensionError(f"kamsurvey: figure {fig_id} of {page_uri} is not among the book's figures "
                             f"({payload.get('id')}): is its page in the table of contents?")
    outdir = Path(app.builder.outdir) / FIGURES_DIR
    links = {}
    for ext, data in figure_files(app, record).items():
        name = record.file_name(ext)
        _write_if_changed(outdir / name, data)
        links[DOWNLOAD_KINDS[ext]] = relative_uri(page_uri, f"{FIGURES_DIR}/{name}")
    return {words: links[words] for words in DOWNLOAD_KINDS.values() if words in links}


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
