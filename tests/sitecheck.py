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
