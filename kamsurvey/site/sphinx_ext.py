"""Sphinx side of the book: figures, offline Vega, edition metadata, article quotations.

- Figures: notebooks store a figure as JSON (`figures.FIGURE_MIME`). myst-nb hands
  that output to `FigureMimeRenderer` (registered as a `myst_nb.mime_renderers`
  entry point), which leaves a `kam_figure` node in the doctree. When the page is
  written, the node becomes the figure block: static SVG rendered by vl-convert,
  the spec for the interactive chart, a data table, CSV/SVG/PNG downloads and
  citation text with the figure's number, which only exists at write time. The
  SVG and PNG come from a cache keyed by the spec; figures missing from it are
  rendered by a pool of processes once every page is read (`kamsurvey.site.render`).
- Vega, Vega-Lite and vega-embed are written into `_static` from vl-convert's
  bundle, so no page loads a script from another host.
- Each page carries its edition (`kam_edition`) so the edition banner can tell a
  reader of an older edition where the latest is.
- Every HTML build carries the editions index (`editions.js`) at its root. kam.js
  asks the site root for it on the editions page and on every page inside
  `editions/<wave>/` (banner, list of editions). A book built on its own
  (`make html`, the test builds, a preview) is its own site root, so it gets the
  index too, written from `data/editions.yml` when the build finishes;
  `scripts/build_site.py` writes the site's own at the root of `_build/site/` (the
  copies inside each `editions/<wave>/` tree are never read).
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.parsers.rst.states import Inliner
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.osutil import relative_uri

from kamsurvey.report import citation, figures

from kamsurvey.site import citehtml, figureblock, render
from kamsurvey.site.downloads import book_figures, cite_item, write_figure_downloads
from kamsurvey.data.editions import Edition, current_edition, editions_up_to, load_editions
from kamsurvey.site.editions_index import EDITIONS_JS, editions_js

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
PRERENDER_MIN = 4  # fewer figures to render than this: not worth starting processes for
FAVICON = "kam-favicon.svg"


class kam_figure(nodes.General, nodes.Element):
    """Placeholder for a figure; rendered by the HTML translator."""


class kam_headline(nodes.General, nodes.Element):
    """The landing page's headline chart ({kam-headline}`fig-id`): a chapter's figure, linked to its chapter."""


def headline_role(name: str, rawtext: str, text: str, lineno: int, inliner: Inliner, options=None, content=()):
    """{kam-headline}`fig-most-important`, alone in its paragraph: that figure's chart, linked to its chapter.

    A role (one line in index.md); `_lift_headlines` makes it a block of its own once the page is read.
    """
    fig_id = text.strip()
    if not re.fullmatch(r"[A-Za-z][\w-]*", fig_id):
        message = inliner.reporter.error(f"kam-headline: {fig_id!r} is not a figure id", line=lineno)
        return [inliner.problematic(rawtext, rawtext, message)], [message]
    node = kam_headline(rawtext)
    node["figure"] = fig_id
    return [node], []


def _lift_headlines(app: Sphinx, doctree) -> None:
    """A headline alone in its paragraph becomes a block (a chart has no place inside <p>)."""
    for node in list(doctree.findall(kam_headline)):
        parent = node.parent
        if isinstance(parent, nodes.paragraph) and len(parent.children) == 1:
            parent.replace_self(node)


def visit_kam_headline_html(translator, node: kam_headline) -> None:
    builder = translator.builder
    app = builder.app
    fig_id = node["figure"]
    record = next((r for r in book_figures(app) if r.fig_id == fig_id), None)
    if record is None:
        raise ExtensionError(f"kamsurvey: the headline names {fig_id}, which is no figure of the book")
    svgs = {layout: scope_svg_ids(_render_cached(app, spec, "svg").decode("utf-8"), f"headline-{fig_id}-{layout}")
            for layout, spec in figureblock.specs(record.payload).items()}
    page_uri = builder.get_target_uri(builder.current_docname)
    title = app.env.titles.get(record.docname)
    translator.body.append(figureblock.headline_block(
        record.payload, svgs=svgs, href=f"{relative_uri(page_uri, record.page)}#{fig_id}", figure_label=record.label,
        chapter=title.astext() if title is not None else record.docname))
    raise nodes.SkipNode


class FigureMimeRenderer:
    """myst-nb mime render plugin: our JSON figure output becomes a `kam_figure` node."""

    mime_priority_overrides = [(builder, figures.FIGURE_MIME, 1) for builder in ("html", "dirhtml", "singlehtml")]

    @staticmethod
    def handle_mime(renderer, data, inline: bool):
        if data.mime_type != figures.FIGURE_MIME or inline:
            return None
        content = data.content if isinstance(data.content, dict) else json.loads(data.content)
        node = kam_figure()
        node["payload_json"] = json.dumps(content, sort_keys=True)
        return [node]


def _cache_dir(app: Sphinx) -> Path:
    path = Path(app.doctreedir).parent / render.FIGURE_CACHE
    path.mkdir(parents=True, exist_ok=True)
    return path


def _render_cached(app: Sphinx, spec: dict, fmt: str) -> bytes:
    """vl-convert output, cached by spec so that an unchanged figure is never re-rendered."""
    return render.cached(_cache_dir(app), spec, fmt)


def _prerenderer(app: Sphinx) -> render.Prerenderer | None:
    """The pool rendering figures while Sphinx reads (None: render one by one, e.g. KAM_RENDER_JOBS=1)."""
    if not hasattr(app, "_kam_prerenderer"):
        jobs = int(os.environ.get("KAM_RENDER_JOBS") or os.cpu_count() or 1)
        app._kam_prerenderer = render.Prerenderer(_cache_dir(app), jobs) if jobs > 1 else None
    return app._kam_prerenderer


def _collect_figures(app: Sphinx, doctree) -> None:
    """The specs of the figures of each page read, to render them together once every page is read."""
    specs = app.__dict__.setdefault("_kam_specs", [])
    for node in doctree.findall(kam_figure):
        specs.extend(figureblock.specs(json.loads(node["payload_json"])).values())


def _prerender_figures(app: Sphinx, env) -> None:
    """Every figure read and not cached yet, rendered by a pool of processes (and the Vega bundle finished)."""
    specs = app.__dict__.pop("_kam_specs", [])
    pool = _prerenderer(app)
    if pool is None:
        return
    if len(specs) >= PRERENDER_MIN:
        pool.figures(specs)
    for error in pool.wait():  # the page writer renders that figure itself, and fails there if it must
        logger.debug("kamsurvey: figure pre-rendering failed (%s); rendering while writing", error)


def scope_svg_ids(svg: str, prefix: str) -> str:
    """Prefix the ids inside an inline SVG: several charts on one page must not share ids."""
    ids = set(re.findall(r'\sid="([^"]+)"', svg))
    for old in sorted(ids, key=len, reverse=True):
        new = f"{prefix}-{old}"
        svg = svg.replace(f'id="{old}"', f'id="{new}"').replace(f"url(#{old})", f"url(#{new})")
        svg = svg.replace(f'href="#{old}"', f'href="#{new}"')
    return svg


def _write_if_changed(path: Path, data: bytes) -> None:
    if path.exists() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _figure_number(translator, node: nodes.Element) -> tuple[str, str]:
    """('fig-most-important', 'Figure 3') from the enclosing numbered figure, if any."""
    parent = node.parent
    while parent is not None and not isinstance(parent, nodes.figure):
        parent = parent.parent
    fig_id = parent["ids"][0] if parent is not None and parent["ids"] else ""
    numbers = getattr(translator.builder, "fignumbers", {}).get("figure", {})
    number = numbers.get(fig_id)
    label = "Figure " + ".".join(str(n) for n in number) if number else "Figure"
    return fig_id, label


def visit_kam_figure_html(translator, node: kam_figure) -> None:
    builder = translator.builder
    app = builder.app
    payload = json.loads(node["payload_json"])
    fig_id, figure_label = _figure_number(translator, node)
    fig_id = fig_id or payload["id"]
    docname = builder.current_docname
    page_uri = builder.get_target_uri(docname)

    svgs = {layout: scope_svg_ids(_render_cached(app, spec, "svg").decode("utf-8"), f"{fig_id}-{layout}")
            for layout, spec in figureblock.specs(payload).items()}
    downloads = write_figure_downloads(app, payload, fig_id, page_uri)
    url = f"{stable_url(app, payload['wave'], page_uri)}#{fig_id}"
    block = figureblock.figure_block(payload, svgs=svgs, downloads=downloads, figure_label=figure_label,
                                     cite_html=_figure_cite_html(app, payload, figure_label, fig_id, url))
    translator.body.append(block.chart)
    _after_caption(translator, node, block.details)
    raise nodes.SkipNode


def _after_caption(translator, node: nodes.Element, html_text: str) -> None:
    """`html_text` after the caption of the figure holding `node` (`depart_figure_html` writes it), or here."""
    parent = node.parent
    while parent is not None and not isinstance(parent, nodes.figure):
        parent = parent.parent
    if parent is None:
        translator.body.append(html_text)
        return
    translator.__dict__.setdefault("_kam_after_caption", {})[id(parent)] = html_text


def visit_figure_html(translator, node: nodes.figure) -> None:
    type(translator).visit_figure(translator, node)


def depart_figure_html(translator, node: nodes.figure) -> None:
    """A figure's closing tag, with what its chart left for after the caption (data table, downloads, citation)."""
    type(translator).depart_figure(translator, node)
    after = translator.__dict__.get("_kam_after_caption", {}).pop(id(node), None)
    if after is not None:
        closing = translator.body.pop()  # '</figure>', after the caption's '</figcaption>'
        translator.body.extend([after, closing])


