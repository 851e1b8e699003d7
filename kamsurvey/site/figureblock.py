"""A figure's block on the page, from its payload, by a Jinja2 template (templates/kam-figure.html).

Two parts: the chart (static SVG for each layout, shown without JavaScript and in print, and the
spec each interactive chart is drawn from), where the figure stands; and its data table,
downloads and citation, after the figure's caption, so that the caption sits directly under the
chart. The template escapes every value (autoescape); the only markup that comes in whole is
what is made and escaped elsewhere: the static SVG (vl-convert's, with scoped ids), the spec as
JSON that cannot close its <script> element (`literal.script_json`) and the citation block
(`kamsurvey.site.citehtml`).

The chart is one image to assistive technology (`role="img"`, the alt text as its label); the
data table and the downloads give the numbers in full. A diagram has no data table and no CSV link.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from kamsurvey.report import figures
from kamsurvey.report.literal import script_json

TEMPLATE = "kam-figure.html"
TEMPLATES_DIR = Path(__file__).parent / "templates"
LAYOUTS = ("wide", "narrow")  # the payload's spec and spec_narrow, in the order the page holds them
CSV_LINK = "Data (CSV)"


@dataclass(frozen=True)
class FigureBlock:
    """The figure's HTML: `chart` where the figure stands, `details` after its caption."""

    chart: str
    details: str


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


_ENVIRONMENT = _environment()


def specs(payload: dict) -> dict[str, dict]:
    """The payload's spec for each layout (a payload before phones had their own has one spec for both)."""
    return {"wide": payload["spec"], "narrow": payload.get("spec_narrow") or payload["spec"]}


def _layouts(payload: dict, svgs: dict[str, str]) -> list[dict]:
    return [{"name": name, "svg": Markup(svgs[name]), "spec_json": Markup(script_json(spec))}
            for name, spec in specs(payload).items()]


def figure_block(payload: dict, *, svgs: dict[str, str], downloads: dict[str, str], cite_html: str,
                 figure_label: str) -> FigureBlock:
    """The figure's HTML. `svgs`: the static SVG of each layout (ids already scoped); `downloads`: link words ->
    href; `cite_html`: the "Cite this figure" block."""
    template = _ENVIRONMENT.get_template(TEMPLATE).module
    table = payload["table"] if figures.has_data_table(payload) else None
    links = [{"text": text, "href": href} for text, href in downloads.items() if table is not None or text != CSV_LINK]
    figure = {
        "id": payload["id"],
        "alt": payload["alt"],
        "title": payload["title"],
        "label": figure_label,
        "layouts": _layouts(payload, svgs),
        "table": None if table is None else {"columns": table["columns"], "rows": table["rows"],
                                             "notes": table.get("notes", [])},
        "downloads": links,
        "cite": Markup(cite_html),
    }
    return FigureBlock(chart=str(template.chart(figure)), details=str(template.details(figure)))


def headline_block(payload: dict, *, svgs: dict[str, str], href: str, figure_label: str, chapter: str) -> str:
    """The landing page's headline chart: the figure's chart, linked to its place in its chapter."""
    template = _ENVIRONMENT.get_template(TEMPLATE).module
    figure = {"id": payload["id"], "alt": payload["alt"], "layouts": _layouts(payload, svgs)}
    return str(template.headline(figure, {"href": href, "label": figure_label, "chapter": chapter}))
