"""Figures as the website shows them: escaping of text from the data, alt text, data tables, citation text."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pandas as pd
import pytest

from kamsurvey.report import charts, citation, figures
from kamsurvey.report.literal import script_json
from kamsurvey.report.phrasing import number_words
from kamsurvey.site import citehtml, figureblock

from kamsurvey.analysis import policy, published, tabulate
from kamsurvey.site.render import bundle_script
from kamsurvey.site.sphinx_ext import scope_svg_ids
from kamsurvey.data.wavemeta import WaveMeta

from book import ROOT

META = WaveMeta("2022", "Survey 2022", dt.date(2022, 7, 1), dt.date(2022, 9, 30), "KAMs", 112,
                "AKAM survey of key account managers", "reconstructed", "Rebuilt from the article.", dt.date(2026, 11, 26))
EVIL = '</script><script>alert("label")</script><b onmouseover="x()">&amp;'


class Elements(HTMLParser):
    """Every element of a fragment with its attributes, and the text inside <script> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self._script = tag == "script"

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script:
            self.scripts.append(data)


def parse(fragment: str) -> Elements:
    parser = Elements()
    parser.feed(fragment)
    return parser


@pytest.fixture(scope="module")
def evil_figure(codebook, wave_2022) -> figures.Figure:
    """A figure whose question wording and first option label are markup."""
    question = codebook["most_important"]
    first, *rest = question.options
    question = dataclasses.replace(question, wording=f"Which factor {EVIL}?",
                                   options=(dataclasses.replace(first, label=EVIL), *rest))
    table = tabulate.option_table(wave_2022.responses, question)
    chart = charts.option_bars(table, question, META)
    return figures.Figure(id="fig-evil", title=question.wording, spec=chart.to_dict(),
                          table=figures.display_table(table), alt=figures.describe("Bar chart", question.wording, 112, table),
                          wave="2022", wave_title=META.title, published="2026-11-26", reconstructed=True,
                          question=question.id)


def render(payload: dict, svg: str = "<svg></svg>") -> str:
    """The figure block as a page holds it: the chart, then (after the caption) table, downloads and citation."""
    block = _block(payload, svg)
    return block.chart + block.details


def _block(payload: dict, svg: str = "<svg></svg>") -> figureblock.FigureBlock:
    book = citation.load_citation(ROOT)
    item = citation.figure_item(book, book.edition("2022"), label="Figure 2.3", title=payload["title"],
                                url="https://example.org/editions/2022/c.html#fig-evil", fig_id=payload["id"])
    return figureblock.figure_block(payload, svgs={layout: svg for layout in figureblock.LAYOUTS},
                                    downloads={"Data (CSV)": "../figures/fig-evil.csv", "Chart (SVG)": "x.svg"},
                                    cite_html=citehtml.figure_cite_html(item, payload["id"]), figure_label="Figure 2.3")


def test_text_from_the_data_is_escaped_in_the_figure_block(evil_figure):
    payload = evil_figure.payload()
    # the label really is in the figure: data table, alt text, spec
    assert payload["table"]["rows"][0][0] == EVIL or any(row[0] == EVIL for row in payload["table"]["rows"])
    assert EVIL in payload["alt"] and EVIL in json.dumps(payload["spec"], ensure_ascii=False).replace('\\"', '"')
    page = render(payload)
    assert "<script>alert" not in page and "<b " not in page
    elements = parse(page)
    # only the specs (one per layout): nothing injected
    assert [tag for tag, _ in elements.elements].count("script") == len(figureblock.LAYOUTS)
    assert not any(tag == "b" for tag, _ in elements.elements)
    assert all("onmouseover" not in attrs for _, attrs in elements.elements)
    assert '&lt;/script&gt;&lt;script&gt;alert(&quot;label&quot;)&lt;/script&gt;' in page  # shown as text
    chart = next(attrs for tag, attrs in elements.elements if "kam-chart" in attrs.get("class", ""))
    assert EVIL in chart["aria-label"]  # the alt text keeps the words, as text


def test_spec_json_cannot_close_its_script_element(evil_figure):
    payload = evil_figure.payload()
    page = render(payload)
    texts = parse(page).scripts
    assert len(texts) == len(figureblock.LAYOUTS)
    for spec_text, layout in zip(texts, figureblock.LAYOUTS):
        assert "</" not in spec_text and "<" not in spec_text
        assert json.loads(spec_text) == figureblock.specs(payload)[layout]
    assert re.search(r"</script", script_json({"a": "</SCRIPT>"}), re.IGNORECASE) is None


def test_static_svg_of_markup_labels_is_well_formed_and_inert(evil_figure):
    import vl_convert

    svg = scope_svg_ids(vl_convert.vegalite_to_svg(evil_figure.spec), "fig-evil")
    root = ET.fromstring(svg)
    tags = {element.tag.split("}")[-1] for element in root.iter()}
    assert "script" not in tags and "foreignObject" not in tags
    assert any("<script>alert(" in "".join(element.itertext()) for element in root.iter())  # drawn as text