def _figure_cite_html(app: Sphinx, payload: dict, figure_label: str, fig_id: str, url: str) -> str:
    """"Cite this figure": its number, title, edition and permanent address, in APA 7 and Harvard."""
    book = book_citation(app)
    if book is None:
        raise ExtensionError(f"kamsurvey: figures are cited from {citation.CFF_FILE}; there is none next to "
                             "the book's configuration")
    try:
        edition = book.edition(payload["wave"])
    except KeyError as error:
        raise ExtensionError(f"kamsurvey: figure {fig_id}: {error.args[0]}") from None
    item = cite_item(book, edition, payload, label=figure_label, title=payload["title"], url=url, fig_id=fig_id)
    return citehtml.figure_cite_html(item, fig_id)


def book_citation(app: Sphinx) -> citation.Citation | None:
    """CITATION.cff and the editions register, read once per build (None if the book has no CITATION.cff)."""
    if not hasattr(app, "_kam_citation"):
        root = Path(app.confdir)
        app._kam_citation = citation.load_citation(root) if (root / citation.CFF_FILE).exists() else None
    return app._kam_citation


class CitationDirective(SphinxDirective):
    """```{kam-citation} PART```: the "How to cite" page, generated from the citation model.

    - edition: the reference for the edition this build publishes, in APA 7 and Harvard;
    - book: the reference for the book as a whole, in APA 7 and Harvard;
    - editions: every edition up to this one, with its date, address and references;
    - source: the article the book makes executable, in APA 7 and Harvard;
    - bibtex: BibTeX entries for the book, each edition and the article;
    - files: links to citation.bib, citation.ris, citation.json (CSL-JSON) and CITATION.cff, written
      next to the pages;
    - reuse: the reuse terms (`kam_reuse_terms` in _config.yml, after the copyright line).
    """

    required_arguments = 1
    has_content = False
    PARTS = ("edition", "book", "editions", "source", "bibtex", "files", "reuse")
    FILE_KINDS = {citation.BIB_FILE: "BibTeX", citation.RIS_FILE: "RIS", citation.CSL_FILE: "CSL-JSON",
                  citation.CFF_FILE: "Citation File Format"}

    def run(self) -> list[nodes.Node]:
        part = directives.choice(self.arguments[0], self.PARTS)
        app = self.env.app
        for path in (citation.CONFIG_FILE, citation.CFF_FILE, "data/editions.yml", "data/waves/*/wave.yml"):
            for dependency in sorted(Path(app.confdir).glob(path)):
                self.env.note_dependency(str(dependency))
        if part == "reuse":
            return [nodes.paragraph(text=reuse_terms(app), classes=["kam-reuse"])]
        book = book_citation(app)
        if book is None:
            raise self.error(f"kam-citation: no {citation.CFF_FILE} next to the book's configuration")
        wave = _edition_record(app, book).wave
        if part == "edition":
            return [_raw(citehtml.reference_forms_html(citation.edition_item(book, book.edition(wave)), "this-edition"))]
        if part == "book":
            return [_raw(citehtml.reference_forms_html(citation.book_item(book), "book"))]
        if part == "source":
            return [_raw("".join(citehtml.reference_forms_html(item, item["id"]) for item in citation.source_items(book)))]
        if part == "editions":
            return [_raw(_editions_html(book, wave))]
        if part == "bibtex":
            text = citation.bibtex(book, wave)
            return [nodes.literal_block(text, text, language="bibtex", classes=["kam-bibtex"])]
        page = app.builder.get_target_uri(self.env.docname) if hasattr(app.builder, "get_target_uri") else ""
        para = nodes.paragraph(text="Download: ", classes=["kam-cite-files"])
        for i, (name, kind) in enumerate(self.FILE_KINDS.items()):
            if i:
                para += nodes.Text(" · ")
            para += nodes.reference(name, name, refuri=relative_uri(page, name) if page else name)
            para += nodes.Text(f" ({kind})")
        return [para]


