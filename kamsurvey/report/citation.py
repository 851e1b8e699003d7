"""How to cite the book, an edition and a figure: one model, every format made from it by libraries.

The model is one CSL-JSON item per reference (`book_item`, `edition_item`, `figure_item`,
`source_items`); `kamsurvey.report.citeformats` turns an item into APA 7 and Harvard text
(citeproc-py), BibTeX (pybtex), RIS and CSL-JSON. Each fact has one source:

- the book's title, author and address, and the article it makes executable (`references:`),
  from `CITATION.cff`;
- the editions from the register (`data/editions.yml`, through `kamsurvey.data.editions`);
- each edition's publication date, survey and provenance from its wave's `wave.yml`;
- the reuse terms from `_config.yml` (`sphinx: config: kam_reuse_terms`, after the copyright line).

An edition's reference is made only of what never changes once it is published (its date,
wave, survey and permanent address): no "current" or "latest" that a later edition would
make false. For a wave whose provenance is `reconstructed`, every form of its reference and of
its figures' says "respondent-level data reconstructed from the published article" and names
the article as the source. The figures are AKAM's; the article is Dr Woodburn's.

    kam cite                  # print the BibTeX of the book, every edition and the source article
    kam cite --format ris     # ... or RIS, CSL-JSON (json), APA 7 or Harvard text
    kam cite --check          # exit 1 if CITATION.cff disagrees with the register or the reuse terms
    kam cite --update-cff     # set CITATION.cff's version, date and message to the current edition
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from kamsurvey.data.dates import long_date, parse_date
from kamsurvey.data.editions import current_edition, editions_up_to, load_editions
from kamsurvey.data.waves import read_meta
from kamsurvey.report import citeformats, phrasing

CFF_FILE = "CITATION.cff"
CONFIG_FILE = "_config.yml"
BIB_FILE = "citation.bib"
RIS_FILE = "citation.ris"
CSL_FILE = "citation.json"
CITATION_FILES = (BIB_FILE, RIS_FILE, CSL_FILE, CFF_FILE)
BOOK_KEY = "akam_rewarding_kam_performance"
GENRE = "Executable book"
RECONSTRUCTED = "respondent-level data reconstructed from the published article"
COMPUTED = "computed from the respondent-level survey data"
STYLES = citeformats.STYLES
REUSE_SETTING = "kam_reuse_terms"
DEFAULT_REUSE_TERMS = "Figures may be quoted with attribution."
REUSE_ANCHOR = "cite.html#reuse"
CFF_MESSAGE = "If you cite this publication, please cite the edition (survey wave) you read, as its How to cite page gives it."


@dataclass(frozen=True)
class EditionRecord:
    """One published edition as a reference: its wave, title, date and permanent address."""

    wave: str
    title: str
    survey: str
    fieldwork: str
    n: int
    published: dt.date | None
    reconstructed: bool
    url: str
    current: bool
    #: the fieldwork in the house style of the pages ("between July and September 2022"); "" if not known
    fieldwork_between: str = ""

    @property
    def label(self) -> str:
        return f"{self.wave} edition"

    @property
    def key(self) -> str:
        return f"{BOOK_KEY}_{re.sub(r'[^A-Za-z0-9]+', '_', self.wave)}"


@dataclass(frozen=True)
class Citation:
    """The book's citation metadata (CITATION.cff), its editions oldest first, and the works it draws on."""

    title: str
    authors: list[dict]
    url: str
    version: str
    date_released: dt.date | None
    message: str
    editions: list[EditionRecord]
    sources: list[dict]

    @property
    def current(self) -> EditionRecord:
        return next(e for e in self.editions if e.current)

    def edition(self, wave: str) -> EditionRecord:
        for edition in self.editions:
            if edition.wave == str(wave):
                return edition
        raise KeyError(f"data/editions.yml has no edition {wave!r}; editions: {', '.join(e.wave for e in self.editions)}")


