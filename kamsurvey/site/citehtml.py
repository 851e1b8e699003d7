"""Citations on the page: a reference in APA 7 and Harvard, each with a button that copies it.

The text is citeproc-py's (`kamsurvey.report.citeformats.html_text`: every character from data
escaped). The copy buttons are real <button>s named by their text; they stay hidden until
kam.js, which makes them work, has run, so a page without JavaScript shows no dead control.
kam.js announces "Copied" in the block's status line (role="status").
"""

from __future__ import annotations

import html
import re

from kamsurvey.report import citeformats

# style -> (short name used in element ids, the name readers know)
STYLE_NAMES = {"apa": ("apa", "APA 7"), "harvard-cite-them-right": ("harvard", "Harvard")}


def _anchor(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")


def _linked(markup: str, item: dict) -> str:
    """The reference's address made a link (the first time it appears in the escaped text)."""
    if not item.get("URL"):
        return markup
    url = html.escape(item["URL"], quote=True)
    return markup.replace(url, f'<a class="reference external" href="{url}">{url}</a>', 1)


def reference_forms_html(item: dict, anchor: str, text_class: str = "kam-reference-text") -> str:
    """One reference in every style of the page: `<div class="kam-cite-forms">`, ids `kam-cite-<style>-<anchor>`.

    The text's class says what it is: a figure's "Cite this figure" text is `kam-cite-text` (the build
    tests read a figure's citation by it), any other reference's `kam-reference-text`.
    """
    forms = []
    for style, (short, name) in STYLE_NAMES.items():
        text_id = html.escape(f"kam-cite-{short}-{_anchor(anchor)}")
        forms.append(
            f'<div class="kam-cite-form">'
            f'<p class="kam-cite-style">{html.escape(name)}</p>'
            f'<p class="{html.escape(text_class)}" id="{text_id}">{_linked(citeformats.html_text(item, style), item)}</p>'
            f'<button type="button" class="kam-copy" data-kam-copy="{text_id}" hidden>'
            f"Copy {html.escape(name)} reference</button>"
            f"</div>"
        )
    return f'<div class="kam-cite-forms">{"".join(forms)}<p class="kam-copy-status" role="status"></p></div>'


def figure_cite_html(item: dict, fig_id: str) -> str:
    """The "Cite this figure" block under a figure."""
    return (f'<details class="kam-details kam-cite"><summary>Cite this figure</summary>'
            f"{reference_forms_html(item, fig_id, 'kam-cite-text')}</details>")