def _raw(markup: str) -> nodes.raw:
    return nodes.raw("", markup, format="html")


def _editions_html(book: citation.Citation, wave: str) -> str:
    """Each edition up to `wave`'s (what this edition can know of): what it reports, its address, its references."""
    items = []
    for edition in editions_up_to(book.editions, wave):
        published = citation.published_text(edition)
        facts = ", ".join(part for part in (f"{edition.n:,} respondents", published) if part)
        url = html.escape(edition.url)
        items.append(
            f"<li><p><strong>{html.escape(edition.label)}</strong>: {html.escape(edition.title)}, {html.escape(facts)}. "
            f'<a class="reference external" href="{url}">{url}</a></p>'
            f"{citehtml.reference_forms_html(citation.edition_item(book, edition), f'edition-{edition.wave}')}</li>"
        )
    return '<ul class="kam-cite-editions">' + "".join(items) + "</ul>"


def _edition_record(app: Sphinx, book: citation.Citation) -> citation.EditionRecord:
    wave = edition_of_build(app)
    return next((e for e in book.editions if e.wave == wave), book.current)


def reuse_terms(app: Sphinx) -> str:
    """The reuse terms of this build: `copyright` and `kam_reuse_terms` (as `citation.reuse_terms` reads them)."""
    return citation.reuse_terms_text(app.config.copyright, app.config.kam_reuse_terms)


