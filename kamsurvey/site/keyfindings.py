"""The landing page's key findings, with the book's own numbers, for the briefing kit (one page, the slides).

Nothing is recomputed and nothing typed twice. The words are the landing page's (`index.md`,
section "Key findings", and its opening paragraph); every number in them is the value the
executed chapters glued (their `application/papermill.record/text/plain` outputs), formatted
exactly as the book formats it; each figure reference becomes the figure's number, linked to
the figure's permanent address in its edition (…/editions/<wave>/…#fig-…).

A glued value is text: it goes into the Markdown escaped (`kamsurvey.report.literal.myst`), so
that whatever it holds reads as written in the one-page HTML and on the slides.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from kamsurvey.report import citation
from kamsurvey.report.literal import myst

GLUE_MIME = "application/papermill.record/text/plain"
ROLE = re.compile(r"\{([a-z:-]+)\}`([^`]*)`")
APOSTROPHE = re.compile(r"(?<=[A-Za-z])'(?=[A-Za-z])")
SECTION = "Key findings"
LANDING_PAGE = "index.md"


class KeyFindingsError(RuntimeError):
    """The book lacks something the key findings need (a section, a glued value, a figure)."""


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


# -- index.md: sections, with every role resolved ---------------------------------------------------------------


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


def landing_sections(book: Path) -> tuple[str, dict[str, str]]:
    """The landing page's title and sections; KeyFindingsError if it has no key findings."""
    title, parts = sections((book / LANDING_PAGE).read_text(encoding="utf-8"))
    if SECTION not in parts:
        raise KeyFindingsError(f"{LANDING_PAGE} has no '## {SECTION}' section")
    return title, parts


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


@dataclass
class Resolver:
    """MyST roles of the landing page -> Markdown: glued values, figure numbers with links, page links, quotations.

    `figures` maps a figure id to its number ('Figure 2.3') and permanent address."""

    book: Path
    figures: dict[str, tuple[str, str]]
    edition_url: str
    used: list[str] = field(default_factory=list)
    _glue: dict[Path, dict[str, str]] = field(default_factory=dict)

    def glue(self, target: str) -> str:
        # parsed as myst-nb parses it: <docpath>::<key>:<format_spec>
        key, fmt_spec = target.rsplit(":", 1) if ":" in target else (target, "s")
        doc, _, name = key.rpartition("::")
        if not doc:
            raise KeyFindingsError(f"{{glue:text}}`{target}` names no notebook: the landing page can only glue from chapters")
        path = (self.book / doc).resolve()
        if path not in self._glue:
            if not path.exists():
                raise KeyFindingsError(f"no notebook {doc} (glued in {LANDING_PAGE})")
            self._glue[path] = glued_values(path)
        if name not in self._glue[path]:
            raise KeyFindingsError(f"{doc} glues no value {name!r}: run `make chapters`")
        return format_glue(self._glue[path][name], fmt_spec)

    def figure_link(self, fig_id: str) -> tuple[str, str]:
        if fig_id not in self.figures:
            raise KeyFindingsError(f"the book has no figure {fig_id!r} ({LANDING_PAGE} refers to it)")
        return self.figures[fig_id]

    def markdown(self, text: str) -> str:
        def replace(match: re.Match) -> str:
            role, target = match.groups()
            if role in {"glue:text", "glue"}:
                return myst(self.glue(target))
            if role == "kam-headline":  # the landing page's headline chart: here, a link to it
                label, url = self.figure_link(target)
                self.used.append(target)
                return f"Headline chart: [{label}]({url})."
            if role == "numref":
                label, url = self.figure_link(target)
                self.used.append(target)
                return f"[{label}]({url})"
            if role == "doc":
                words, _, page = target.partition(" <")
                page = page.rstrip(">") or words
                return f"[{words}]({self.edition_url}{page.lstrip('/')}.html)"
            if role == "article":
                return f"‘{myst(target)}’"
            raise KeyFindingsError(f"{LANDING_PAGE}: role {{{role}}} has no briefing form")

        # typographic apostrophes in the page's own words, as Sphinx sets them; a glued value is shown as it is
        return ROLE.sub(replace, APOSTROPHE.sub("\u2019", text))


# -- the one-page key findings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFindings:
    title: str  # "Rewarding KAM performance: survey findings — key findings"
    body: str  # the page's Markdown, but for the reuse terms
    reuse: str  # the reuse terms, under the page
    findings: str  # the section's Markdown list
    figures: list[str]  # the figures it refers to, first mention first

    @property
    def markdown(self) -> str:
        """The whole page as Markdown."""
        return f"{self.body}\n{myst(self.reuse)}\n"

    def html(self) -> str:
        """The whole page as one self-contained HTML file."""
        return to_html(self.body, self.title, self.reuse)


@dataclass(frozen=True)
class FigureLink:
    """A figure as the key findings refer to it: its number, permanent address, caption and slide image."""

    label: str
    url: str
    caption: str
    image: str


