"""Sphinx: every HTML build carries the editions index (`editions.js`) at its root.

kam.js asks the site root for `editions.js` on the editions page and on every page
inside `editions/<wave>/` (banner, list of editions). A book built on its own
(`make html`, the test builds, a preview) is its own site root, so it gets the index
too, written from `data/editions.yml` when the build finishes; `scripts/build_site.py`
writes the site's own at the root of `_build/site/` (the copies inside each
`editions/<wave>/` tree are never read).
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

from .editions import editions_js, load_editions

EDITIONS_JS = "editions.js"


def write_editions_js(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    text = editions_js(load_editions(Path(app.confdir) / "data"))
    target = Path(app.builder.outdir) / EDITIONS_JS
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", write_editions_js)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