def _write_citation_files(app: Sphinx, exception) -> None:
    """citation.bib, citation.ris, citation.json and CITATION.cff beside the pages, for the "How to cite" links."""
    if exception is not None or app.builder.format != "html":
        return
    book = book_citation(app)
    if book is None:
        return
    wave = _edition_record(app, book).wave
    for name, data in citation.citation_files(book, app.confdir, wave).items():
        _write_if_changed(Path(app.builder.outdir) / name, data)


def visit_hidden_code_cell(translator, node) -> None:
    """myst-nb's per-cell code toggle, named by its visible words ("Show code cell source").

    myst-nb labels the toggle "Toggle hidden content", which is not what it shows
    (axe: label-content-name-mismatch); without the label, its visible text is its name.
    """
    from html import escape

    translator.body.append(f'<details class="admonition hide {" ".join(node["classes"])}">\n<summary>\n')
    translator.body.append(f'<p class="collapsed admonition-title">{escape(node["prompt_show"])}</p>\n')
    translator.body.append(f'<p class="expanded admonition-title">{escape(node["prompt_hide"])}</p>\n')
    translator.body.append("</summary>\n")


def depart_hidden_code_cell(translator, node) -> None:
    translator.body.append("</details>\n")


def visit_citation_html(translator, node) -> None:
    """A bibliography entry inside docutils' role="list" container is a list item.

    docutils marks it role="doc-biblioentry", which ARIA does not accept as a child of
    a list (axe: aria-required-children, critical).
    """
    start = len(translator.body)
    type(translator).visit_citation(translator, node)
    for i in range(start, len(translator.body)):
        translator.body[i] = translator.body[i].replace('role="doc-biblioentry"', 'role="listitem"')


def depart_citation_html(translator, node) -> None:
    type(translator).depart_citation(translator, node)


def skip_node(translator, node) -> None:
    raise nodes.SkipNode


def article_role(name: str, rawtext: str, text: str, lineno: int, inliner: Inliner, options=None, content=()):
    """{article}`...`: words quoted from the article, marked as a quotation and attributed."""
    node = nodes.inline(rawtext, "", classes=["article-quote"])
    node += nodes.Text(f"\u2018{text}\u2019")
    return [node], []