def test_data_table_csv_is_the_aggregate_table(evil_figure):
    text = figures.table_csv(evil_figure.table)
    header, *rows = text.strip().split("\n")
    assert header == ",".join(evil_figure.table["columns"])
    assert len(rows) == len(evil_figure.table["rows"]) < 20


def test_alt_text_names_question_base_and_leading_options(codebook, wave_2022):
    question = codebook["most_important"]
    table = tabulate.option_table(wave_2022.responses, question)
    alt = figures.describe("Bar chart", question.wording, 112, table)
    top = table.sort_values("share", ascending=False).iloc[0]
    assert alt.startswith(f"Bar chart: {question.wording}")
    assert "Base: 112 respondents." in alt
    assert f"Largest: {top.label} {top.share * 100:.0f}%" in alt


def test_alt_text_of_a_share_of_mentions_says_so(codebook, wave_2022):
    question = codebook["should_include"]
    table = tabulate.option_table(wave_2022.responses, question, percent_of=tabulate.MENTIONS)
    alt = figures.describe("Bar chart", question.wording, 112, table)
    assert f"{int(table['base'].iloc[0])} mentions; percentages are shares of all mentions" in alt
    shown = figures.display_table(table)
    assert "Share of mentions" in shown["columns"] and not any("interval" in c for c in shown["columns"])


def test_alt_text_of_an_agreement_scale_summarises_each_row(codebook, wave_2022):
    question = codebook["reflects_job"]
    rows = [("All respondents", tabulate.option_table(wave_2022.responses, question)),
            ("Pharma", tabulate.option_table(wave_2022.responses[wave_2022.responses["sector"] == "pharma"], question))]
    stacked = pd.concat([t.assign(row=label) for label, t in rows], ignore_index=True)
    alt = figures.describe("Diverging bar chart", question.wording, 112, stacked)
    assert re.search(r"All respondents \(n = 112\): \d+% agree, \d+% neither agree nor disagree, \d+% disagree;", alt)
    assert re.search(r"Pharma \(n = \d+\): \d+% agree", alt)
    agree = rows[0][1].loc[rows[0][1]["group"] == "agree", "share"].sum()
    assert f"{agree * 100:.0f}% agree" in alt


def test_alt_text_by_group_never_names_a_withheld_cell(codebook, wave_2022):
    question = codebook["bonus_size"]
    table = published.publish(wave_2022.responses, codebook, question, wave="2022", by="sector").breakdown()
    assert table["suppressed"].any()
    alt = figures.describe("Bar chart by sector", question.wording, 82, table)
    for row in table[table["suppressed"]].itertuples():
        assert f"{row.label} " not in alt.split(f"{row.group_label} (n")[1].split(";")[0]
    assert re.search(r"Pharma \(n = \d+\): .+ \d+%", alt)
    # plain words on a reader page, the threshold computed from the policy
    assert alt.endswith(f"{policy.SUPPRESSED_MARK}: withheld because fewer than {number_words(policy.MIN_CELL)} "
                        "people gave that answer, or because it would reveal such a group.")
    assert "small-base" not in alt


def test_alt_text_names_as_largest_only_what_no_withheld_cell_could_beat(codebook, wave_2022):
    """Other sectors' largest visible bonus band (10 of 35) could be beaten by the withheld 20-40% cell (up to 17)."""
    question = codebook["bonus_size"]
    table = published.publish(wave_2022.responses, codebook, question, wave="2022", by="sector").breakdown()
    other = table[table["group_code"] == "other"]
    ceiling = int(other.loc[other["suppressed"], "bound_high"].max())
    assert ceiling >= int(other["count"].max())
    alt = figures.describe("Bar chart by sector", question.wording, 82, table)
    assert f"Other sectors (n = 35): {policy.SUPPRESSED_MARK}." in alt


def test_alt_text_of_an_agreement_scale_adds_up_no_withheld_cell(codebook, wave_2022):
    question = codebook["reflects_job"]
    table = published.publish(wave_2022.responses, codebook, question, wave="2022", by="sector")
    stacked = pd.concat([table.view().assign(row="All respondents"), table.view("other").assign(row="Other sectors")],
                        ignore_index=True)
    alt = figures.describe("Diverging bar chart", question.wording, 112, stacked)
    assert re.search(r"Other sectors \(n = 50\): \[c\] agree, \d+% neither agree nor disagree, \[c\] disagree", alt)


def test_the_data_table_rounds_as_the_prose(codebook, wave_2022):
    """7 of 112 is 6.25%: half up on the decimal value, 6.3%, as `phrasing.percent` says everywhere."""
    table = tabulate.option_table(wave_2022.responses, codebook["reward_basis"])
    shown = figures.display_table(table)
    row = next(r for r in shown["rows"] if r[0] == "Not specially rewarded")
    assert row[1:4] == [7, 112, "6.3%"]
    assert figures.table_csv(shown).count("6.3%") == 3 and "6.2%" not in figures.table_csv(shown)


