"""Write the member briefing pack: key findings on one page (Markdown and HTML), the figure PNGs, the citation.

    kam briefing                      # from _build/html into _build/briefing
    kam briefing --site _build/html --out /tmp/briefing

Nothing is recomputed and nothing typed twice. The words of the key findings are the
landing page's (`index.md`, section "Key findings", and its opening paragraph); every
number in them is the value the executed chapters glued (their
`application/papermill.record/text/plain` outputs), formatted exactly as the book
formats it; each figure reference becomes the figure's number, read from the built
site, linked to the figure's permanent address in its edition (…/editions/<wave>/…#fig-…).
The slide images are the site's own figure PNGs, and the citation is generated from
CITATION.cff and the editions register (kamsurvey.report.citation).

The output is deterministic: the same book gives the same bytes.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import nbformat

from kamsurvey.report import citation
from kamsurvey.report.figures import long_date

GLUE_MIME = "application/papermill.record/text/plain"
ROLE = re.compile(r"\{([a-z:]+)\}`([^`]*)`")
APOSTROPHE = re.compile(r"(?<=[A-Za-z])'(?=[A-Za-z])")
PAGE_TITLE = "Key findings"


class BriefingError(RuntimeError):
    """The book or the built site lacks something the briefing needs."""


# -- the built site: figures, their numbers, captions and pages ------------------------------------------------


@dataclass(frozen=True)
class SiteFigure:
    id: str
    label: str  # "Figure 2.3"
    caption: str
    page: str  # chapters/assessing-performance.html


class _Figures(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []
        self._figure: str | None = None
        self._field: str | None = None
        self._number = self._caption = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure" and (attrs.get("id") or "").startswith("fig-"):
            self._figure, self._number, self._caption = attrs["id"], "", ""
        elif self._figure and tag == "span":
            classes = (attrs.get("class") or "").split()
            self._field = "number" if "caption-number" in classes else "caption" if "caption-text" in classes else None

    def handle_endtag(self, tag):
        if tag == "span":
            self._field = None
        elif tag == "figure" and self._figure:
            self.found.append((self._figure, self._number.strip(), " ".join(self._caption.split())))
            self._figure = None

    def handle_data(self, data):
        if self._field == "number":
            self._number += data
        elif self._field == "caption":
            self._caption += data


def site_figures(site: Path) -> dict[str, SiteFigure]:
    figures = {}
    for page in sorted(site.rglob("*.html")):
        if page.relative_to(site).parts[0] in {"_static", "_sources"}:
            continue
        parser = _Figures()
        parser.feed(page.read_text(encoding="utf-8"))
        for fig_id, label, caption in parser.found:
            figures[fig_id] = SiteFigure(fig_id, label, caption, page.relative_to(site).as_posix())
    return figures


def site_edition(site: Path) -> str:
    match = re.search(r'<meta name="kam-edition" content="([^"]+)"', (site / "index.html").read_text(encoding="utf-8"))
    if not match:
        raise BriefingError(f"{site / 'index.html'} names no edition (meta kam-edition): is it a build of this book?")
    return match.group(1)


# -- the executed chapters: glued values ------------------------------------------------------------------------


def glued_values(notebook: Path) -> dict[str, str]:
    """name -> text/plain of every value a notebook glued."""
    values = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and GLUE_MIME in output.get("data", {}):
                values[name] = output["data"][GLUE_MIME]
    return values


def format_glue(text: str, fmt_spec: str) -> str:
    """Exactly as {glue:text} prints it on the page."""
    from myst_nb.core.variables import format_plain_text

    return format_plain_text(text, fmt_spec)


# -- index.md: the key findings, with every role resolved ------------------------------------------------------


@dataclass
class Resolver:
    book: Path
    figures: dict[str, SiteFigure]
    edition_url: str
    _glue: dict[Path, dict[str, str]]

    def glue(self, target: str) -> str:
        # parsed as myst-nb parses it: <docpath>::<key>:<format_spec>
        key, fmt_spec = target.rsplit(":", 1) if ":" in target else (target, "s")
        doc, _, name = key.rpartition("::")
        if not doc:
            raise BriefingError(f"{{glue:text}}`{target}` names no notebook: the landing page can only glue from chapters")
        path = (self.book / doc).resolve()
        if path not in self._glue:
            if not path.exists():
                raise BriefingError(f"no notebook {doc} (glued in index.md)")
            self._glue[path] = glued_values(path)
        if name not in self._glue[path]:
            raise BriefingError(f"{doc} glues no value {name!r}: run `make chapters`")
        return format_glue(self._glue[path][name], fmt_spec)

    def figure_link(self, fig_id: str) -> tuple[str, str]:
        if fig_id not in self.figures:
            raise BriefingError(f"the built site has no figure {fig_id!r}: run `make html`")
        figure = self.figures[fig_id]
        return figure.label, f"{self.edition_url}{figure.page}#{fig_id}"

    def markdown(self, text: str, used: list[str]) -> str:
        """MyST roles -> Markdown: glued values, figure numbers with links, document links, quotations."""

        def replace(match: re.Match) -> str:
            role, target = match.groups()
            if role in {"glue:text", "glue"}:
                return self.glue(target)
            if role == "numref":
                label, url = self.figure_link(target)
                used.append(target)
                return f"[{label}]({url})"
            if role == "doc":
                words, _, page = target.partition(" <")
                page = page.rstrip(">") or words
                return f"[{words}]({self.edition_url}{page.lstrip('/')}.html)"
            if role == "article":
                return f"‘{target}’"
            raise BriefingError(f"index.md: role {{{role}}} has no briefing form")

        return APOSTROPHE.sub("\u2019", ROLE.sub(replace, text))  # typographic apostrophes, as on the page


def sections(markdown: str) -> tuple[str, dict[str, str]]:
    """(title, {heading: body}) of a page with one '# ' title and '## ' sections; the text before the
    first section is under ''."""
    title, parts, current = "", {"": []}, ""
    for line in markdown.splitlines():
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith("## "):
            current = line[3:].strip()
            parts[current] = []
        else:
            parts[current].append(line)
    return title, {heading: "\n".join(lines).strip() for heading, lines in parts.items()}


def unwrap(markdown: str) -> str:
    """Join the lines of each paragraph and list item (the source wraps at a fixed width)."""
    blocks, current = [], []
    for line in markdown.splitlines():
        if not line.strip():
            if current:
                blocks.append(" ".join(current))
                current = []
        elif line.lstrip().startswith(("- ", "* ")) and current:
            blocks.append(" ".join(current))
            current = [line.strip()]
        else:
            current.append(line.strip())
    if current:
        blocks.append(" ".join(current))
    return "\n".join(b if b.startswith(("- ", "* ")) else b + "\n" for b in blocks).strip()


# -- the pack ----------------------------------------------------------------------------------------------------


STYLE = """
@page { size: A4; margin: 12mm 15mm; }
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; color: #1a1a1a; max-width: 46rem; margin: 1.5rem auto;
       padding: 0 1em; font-size: 11pt; line-height: 1.45; }