def _write_vega_bundle(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    cache = _cache_dir(app)
    target_dir = cache / "static"
    target_dir.mkdir(parents=True, exist_ok=True)
    if not render.bundle_is_current(cache):
        pool = _prerenderer(app)
        if pool is not None:
            pool.bundle()  # made while the pages are read; waited for before they are written
        else:
            render.write_bundle(str(cache))
    for stale in target_dir.glob("*.version"):
        stale.unlink()
    for static in (str(target_dir), str(STATIC_DIR)):
        if static not in app.config.html_static_path:
            app.config.html_static_path.append(static)


def _config_inited(app: Sphinx, config) -> None:
    """Site defaults the theme needs so that a first visit logs no error and requests nothing missing."""
    # pydata-sphinx-theme logs an error on a first visit when no default colour mode is set.
    config.html_context = {**(config.html_context or {})}
    config.html_context.setdefault("default_mode", "light")
    # Theme components fixed for accessibility (kamsurvey/templates/: found before the theme's own components).
    if str(TEMPLATES_DIR) not in config.templates_path:
        config.templates_path = [str(TEMPLATES_DIR), *config.templates_path]
    # A favicon of our own: without one every browser asks for /favicon.ico and gets a 404.
    if not config.html_favicon:
        config.html_favicon = str(STATIC_DIR / FAVICON)
    # The reuse terms in every page's footer (the theme's `extra_footer`, after anything configured there).
    options = dict(config.html_theme_options or {})
    options["extra_footer"] = f'{options.get("extra_footer") or ""}<p class="kam-reuse">{html.escape(reuse_terms(app))}</p>'
    config.html_theme_options = options


def _is_remote_or_thebe(asset: Any) -> bool:
    """Thebe (live code) is not used: its scripts would point at a CDN, so they are left out."""
    filename = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", "")) if hasattr(asset, "attributes") else ""
    return "thebe" in filename or "THEBE" in body or filename.startswith(("http://", "https://", "//"))


def book_editions(app: Sphinx) -> list[Edition]:
    """The editions register (`data/editions.yml`), read once per build (raises as `load_editions` does)."""
    if not hasattr(app, "_kam_editions"):
        app._kam_editions = load_editions(Path(app.confdir) / "data")
    return app._kam_editions


def edition_of_build(app: Sphinx) -> str:
    """The wave this build publishes: `kam_edition` (or KAM_EDITION), else the current edition."""
    if app.config.kam_edition:
        return str(app.config.kam_edition)
    try:
        return current_edition(book_editions(app)).wave
    except (OSError, ValueError):
        return ""


def stable_url(app: Sphinx, edition: str, page_uri: str) -> str:
    """The permanent address of a page in one edition: <site>/editions/<wave>/<page>."""
    return citation.edition_url(app.config.html_baseurl or "", edition) + page_uri


def _write_editions_js(app: Sphinx, exception) -> None:
    """editions.js at the build's root, from the editions register."""
    if exception is not None or app.builder.format != "html":
        return
    text = editions_js(book_editions(app))
    target = Path(app.builder.outdir) / EDITIONS_JS
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not _is_remote_or_thebe(asset)]
    edition = edition_of_build(app)
    if edition:
        context["metatags"] = context.get("metatags", "") + f'\n<meta name="kam-edition" content="{edition}">'
        if app.config.html_baseurl:
            # canonical link: the edition's permanent address, also for the copy served at the site root
            context["pageurl"] = stable_url(app, edition, app.builder.get_target_uri(pagename))


def setup(app: Sphinx) -> dict:
    app.add_config_value("kam_edition", os.environ.get("KAM_EDITION", ""), "html")
    app.add_config_value(citation.REUSE_SETTING, citation.DEFAULT_REUSE_TERMS, "env")
    app.add_node(
        kam_figure,
        html=(visit_kam_figure_html, None),
        latex=(skip_node, None),
        text=(skip_node, None),
        man=(skip_node, None),
        texinfo=(skip_node, None),
    )
    from myst_nb.sphinx_ import HideCodeCellNode

    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_code_cell, depart_hidden_code_cell))
    app.add_node(nodes.citation, override=True, html=(visit_citation_html, depart_citation_html))
    app.add_node(nodes.figure, override=True, html=(visit_figure_html, depart_figure_html))
    app.add_role("article", article_role)
    app.add_node(kam_headline, html=(visit_kam_headline_html, None), latex=(skip_node, None), text=(skip_node, None),
                 man=(skip_node, None), texinfo=(skip_node, None))
    app.add_role("kam-headline", headline_role)
    app.connect("doctree-read", _lift_headlines)
    app.add_directive("kam-citation", CitationDirective)
    app.connect("build-finished", _write_citation_files)
    app.connect("build-finished", _write_editions_js)
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _write_vega_bundle)
    app.connect("doctree-read", _collect_figures)
    app.connect("env-updated", _prerender_figures)
    app.connect("html-page-context", _page_context, priority=900)
    app.add_js_file(render.VEGA_BUNDLE, loading_method="defer")
    app.add_js_file("kam.js", loading_method="defer")
    app.add_css_file("kam.css")
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": False}
