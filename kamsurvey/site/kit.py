"""The briefing kit: what a staff member preparing a member briefing takes away, made by every build of an edition.

A Sphinx extension (loaded by `kamsurvey.site.sphinx_ext`). When the pages are written, it writes
`briefing/` beside them, so that the kit is part of the edition's built pages (and of its archive):

    briefing/<book>_<wave>_slides.pptx        the slide deck, 16:9 (kamsurvey.site.deck)
    briefing/<book>_<wave>.pdf                the print edition (kamsurvey.site.printed), when Chromium is
                                              on the machine that builds; else the kit page says it is not
    briefing/<book>_<wave>_figures.zip        every figure's downloads (kamsurvey.site.downloads)
    briefing/<book>_<wave>_key-findings.html  the key findings on one page, and .md (kamsurvey.site.keyfindings)

The kit page (`briefing.md`, in the table of contents) shows them with the directive

    ```{kam-briefing-kit} files
    ```

and the landing page's key findings with ```{kam-briefing-kit} findings``` (parsed as the landing
page is, so the numbers and figure references are the book's own). `kam briefing` copies the kit
out of the built edition (kamsurvey.build.briefing).

Why the print edition is made here, in the build: the kit is part of the edition, which is
published (and archived) as built; a build on a machine without Chromium (`make book` on a fresh
machine) still succeeds, and its kit page says that its print edition was not made.

Every file is deterministic: the same book gives the same bytes (Chromium's dates and the
archives' timestamps are set from the edition's publication date).
"""

from __future__ import annotations

import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

from kamsurvey.report import citation, citeformats
from kamsurvey.report.literal import html
from kamsurvey.site import downloads, keyfindings, printed, render
from kamsurvey.site.zipped import fixed_zip

logger = logging.getLogger(__name__)

KIT_DIR = "briefing"
PRINT_CSS = "kam-print.css"
KIT_METADATA = "kam-briefing-kit"  # in a document's metadata: it is the kit page (not printed in the PDF)
KINDS = {  # kind -> (file name after the stem, what it is)
    "deck": ("_slides.pptx", "Slides (PowerPoint, 16:9)"),
    "print": (".pdf", "Print edition (PDF)"),
    "figures": ("_figures.zip", "Every figure (zip)"),
    "findings": ("_key-findings.html", "Key findings on one page (HTML)"),
    "findings_md": ("_key-findings.md", "Key findings on one page (Markdown)"),
}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def kit_stem(book: citation.Citation, wave: str) -> str:
    """'rewarding-kam-performance_2022': the book's short title (before the colon) and the edition."""
    return f"{slug(book.title.split(':')[0])}_{wave}"


def kit_names(book: citation.Citation, wave: str) -> dict[str, str]:
    stem = kit_stem(book, wave)
    return {kind: stem + suffix for kind, (suffix, _) in KINDS.items()}


def _site():
    from kamsurvey.site import sphinx_ext

    return sphinx_ext


def _edition(app: Sphinx) -> tuple[citation.Citation, citation.EditionRecord]:
    site = _site()
    book = site.book_citation(app)
    if book is None:
        raise ExtensionError(f"kamsurvey: the briefing kit is described from {citation.CFF_FILE}; there is none "
                             "next to the book's configuration")
    wave = site.edition_of_build(app)
    try:
        return book, book.edition(wave)
    except KeyError as error:
        raise ExtensionError(f"kamsurvey: briefing kit: {error.args[0]}") from None


# -- the kit page -------------------------------------------------------------------------------------------------


class KitDirective(SphinxDirective):
    """```{kam-briefing-kit} PART```: `files` (the kit's downloads, or why the PDF is not there) or `findings` (the
    landing page's key findings, parsed as that page is)."""

    required_arguments = 1
    has_content = False

    def run(self) -> list[nodes.Node]:
        from docutils.parsers.rst import directives

        part = directives.choice(self.arguments[0], ("files", "findings"))
        self.env.metadata[self.env.docname][KIT_METADATA] = True
        self.env.note_reread()  # whether this build prints the PDF is decided anew each time
        if part == "findings":
            return self._findings()
        return [nodes.raw("", self._files_html(), format="html")]

    def _findings(self) -> list[nodes.Node]:
        landing = Path(self.env.app.confdir) / keyfindings.LANDING_PAGE
        self.env.note_dependency(str(landing))
        try:
            _, parts = keyfindings.landing_sections(landing.parent)
        except keyfindings.KeyFindingsError as error:
            raise self.error(f"kam-briefing-kit findings: {error}") from None
        container = nodes.container(classes=["kam-kit-findings"])
        self.state.nested_parse(StringList(parts[keyfindings.SECTION].splitlines(), source=str(landing)),
                                self.content_offset, container)
        return [container]

    def _files_html(self) -> str:
        app = self.env.app
        book, edition = _edition(app)
        page = app.builder.get_target_uri(self.env.docname) if hasattr(app.builder, "get_target_uri") else ""
        return files_html(kit_names(book, edition.wave), page, printed.find_chromium() is not None)