h1 { font-size: 1.45em; margin: 0 0 0.2em; } h2 { font-size: 1.1em; margin: 0.9em 0 0.25em; }
p.edition { color: #4d4d4d; margin: 0 0 0.8em; }
li { margin: 0.25em 0; }
a { color: #0a58ca; }
table { border-collapse: collapse; font-size: 0.9em; } th, td { border: 1px solid #c8c8c8; padding: 0.15em 0.4em; text-align: left; }
td:first-child, td:last-child { white-space: nowrap; }
code { font-size: 0.85em; }
@media print { body { font-size: 9pt; line-height: 1.35; margin: 0; max-width: none; } a { color: inherit; } }
""".strip()


def build_markdown(book: Path, site: Path) -> tuple[str, list[SiteFigure], citation.Citation, citation.EditionRecord]:
    cite = citation.load_citation(book)
    wave = site_edition(site)
    edition = next((e for e in cite.editions if e.wave == wave), None)
    if edition is None:
        raise BriefingError(f"the site is the {wave} edition, which data/editions.yml does not list")
    resolver = Resolver(book, site_figures(site), edition.url, {})
    title, parts = sections((book / "index.md").read_text(encoding="utf-8"))
    if PAGE_TITLE not in parts:
        raise BriefingError(f"index.md has no '## {PAGE_TITLE}' section")
    used: list[str] = []
    intro = unwrap(resolver.markdown(parts[""], used))
    findings = unwrap(resolver.markdown(parts[PAGE_TITLE], used))
    figures = [resolver.figures[fig_id] for fig_id in dict.fromkeys(used)]
    published = f" · published {long_date(edition.published.isoformat())}" if edition.published else ""
    table = []
    for f in figures:
        label, url = resolver.figure_link(f.id)  # the figure's number and its permanent address in the edition
        table.append(f"| [{label}]({url}) | {f.caption} | [{f.id}.png](figures/{f.id}.png) |")
    rows = "\n".join(table)
    lines = [
        f"# {title} — {PAGE_TITLE.lower()}",
        "",
        f"{cite.title} · {edition.label}: {edition.survey}{published} · <{edition.url}>",
        "",
        intro,
        "",
        f"## {PAGE_TITLE}",
        "",
        findings,
        "",
        "## Figures",
        "",
        "Slide-ready images (PNG) of these and every other figure of the edition are in `figures/`; each "
        "figure's page has its data (CSV) and its citation.",
        "",
        "| Figure | Shows | Slide image |",
        "|---|---|---|",
        rows,
        "",
        "## How to cite",
        "",
        citation.edition_text(cite, edition),
        "",
        f"BibTeX for the book and every edition: `{citation.BIB_FILE}`.",
        "",
    ]
    return "\n".join(lines), figures, cite, edition


def to_html(markdown: str, title: str) -> str:
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").render(markdown)
    body = body.replace("<p>", '<p class="edition">', 1) if body.count("<p>") else body
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )


def write_briefing(book: Path, site: Path, out: Path) -> dict[str, Path]:
    """Write the pack into `out`, replacing what a previous run wrote there only once the new pack is complete
    (a failure leaves the previous pack as it was); returns its files."""
    if not (site / "index.html").exists():
        raise BriefingError(f"no built site at {site}: run `make html` first")
    markdown, figures, cite, edition = build_markdown(book, site)
    pngs = sorted((site / "figures").glob("*.png"))
    missing = [f.id for f in figures if not (site / "figures" / f"{f.id}.png").exists()]
    if missing or not pngs:
        raise BriefingError(f"the built site lacks the slide images of {missing or 'every figure'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    pack = Path(tempfile.mkdtemp(prefix=f".{out.name}-new-", dir=out.parent))
    try:
        (pack / "figures").mkdir()
        for png in pngs:
            shutil.copyfile(png, pack / "figures" / png.name)
        title = markdown.splitlines()[0][2:]
        names = {"markdown": "key-findings.md", "html": "key-findings.html", "bibtex": citation.BIB_FILE,
                 "citation": "citation.txt"}
        (pack / names["markdown"]).write_text(markdown, encoding="utf-8")
        (pack / names["html"]).write_text(to_html(markdown, title), encoding="utf-8")
        (pack / names["bibtex"]).write_text(citation.bibtex(cite), encoding="utf-8")
        (pack / names["citation"]).write_text(citation.edition_text(cite, edition) + "\n", encoding="utf-8")
        pack.chmod(0o755)
        replace_folder(pack, out)
    except BaseException:
        shutil.rmtree(pack, ignore_errors=True)
        raise
    return {key: out / name for key, name in names.items()}


def replace_folder(new: Path, dest: Path) -> None:
    """`dest` becomes the folder `new`: two renames, the previous one removed after."""
    old = dest.with_name(f".{dest.name}-old-{os.getpid()}")
    if dest.exists():
        os.rename(dest, old)
    os.rename(new, dest)
    shutil.rmtree(old, ignore_errors=True)



def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--book", type=Path, default=Path("."), help="the book's folder (index.md, chapters/, CITATION.cff)")
    parser.add_argument("--site", type=Path, default=None, help="the built edition (default: <book>/_build/html)")
    parser.add_argument("--out", type=Path, default=None, help="where to write it (default: <book>/_build/briefing)")


def command(args: argparse.Namespace) -> int:
    book = args.book.resolve()
    site = args.site or book / "_build" / "html"
    out = args.out or book / "_build" / "briefing"
    try:
        files = write_briefing(book, site, out)
    except BriefingError as error:
        print(f"briefing: {error}", file=sys.stderr)
        return 1
    count = len(list((out / "figures").glob("*.png")))
    print(f"Briefing written to {out}: {files['html'].name}, {files['markdown'].name}, {count} figure PNGs, "
          f"{files['bibtex'].name}, {files['citation'].name}")
    return 0