def edition_url(site_url: str, wave: str) -> str:
    """The permanent address of an edition: <site>/editions/<wave>/ (see kamsurvey.site.sphinx_ext.stable_url)."""
    return f"{site_url.rstrip('/')}/editions/{wave}/"


def load_citation(root: str | Path) -> Citation:
    root = Path(root)
    cff = yaml.safe_load((root / CFF_FILE).read_text(encoding="utf-8"))
    site_url = str(cff["url"])
    editions = load_editions(root / "data")
    latest = current_edition(editions).wave
    records = []
    for edition in editions:
        meta = read_meta(root / "data", edition.wave)
        records.append(EditionRecord(
            wave=edition.wave, title=edition.title, survey=meta.title, fieldwork=meta.fieldwork, n=meta.n,
            published=meta.published, reconstructed=meta.reconstructed, url=edition_url(site_url, edition.wave),
            current=edition.wave == latest,
            fieldwork_between=phrasing.date_span(meta.fieldwork_start, meta.fieldwork_end),
        ))
    released = cff.get("date-released")
    return Citation(
        title=str(cff["title"]), authors=list(cff["authors"]), url=site_url.rstrip("/") + "/",
        version=str(cff.get("version", "")), date_released=parse_date(released) if released else None,
        message=str(cff.get("message", "")), editions=records, sources=list(cff.get("references") or []),
    )


# -- the model: CSL-JSON items ------------------------------------------------------------------------------


def _csl_name(person: dict) -> dict:
    """A CITATION.cff person or entity as a CSL name (an organisation is one literal name)."""
    if "name" in person:
        return {"literal": str(person["name"])}
    return {"family": str(person["family-names"]), "given": str(person.get("given-names", ""))}


def _issued(day: dt.date | None) -> dict:
    return {"issued": {"date-parts": [[day.year, day.month, day.day]]}} if day else {}


def _key_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


_CSL_TYPES = {"article": "article", "magazine-article": "article-magazine", "report": "report", "book": "book",
              "website": "webpage", "data": "dataset"}


def source_items(citation: Citation) -> list[dict]:
    """The works the book is made from (CITATION.cff `references:`), as CSL items keyed like references.bib."""
    items = []
    for ref in citation.sources:
        authors = [_csl_name(a) for a in ref.get("authors", [])]
        first = authors[0].get("family") or authors[0].get("literal", "") if authors else ""
        year = ref.get("year") or (parse_date(ref["date-published"]).year if ref.get("date-published") else None)
        item = {"id": _key_part(f"{first}{year or ''}").replace("_", ""), "type": _CSL_TYPES.get(ref["type"], "document"),
                "title": str(ref["title"]), "author": authors}
        if year:
            item["issued"] = {"date-parts": [[int(year)]]}
        if ref.get("publisher"):
            item["publisher"] = str(ref["publisher"]["name"])
        if ref.get("url"):
            item["URL"] = str(ref["url"])
        if ref.get("notes"):
            item["note"] = " ".join(str(ref["notes"]).split())
        items.append(item)
    return items


def source_text(citation: Citation, style: str = "apa") -> str:
    """The article the book makes executable, as a reference ('' if CITATION.cff names none)."""
    sources = source_items(citation)
    return citeformats.text(sources[0], style) if sources else ""


def provenance(citation: Citation, edition: EditionRecord) -> str:
    """Where the edition's numbers come from, naming the article for a reconstructed wave."""
    if not edition.reconstructed:
        return COMPUTED[0].upper() + COMPUTED[1:] + "."
    source = source_text(citation)
    return RECONSTRUCTED[0].upper() + RECONSTRUCTED[1:] + (f": {source}" if source else ".")


def book_item(citation: Citation) -> dict:
    """The book as a whole: dated by its first edition, at the site's root address."""
    first = next((e.published for e in citation.editions if e.published), None)
    return {"id": BOOK_KEY, "type": "book", "title": citation.title,
            "author": [_csl_name(a) for a in citation.authors], **_issued(first), "genre": GENRE,
            "URL": citation.url, "note": "Each edition reports one survey wave; cite the edition you read."}


