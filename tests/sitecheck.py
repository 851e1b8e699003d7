"""Reading a built site: which resources its pages load, and from where."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        attrs = dict(attrs)
        if tag in {"script", "img", "iframe", "audio", "video", "source", "embed"} and attrs.get("src"):
            self.loaded.append((tag, attrs["src"]))
        if tag == "link" and attrs.get("href"):
            rel = (attrs.get("rel") or "").lower()
            if any(r in rel for r in ("stylesheet", "preload", "icon", "modulepreload", "manifest")):
                self.loaded.append((f"link[{rel}]", attrs["href"]))
        if tag == "object" and attrs.get("data"):
            self.loaded.append((tag, attrs["data"]))


# url(https://…), url("//…") and @import "https://…" load from another host; data: URIs don't.
REMOTE_CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])((?:https?:)?//[^'")\s]+)""")


def loaded_resources(html: str) -> list[tuple[str, str]]:
    """(element, url) of every script, stylesheet, font preload, image or frame a page loads."""
    parser = _Resources()
    parser.feed(html)
    return parser.loaded


def external(url: str) -> bool:
    parsed = urlparse(url)
    return bool(parsed.scheme in {"http", "https"} or url.startswith("//"))


def external_loads(site: Path) -> dict[str, list[str]]:
    found = {}
    for page in sorted(site.rglob("*.html")):
        bad = [f"{tag} {url}" for tag, url in loaded_resources(page.read_text(encoding="utf-8")) if external(url)]
        if bad:
            found[str(page.relative_to(site))] = bad
    for sheet in sorted(site.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        bad = REMOTE_CSS_URL.findall(text)
        if bad:
            found[str(sheet.relative_to(site))] = bad
    return found


# -- respondent-level data -----------------------------------------------------------------------------------


def respondent_markers(responses_csv: Path) -> tuple[list[str], list[str]]:
    """(respondent ids, raw column names) of a wave's respondent-level file.

    Raw column names are the ones only the respondent-level file has: the id column and
    the `question__option` columns of multi-select questions (aggregates name options by
    their code alone).
    """
    import csv

    with responses_csv.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        ids = [row[0] for row in reader if row]
    raw_columns = [header[0]] + [c for c in header if "__" in c]
    return ids, raw_columns


def respondent_level_leaks(site: Path, responses_csv: Path) -> dict[str, list[str]]:
    """Built files that carry respondent-level data: a respondent id, a raw column name, or the raw file itself."""
    ids, raw_columns = respondent_markers(responses_csv)
    id_pattern = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(map(re.escape, ids)) + r")(?![A-Za-z0-9_])")
    raw_bytes = responses_csv.read_bytes()
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        data = path.read_bytes()
        problems = []
        if data == raw_bytes:
            problems.append("a copy of the respondent-level file")
        text = data.decode("utf-8", errors="replace")
        problems += sorted({f"respondent id {m}" for m in id_pattern.findall(text)})[:5]
        problems += [f"raw column {c}" for c in raw_columns if c in text][:5]
        if problems:
            found[str(path.relative_to(site))] = problems
    return found