def key_findings(book: Path, cite: citation.Citation, edition: citation.EditionRecord,
                 figures: dict[str, FigureLink]) -> KeyFindings:
    """The page: the landing page's opening and key findings, a table of the figures they refer to, and the
    edition's reference and reuse terms."""
    title, parts = landing_sections(book)
    resolver = Resolver(book, {fig_id: (f.label, f.url) for fig_id, f in figures.items()}, edition.url)
    intro = unwrap(resolver.markdown(parts[""]))
    findings = unwrap(resolver.markdown(parts[SECTION]))
    used = list(dict.fromkeys(resolver.used))
    published = f" · {myst(citation.published_text(edition))}" if edition.published else ""
    rows = [f"| [{figures[i].label}]({figures[i].url}) | {myst(figures[i].caption)} | "
            f"[{figures[i].image.rsplit('/', 1)[-1]}]({figures[i].image}) |" for i in used]
    page_title = f"{title} — {SECTION.lower()}"
    lines = [
        f"# {myst(page_title)}",
        "",
        f"{myst(cite.title)} · {myst(edition.label)}: {myst(edition.survey)}{published} · <{edition.url}>",
        "",
        intro,
        "",
        f"## {SECTION}",
        "",
        findings,
        "",
        "## Figures",
        "",
        "Each figure's page has its data (CSV, with a note on what the numbers are), the chart (SVG), a "
        "slide image (PNG) and its citation; the edition's briefing kit has them all in one zip, and the slides.",
        "",
        "| Figure | Shows | Slide image |",
        "|---|---|---|",
        *rows,
        "",
        "## How to cite",
        "",
        myst(citation.edition_text(cite, edition)),
        "",
    ]
    return KeyFindings(page_title, "\n".join(lines), citation.reuse_terms(book), findings, used)


STYLE = """
@page { size: A4; margin: 12mm 15mm; }
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; color: #1a1a1a; max-width: 46rem; margin: 1.5rem auto;
       padding: 0 1em; font-size: 11pt; line-height: 1.45; }
h1 { font-size: 1.45em; margin: 0 0 0.2em; } h2 { font-size: 1.1em; margin: 0.9em 0 0.25em; }
p.edition { color: #4d4d4d; margin: 0 0 0.8em; }
footer { font-size: 0.85em; color: #4d4d4d; }
li { margin: 0.25em 0; }
a { color: #0a58ca; overflow-wrap: anywhere; }
table { border-collapse: collapse; font-size: 0.9em; } th, td { border: 1px solid #c8c8c8; padding: 0.15em 0.4em; text-align: left; }
td:first-child { white-space: nowrap; }
code { font-size: 0.85em; }
@media print { body { font-size: 9pt; line-height: 1.35; margin: 0; max-width: none; } a { color: inherit; } }
""".strip()


def _markdown_parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def to_html(markdown: str, title: str, reuse: str) -> str:
    """The page as one self-contained HTML file (no script, nothing loaded from elsewhere), the reuse terms under it
    as under every page of the site."""
    body = _markdown_parser().render(markdown)
    body = body.replace("<p>", '<p class="edition">', 1) if body.count("<p>") else body
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n<main>\n{body}</main>\n"
        f'<footer><p class="kam-reuse">{html.escape(reuse)}</p></footer>\n</body>\n</html>\n'
    )


# -- the findings as runs of text (the slides) ------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    url: str | None = None


def list_items(markdown: str) -> list[list[Run]]:
    """Each item of the Markdown list as runs of text: bold where the page is bold, links with their address."""
    items: list[list[Run]] = []
    tokens = _markdown_parser().parse(markdown)
    depth = 0
    for token in tokens:
        if token.type == "list_item_open":
            depth += 1
            if depth == 1:
                items.append([])
        elif token.type == "list_item_close":
            depth -= 1
        elif token.type == "inline" and depth >= 1:
            if items[-1]:
                items[-1].append(Run(" "))
            items[-1].extend(inline_runs(token.children or []))
    return items


def inline_runs(children) -> list[Run]:
    runs: list[Run] = []
    bold, url = 0, None
    for child in children:
        if child.type == "strong_open":
            bold += 1
        elif child.type == "strong_close":
            bold -= 1
        elif child.type == "link_open":
            url = str(child.attrs.get("href", ""))
        elif child.type == "link_close":
            url = None
        elif child.type in {"text", "code_inline"}:
            runs.append(Run(child.content, bool(bold), url))
        elif child.type in {"softbreak", "hardbreak"}:
            runs.append(Run(" ", bool(bold), url))
    merged: list[Run] = []
    for run in runs:
        if merged and (merged[-1].bold, merged[-1].url) == (run.bold, run.url):
            merged[-1] = Run(merged[-1].text + run.text, run.bold, run.url)
        else:
            merged.append(run)
    return merged
