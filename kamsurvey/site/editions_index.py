"""The site's editions index, `editions.js`: the latest edition and every edition, for kam.js.

kam.js asks the site root for it on the editions page and on every page inside
`editions/<wave>/` (the banner pointing an older edition's reader to the latest, the list
of editions). Every HTML build carries one at its root (`kamsurvey.site.sphinx_ext`), and
`kam site` writes the site's own at the root of `_build/site/`.
"""

from __future__ import annotations

import json

from kamsurvey.data.editions import Edition, current_edition

# the editions index kam.js loads from the site root: written into every HTML build and the site
EDITIONS_JS = "editions.js"


def editions_js(editions: list[Edition]) -> str:
    """The site's editions index, loaded by kam.js from the site root: the latest edition and every edition."""
    info = {"latest": current_edition(editions).wave,
            "editions": [{"wave": e.wave, "title": e.title} for e in editions]}
    payload = json.dumps(info, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")
    return ("/* Editions of this book, written by scripts/build_site.py from data/editions.yml. */\n"
            'if (typeof window.kamEditionsLoaded === "function") {\n'
            f"  window.kamEditionsLoaded({payload});\n"
            "}\n")
