"""How to cite the book, an edition and a figure.

One source for each fact: the authors, title and address come from
`CITATION.cff`; the editions from the register (`data/editions.yml`, through
`kamsurvey.data.editions`); each edition's date and provenance from its wave's
`wave.yml`. The BibTeX entries, the citation text on the "How to cite" page and
under each figure, and the briefing's citation are all generated from these, so
a new edition needs no citation typed by hand.

    kam cite                  # print the BibTeX of the book and every edition
    kam cite --check          # exit 1 if CITATION.cff disagrees with the register
    kam cite --update-cff     # set CITATION.cff's version and date to the current edition
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from kamsurvey.data.editions import current_edition, editions_up_to, load_editions
from kamsurvey.report.figures import long_date
from kamsurvey.data.waves import read_meta

CFF_FILE = "CITATION.cff"
BIB_FILE = "citation.bib"
BOOK_KEY = "akam_rewarding_kam_performance"


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

    @property
    def label(self) -> str:
        return f"{self.wave} edition"

    @property
    def key(self) -> str:
        return f"{BOOK_KEY}_{re.sub(r'[^A-Za-z0-9]+', '_', self.wave)}"


@dataclass(frozen=True)
class Citation:
    """The book's citation metadata and its editions, oldest first."""

    title: str
    authors: list[dict]
    url: str
    version: str
    date_released: dt.date | None
    editions: list[EditionRecord]

    @property
    def current(self) -> EditionRecord:
        return next(e for e in self.editions if e.current)

    @property
    def author_text(self) -> str:
        """'AKAM — Association for Key Account Management and D. Woodburn' (reading order, for prose)."""
        names = [_display_name(a) for a in self.authors]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _display_name(author: dict) -> str:
    if "name" in author:
        return str(author["name"])
    initials = " ".join(f"{part[0]}." for part in str(author.get("given-names", "")).split())
    return f"{initials} {author['family-names']}".strip()


def _as_date(value) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


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
        ))
    return Citation(
        title=str(cff["title"]), authors=list(cff["authors"]), url=site_url.rstrip("/") + "/",
        version=str(cff.get("version", "")), date_released=_as_date(cff.get("date-released")), editions=records,
    )


# -- text -------------------------------------------------------------------------------------------------


def edition_text(citation: Citation, edition: EditionRecord) -> str:
    """The reference for one edition, in the author (year). Title. Edition. Date. URL style."""
    year = f" ({edition.published.year})" if edition.published else ""
    published = f" Published {long_date(edition.published.isoformat())}." if edition.published else ""
    return (f"{citation.author_text}{year}. {citation.title}, {edition.label}: {edition.survey} "
            f"({edition.fieldwork}, n = {edition.n}).{published} {edition.url}")


def figure_edition(edition_wave: str, survey_title: str) -> str:
    """How a figure's citation names its edition: '2022 edition (AKAM performance and rewards survey 2022)'."""
    return f"{edition_wave} edition ({survey_title})"


# -- BibTeX ------------------------------------------------------------------------------------------------

_BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                   "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def bibtex_escape(text: str) -> str:
    """Text safe inside a BibTeX field: TeX specials escaped, dashes in TeX form."""
    out = "".join(_BIBTEX_SPECIAL.get(ch, ch) for ch in " ".join(str(text).split()))
    return out.replace("\u2014", "---").replace("\u2013", "--")


def _bibtex_authors(authors: list[dict]) -> str:
    names = []
    for author in authors:
        if "name" in author:  # an organisation: braced so that BibTeX never splits it into first/last names
            names.append("{" + bibtex_escape(author["name"]) + "}")
        else:
            names.append(f"{bibtex_escape(author['family-names'])}, {bibtex_escape(author.get('given-names', ''))}".rstrip(", "))
    return " and ".join(names)