def test_the_caption_goes_between_the_chart_and_its_table_downloads_and_citation(evil_figure):
    """The chart stands where the figure is; what follows its caption is the data table, then the downloads,
    then "Cite this figure" (naming figure, edition and address): the caption sits directly under the chart."""
    block = _block(evil_figure.payload())
    assert 'class="kam-chart"' in block.chart
    assert not any(part in block.chart for part in ("kam-data-table", "kam-downloads", "Cite this figure"))
    order = [block.details.index(part) for part in ("kam-data-table", "kam-downloads", "Cite this figure")]
    assert order == sorted(order)
    assert "Figure 2.3" in block.details and "2022 edition" in block.details
    assert "https://example.org/editions/2022/c.html#fig-evil" in block.details


def test_a_diagram_offers_no_data_table_and_no_csv(evil_figure):
    payload = {**evil_figure.payload(), "kind": figures.DIAGRAM}
    block = _block(payload)
    assert not figures.has_data_table(payload)
    assert "kam-data-table" not in block.details and "numbers behind" not in block.details
    assert "Data (CSV)" not in block.details and "Chart (SVG)" in block.details


def test_vega_bundle_runs_in_its_own_scope():
    script = bundle_script("const _=1;window.vegaEmbed=function(){};", "9.9")
    assert script.splitlines()[1] == "(function () {" and script.rstrip().endswith("})();")
    assert '"use strict";' in script


def _notebook_figures() -> list[dict]:
    import nbformat

    from book import chapter_notebooks

    key = "application/papermill.record/" + figures.FIGURE_MIME
    found = []
    for path in chapter_notebooks():
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                for mime in (key, figures.FIGURE_MIME):
                    if mime in data:
                        found.append(data[mime])
    return found


PALETTE = {c.upper() for c in (charts.BLUE, charts.ORANGE, charts.SKY, charts.GREEN, charts.VERMILLION, charts.PURPLE,
                               charts.GREY, charts.YELLOW, charts.ANSWER, charts.TEXT_COLOUR, charts.MUTED_COLOUR, *charts.LIKERT_COLOURS,
                               "#FFFFFF", "#888888")} | {"WHITE"}


def _hex(colour: str) -> str:
    """'#888' -> '#888888', upper case."""
    colour = colour.upper()
    return "#" + "".join(c * 2 for c in colour[1:]) if len(colour) == 4 and colour.startswith("#") else colour


def _colours(value) -> set[str]:
    found = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key in {"color", "fill", "stroke", "background", "domainColor", "tickColor", "labelColor", "titleColor",
                       "subtitleColor", "range", "value"} and isinstance(item, (str, list)):
                found |= {_hex(v) for v in ([item] if isinstance(item, str) else item)
                          if isinstance(v, str) and (v.startswith("#") or v.lower() == "white")}
            found |= _colours(item)
    elif isinstance(value, list):
        for item in value:
            found |= _colours(item)
    return found


def _contains(actual, expected) -> bool:
    """Every setting of `expected` is in `actual` (Altair adds defaults of its own)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _contains(actual[k], v) for k, v in expected.items())
    return actual == expected


def test_every_published_figure_uses_the_one_theme_and_the_colour_blind_safe_palette():
    published = _notebook_figures()
    assert len(published) >= 13
    for payload in published:
        spec = payload["spec"]
        assert spec["config"]["font"] == charts.FONT and spec["config"]["title"]["color"] == charts.TEXT_COLOUR, payload["id"]
        assert _contains(spec["config"], json.loads(json.dumps(charts.THEME))), payload["id"]
        assert _colours(spec) <= PALETTE, (payload["id"], _colours(spec) - PALETTE)


def _colour_meanings(value, found: dict | None = None) -> dict[str, set[str]]:
    """colour -> what it stands for, from every colour scale of a spec (a domain's label, its base '(n = ...)' cut)."""
    found = {} if found is None else found
    if isinstance(value, dict):
        scale = value.get("scale")
        if isinstance(scale, dict) and isinstance(scale.get("domain"), list) and isinstance(scale.get("range"), list):
            for meaning, colour in zip(scale["domain"], scale["range"]):
                if isinstance(colour, str) and colour.startswith("#"):
                    found.setdefault(_hex(colour), set()).add(re.sub(r"\s*\(n = [\d,]+\)$", "", str(meaning)))
        for item in value.values():
            _colour_meanings(item, found)
    elif isinstance(value, list):
        for item in value:
            _colour_meanings(item, found)
    return found


def test_every_colour_has_one_meaning_across_the_book():
    """Orange once meant quantitative, then financial, then 'other sectors': now a colour means one thing."""
    meanings: dict[str, set[str]] = {}
    for payload in _notebook_figures():
        for layout in ("spec", "spec_narrow"):
            _colour_meanings(payload[layout], meanings)
    assert meanings, "no colour scale found"
    shared = {colour: sorted(words) for colour, words in meanings.items() if len(words) > 1}
    assert shared == {}, shared


def test_the_palette_check_can_fail():
    assert _colours({"mark": {"color": "#FF0000"}}) - PALETTE == {"#FF0000"}