def edition_item(citation: Citation, edition: EditionRecord) -> dict:
    """One edition: its wave, date, survey and permanent address, and where its numbers come from."""
    item = {"id": edition.key, "type": "book", "title": citation.title,
            "author": [_csl_name(a) for a in citation.authors], **_issued(edition.published),
            "edition": edition.label, "genre": GENRE, "URL": edition.url,
            "note": f"{edition.survey}, {edition.fieldwork}, n = {edition.n}. {provenance(citation, edition)}"}
    if edition.reconstructed:
        item["medium"] = RECONSTRUCTED  # the variable both styles print in brackets beside the title
    return item


def figure_item(citation: Citation, edition: EditionRecord, *, label: str, title: str, url: str, fig_id: str) -> dict:
    """One figure: its number and title, in its edition, at its permanent address (…/<page>#fig-…)."""
    item = {"id": f"{edition.key}_{_key_part(fig_id)}", "type": "graphic", "title": f"{label}: {_sentence(title)}",
            "author": [_csl_name(a) for a in citation.authors], **_issued(edition.published),
            "container-title": f"{citation.title} ({edition.label})", "genre": "Figure", "URL": url,
            "note": f"{label} of the {edition.label} ({edition.survey}). {provenance(citation, edition)}"}
    if edition.reconstructed:
        item["medium"] = RECONSTRUCTED
    return item


def _sentence(title: str) -> str:
    return " ".join(str(title).split()).rstrip(".")


def citation_items(citation: Citation, wave: str | None = None) -> list[dict]:
    """What the citation files hold: the book, each edition up to `wave`'s (all if None), the source article."""
    editions = editions_up_to(citation.editions, wave) if wave else citation.editions
    return [book_item(citation)] + [edition_item(citation, e) for e in editions] + source_items(citation)


# -- the forms ----------------------------------------------------------------------------------------------


def edition_text(citation: Citation, edition: EditionRecord, style: str = "apa") -> str:
    """The edition's reference as plain text (APA 7 unless `style` says otherwise)."""
    return citeformats.text(edition_item(citation, edition), style)


def bibtex(citation: Citation, wave: str | None = None) -> str:
    return citeformats.bibtex(citation_items(citation, wave))


def ris(citation: Citation, wave: str | None = None) -> str:
    return citeformats.ris(citation_items(citation, wave))


def csl_json(citation: Citation, wave: str | None = None) -> str:
    return citeformats.csl_json(citation_items(citation, wave))


def citation_files(citation: Citation, root: str | Path, wave: str | None = None) -> dict[str, bytes]:
    """name -> bytes of every file the "How to cite" page links to, written beside the pages."""
    return {
        BIB_FILE: bibtex(citation, wave).encode("utf-8"),
        RIS_FILE: ris(citation, wave).encode("utf-8"),
        CSL_FILE: csl_json(citation, wave).encode("utf-8"),
        CFF_FILE: (Path(root) / CFF_FILE).read_bytes(),
    }


# -- reuse terms --------------------------------------------------------------------------------------------


def reuse_terms_text(copyright: str | None, terms: str | None) -> str:
    """'© 2022–2026 AKAM. Figures may be quoted with attribution.': the copyright line, then the terms."""
    line = f"© {' '.join(str(copyright).split())}." if copyright else ""
    return " ".join(part for part in (line, " ".join(str(terms or DEFAULT_REUSE_TERMS).split())) if part)


def reuse_terms(root: str | Path) -> str:
    """The book's reuse terms, from `_config.yml`: what the footer, CITATION.cff, the deck and the PDF say."""
    path = Path(root) / CONFIG_FILE
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    settings = ((config.get("sphinx") or {}).get("config") or {})
    return reuse_terms_text(config.get("copyright"), settings.get(REUSE_SETTING))


def cff_message(root: str | Path) -> str:
    return f"{CFF_MESSAGE} Reuse: {reuse_terms(root)}"


# -- CITATION.cff against the register and the reuse terms ---------------------------------------------------