DESCRIPTIONS = {
    "deck": "A title slide, the key findings, one slide per figure (its chart, number and permanent address; "
            "base, source and reference in the notes) and the sources; every word editable",
    "print": "The whole edition to print or attach: a cover with its reference, contents, every page and "
             "numbered figure, page numbers and bookmarks",
    "figures": "For each figure: its data (CSV, opens in Excel), a note on what the numbers are (TXT), "
               "the chart (SVG) and a slide image with its number, edition and address (PNG)",
    "findings": "The landing page’s key findings with links to their figures, on one printable page",
}
NOT_PRINTED = "not part of this build: it is printed with Chromium, which the machine that built these pages did not have."


def files_html(names: dict[str, str], page: str, with_print: bool) -> str:
    """The kit's files as a list of links from `page` (or, for the print edition, why this build has none)."""
    def link(name: str) -> str:
        href = relative_uri(page, f"{KIT_DIR}/{name}") if page else f"{KIT_DIR}/{name}"
        return f'<a class="kam-kit-file" href="{html(href)}" download>{html(name)}</a>'

    items = []
    for kind in ("deck", "print", "figures", "findings"):
        words = KINDS[kind][1]
        if kind == "print" and not with_print:
            items.append(f'<li class="kam-kit-missing"><strong>{html(words)}</strong>: {html(NOT_PRINTED)}</li>')
            continue
        also = f" (and as Markdown: {link(names['findings_md'])})" if kind == "findings" else ""
        items.append(f"<li><strong>{html(words)}</strong>: {link(names[kind])}{also}<br>{html(DESCRIPTIONS[kind])}.</li>")
    return f'<ul class="kam-kit-files" style="overflow-wrap: anywhere">{"".join(items)}</ul>'


# -- the kit's files ----------------------------------------------------------------------------------------------


def _chart_png(app: Sphinx, record: downloads.FigureRecord) -> bytes:
    return render.cached(downloads.cache_dir(app), record.payload["spec"], "png")


def figures_zip(app: Sphinx, records: list[downloads.FigureRecord], folder: str, edition: citation.EditionRecord) -> bytes:
    members = []
    for record in records:
        for ext, data in downloads.figure_files(app, record).items():
            members.append((f"{folder}/{record.file_name(ext)}", data))
    return fixed_zip(members, edition.published)


def findings_page(app: Sphinx, records: list[downloads.FigureRecord], book: citation.Citation,
                  edition: citation.EditionRecord) -> keyfindings.KeyFindings:
    links = {r.fig_id: keyfindings.FigureLink(r.label, r.url, r.caption,
                                              f"{edition.url}{downloads.FIGURES_DIR}/{r.file_name('png')}")
             for r in records}
    try:
        return keyfindings.key_findings(Path(app.confdir), book, edition, links)
    except keyfindings.KeyFindingsError as error:
        raise ExtensionError(f"kamsurvey: briefing kit: {error}") from None


def _facts(edition: citation.EditionRecord) -> list[str]:
    fieldwork = downloads.fieldwork_words(edition)
    facts = [fieldwork[0].upper() + fieldwork[1:], f"{edition.n:,} respondents"]
    published = citation.published_text(edition)
    return facts + ([published[0].upper() + published[1:]] if published else [])


def _caveat(edition: citation.EditionRecord) -> str | None:
    return citation.RECONSTRUCTED[0].upper() + citation.RECONSTRUCTED[1:] if edition.reconstructed else None