def _entry(kind: str, key: str, fields: list[tuple[str, str | None]]) -> str:
    width = max(len(name) for name, value in fields if value)
    body = ",\n".join(f"  {name.ljust(width)} = {{{value}}}" for name, value in fields if value)
    return f"@{kind}{{{key},\n{body}\n}}\n"


def bibtex_book(citation: Citation) -> str:
    latest = citation.current
    return _entry("misc", BOOK_KEY, [
        ("author", _bibtex_authors(citation.authors)),
        ("title", "{" + bibtex_escape(citation.title) + "}"),
        ("year", str(latest.published.year) if latest.published else None),
        ("howpublished", "Executable book; " + ("editions " if len(citation.editions) > 1 else "edition ")
         + ", ".join(bibtex_escape(e.wave) + (" (current)" if e.current else "") for e in citation.editions)),
        ("url", citation.url),
    ])


def bibtex_edition(citation: Citation, edition: EditionRecord) -> str:
    provenance = ("respondent-level data reconstructed from the published article" if edition.reconstructed
                  else "computed from the respondent-level survey data")
    return _entry("misc", edition.key, [
        ("author", _bibtex_authors(citation.authors)),
        ("title", "{" + bibtex_escape(citation.title) + "}"),
        ("edition", bibtex_escape(edition.label)),
        ("year", str(edition.published.year) if edition.published else None),
        ("date", edition.published.isoformat() if edition.published else None),
        ("howpublished", "Executable book"),
        ("url", edition.url),
        ("note", bibtex_escape(f"{edition.survey}, {edition.fieldwork}, n = {edition.n}; {provenance}")),
    ])


def bibtex(citation: Citation) -> str:
    """The book, then every edition oldest first: one .bib file."""
    return "\n".join([bibtex_book(citation)] + [bibtex_edition(citation, e) for e in citation.editions])


# -- CITATION.cff against the register -----------------------------------------------------------------------


def cff_problems(citation: Citation) -> list[str]:
    """Where CITATION.cff disagrees with the editions register (it must name the current edition)."""
    latest = citation.current
    problems = []
    if citation.version != latest.wave:
        problems.append(f"{CFF_FILE}: version is {citation.version!r}, the current edition is {latest.wave!r}")
    if latest.published and citation.date_released != latest.published:
        problems.append(f"{CFF_FILE}: date-released is {citation.date_released}, the current edition was "
                        f"published {latest.published}")
    return problems


def update_cff(root: str | Path) -> bool:
    """Set CITATION.cff's version and date-released to the current edition (other lines untouched).

    Returns True when the file changed. `make wave` calls this after registering an edition.
    """
    path = Path(root) / CFF_FILE
    text = path.read_text(encoding="utf-8")
    latest = load_citation(root).current
    updated = re.sub(r'(?m)^version:.*$', f'version: "{latest.wave}"', text)
    if latest.published:
        updated = re.sub(r'(?m)^date-released:.*$', f'date-released: "{latest.published.isoformat()}"', updated)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--book", default=Path("."), type=Path, help="the book's folder (default: here)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--check", action="store_true", help="check CITATION.cff against the editions register")
    group.add_argument("--update-cff", action="store_true", help="point CITATION.cff at the current edition")


def command(args: argparse.Namespace) -> int:
    if args.update_cff:
        print("CITATION.cff updated" if update_cff(args.book) else "CITATION.cff already current")
        return 0
    citation = load_citation(args.book)
    if args.check:
        problems = cff_problems(citation)
        print("\n".join(problems) or "CITATION.cff names the current edition")
        return 1 if problems else 0
    sys.stdout.write(bibtex(citation))
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
        items.append(f'<li><a href="{html.escape(record.url)}">{html.escape(record.title)}</a>{this}: '
                     f"{record.n:,} respondents, {html.escape(record.fieldwork)}{date}</li>")
    return '<ul id="kam-editions-list" class="kam-editions">\n' + "\n".join(items) + "\n</ul>"