def cff_problems(citation: Citation, root: str | Path | None = None) -> list[str]:
    """Where CITATION.cff disagrees with the register (it names the current edition) or the reuse terms."""
    latest = citation.current
    problems = []
    if citation.version != latest.wave:
        problems.append(f"{CFF_FILE}: version is {citation.version!r}, the current edition is {latest.wave!r}")
    if latest.published and citation.date_released != latest.published:
        problems.append(f"{CFF_FILE}: date-released is {citation.date_released}, the current edition was "
                        f"published {latest.published}")
    if root is not None and citation.message != cff_message(root):
        problems.append(f"{CFF_FILE}: message is {citation.message!r}, expected {cff_message(root)!r} "
                        f"(the reuse terms of {CONFIG_FILE})")
    return problems


def update_cff(root: str | Path) -> bool:
    """Set CITATION.cff's version and date-released to the current edition, its message to the reuse terms.

    Other lines are untouched. Returns True when the file changed. `kam wave` calls this after
    registering an edition.
    """
    path = Path(root) / CFF_FILE
    text = path.read_text(encoding="utf-8")
    latest = load_citation(root).current
    updated = re.sub(r'(?m)^version:.*$', f'version: "{latest.wave}"', text)
    if latest.published:
        updated = re.sub(r'(?m)^date-released:.*$', f'date-released: "{latest.published.isoformat()}"', updated)
    message = json.dumps(cff_message(root), ensure_ascii=False)  # a JSON string is a valid YAML scalar
    updated = re.sub(r'(?m)^message:.*$', lambda _: f"message: {message}", updated)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


# -- kam cite -----------------------------------------------------------------------------------------------

FORMATS = {"bibtex": bibtex, "ris": ris, "json": csl_json}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--book", default=Path("."), type=Path, help="the book's folder (default: here)")
    parser.add_argument("--format", default="bibtex", choices=[*FORMATS, *STYLES],
                        help="bibtex (default), ris, json (CSL-JSON), or text in a style: apa, harvard-cite-them-right")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true",
                       help="check CITATION.cff against the editions register and the reuse terms")
    group.add_argument("--update-cff", action="store_true", help="point CITATION.cff at the current edition")


def command(args: argparse.Namespace) -> int:
    if args.update_cff:
        print("CITATION.cff updated" if update_cff(args.book) else "CITATION.cff already current")
        return 0
    citation = load_citation(args.book)
    if args.check:
        problems = cff_problems(citation, args.book)
        print("\n".join(problems) or "CITATION.cff names the current edition and the reuse terms")
        return 1 if problems else 0
    if args.format in STYLES:
        sys.stdout.write("".join(citeformats.text(item, args.format) + "\n" for item in citation_items(citation)))
    else:
        sys.stdout.write(FORMATS[args.format](citation))
    return 0


# -- the editions page ---------------------------------------------------------------------------------------


def editions_list_html(records: list[EditionRecord], wave: str) -> str:
    """The editions page's list: `<ul id="kam-editions-list">`, one item per edition up to `wave`'s.

    `records` are `kamsurvey.report.citation.EditionRecord`s (title, fieldwork, n, published, permanent
    address). This static list is what a reader without JavaScript sees; kam.js replaces it
    with the site's live list (editions.js), which also names editions published later.
    """
    items = []
    for record in editions_up_to(records, wave):
        date = f", published {record.published.isoformat()}" if record.published else ""
        this = " (this edition)" if record.wave == str(wave) else ""
        answered = (f" who answered {html.escape(record.fieldwork_between)}" if record.fieldwork_between
                    else f", {html.escape(record.fieldwork)}")
        items.append(f'<li><a href="{html.escape(record.url)}">{html.escape(record.title)}</a>{this}: '
                     f"{record.n:,} respondents{answered}{date}</li>")
    return '<ul id="kam-editions-list" class="kam-editions">\n' + "\n".join(items) + "\n</ul>"


def published_text(edition: EditionRecord) -> str:
    """'published 26 November 2026' ('' for an edition not yet published)."""
    return f"published {long_date(edition.published)}" if edition.published else ""