def deck_bytes(app: Sphinx, records: list[downloads.FigureRecord], book: citation.Citation,
               edition: citation.EditionRecord, findings: keyfindings.KeyFindings) -> bytes:
    from kamsurvey.site import deck

    slides = []
    for record in records:
        words = downloads.chart_words(record.payload["spec"])
        item = downloads.figure_item(record, book, edition)
        slides.append(deck.SlideFigure(
            label=record.label, title=record.title, caption=record.caption, image=_chart_png(app, record),
            notes=words.notes, source=words.source, caveats=downloads.caveats(record, book, edition), url=record.url,
            reference=citeformats.text(item, "apa"), alt=str(record.payload.get("alt") or "")))
    sources = [("The article", citation.source_text(book)), ("This edition", citation.edition_text(book, edition))]
    content = deck.DeckContent(
        title=book.title, edition=f"{edition.label}: {edition.survey}", facts=" · ".join(_facts(edition)),
        caveat=_caveat(edition), url=edition.url, publisher=downloads.publisher(book),
        findings=keyfindings.list_items(findings.findings), figures=slides,
        sources=[(what, text) for what, text in sources if text], reuse=_site().reuse_terms(app),
        published=edition.published, keywords=_keywords(app))
    return deck.make_deck(content)


def _keywords(app: Sphinx) -> list[str]:
    import yaml

    cff = Path(app.confdir) / citation.CFF_FILE
    return [str(k) for k in (yaml.safe_load(cff.read_text(encoding="utf-8")) or {}).get("keywords", [])]


def _page_title(app: Sphinx, docname: str) -> str:
    env = app.env
    title = " ".join(env.titles[docname].astext().split()) if docname in env.titles else docname
    number = env.toc_secnumbers.get(docname, {}).get("")
    return f"{'.'.join(str(n) for n in number)}. {title}" if number else title


def print_pages(app: Sphinx, records: list[downloads.FigureRecord]) -> list[printed.PrintPage]:
    """Every page of the table of contents but the kit page, in reading order, with its figures."""
    env = app.env
    pages = []
    for docname in downloads.reading_order(env):
        if env.metadata.get(docname, {}).get(KIT_METADATA):
            continue
        figs = [printed.PrintFigure(r.fig_id, r.label, r.title) for r in records if r.docname == docname]
        pages.append(printed.PrintPage(app.builder.get_target_uri(docname), _page_title(app, docname), figs))
    return pages


def print_bytes(app: Sphinx, records: list[downloads.FigureRecord], book: citation.Citation,
                edition: citation.EditionRecord, chromium: str) -> bytes:
    short = book.title.split(":")[0].strip()
    caveat = _caveat(edition)
    described = printed.Edition(
        book=book.title, edition=f"{edition.label}: {edition.survey}", facts=_facts(edition),
        caveat=f"{caveat}: {citation.source_text(book)}" if caveat else None,
        reference=citation.edition_text(book, edition), url=edition.url, publisher=downloads.publisher(book),
        reuse=_site().reuse_terms(app), published=edition.published, short=f"{short} · {edition.label}",
        keywords=_keywords(app))
    try:
        return printed.print_edition(Path(app.builder.outdir), print_pages(app, records), described, chromium=chromium)
    except printed.PrintError as error:
        raise ExtensionError(f"kamsurvey: the print edition: {error}") from None


def kit_files(app: Sphinx) -> dict[str, bytes]:
    """name -> bytes of every file of the kit."""
    book, edition = _edition(app)
    names = kit_names(book, edition.wave)
    records = [r for r in downloads.book_figures(app) if r.wave == edition.wave]
    findings = findings_page(app, records, book, edition)
    files = {
        names["figures"]: figures_zip(app, records, kit_stem(book, edition.wave) + "_figures", edition),
        names["findings"]: findings.html().encode("utf-8"),
        names["findings_md"]: findings.markdown.encode("utf-8"),
        names["deck"]: deck_bytes(app, records, book, edition, findings),
    }
    chromium = printed.find_chromium()
    if chromium is None:
        logger.info("kamsurvey: the print edition (PDF) is not made: no Chromium found (CHROMIUM, chromium); "
                    "the kit page says so")
    else:
        files[names["print"]] = print_bytes(app, records, book, edition, chromium)
    return files


def write_kit(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    if not any(meta.get(KIT_METADATA) for meta in app.env.metadata.values()):
        return  # no kit page in this book
    folder = Path(app.builder.outdir) / KIT_DIR
    files = kit_files(app)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in sorted(folder.iterdir()):
        if stale.name not in files and stale.is_file():
            stale.unlink()
    for name, data in files.items():
        path = folder / name
        if not (path.exists() and path.read_bytes() == data):
            render.write_atomic(path, data)
    logger.info(f"kamsurvey: briefing kit written to {KIT_DIR}/: {', '.join(sorted(files))}")


def setup(app: Sphinx) -> dict:
    app.add_directive("kam-briefing-kit", KitDirective)
    app.add_css_file(PRINT_CSS, media="print")
    app.connect("build-finished", write_kit, priority=900)  # after the other files of the build are written
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": False}
