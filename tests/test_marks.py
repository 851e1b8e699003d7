"""Every number a figure shows carries its class (issue 12): published by the article, or the reconstruction's choice.

Over every figure the chapters publish for the reconstructed 2022 wave (payloads: chart specs, data tables,
alt text) and over the built site's CSVs, a number the article did not publish is never shown without its mark:
drawn pale with a legend entry, its tooltip, table row and CSV row giving its range, no interval around it, and
the alt text naming it. Over a synthetic wave of original answers, the same figures carry no mark at all.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pandas as pd
import pytest

from book import ROOT
from chapter_run import data_chapters, run_chapter
from wavekit import data_dir, write_synthetic_wave

from kamsurvey.analysis import policy, published
from kamsurvey.data.waves import load_wave
from kamsurvey.report import chapter_figures, charts, figures, marks, phrasing
from kamsurvey.site.downloads import chart_words

RANGE = re.compile(r"^exact value not published; any value from \d+% to \d+% fits the article$")
SYNTHETIC = "2031"
MARK_WORDS = (marks.TABLE_HEADER, marks.LEGEND_WORDS[marks.RECONSTRUCTED], marks.LEGEND_WORDS[marks.PUBLISHED],
              "not published", "reconstruction's choice", "drawn pale", marks.NO_INTERVAL)


def _figures(wave: str, data) -> dict[str, dict]:
    found = {}
    with pytest.MonkeyPatch.context() as monkeypatch:
        for path in data_chapters():
            found.update(run_chapter(path, wave=wave, data_dir=data, monkeypatch=monkeypatch).figures)
    return found


@pytest.fixture(scope="module")
def figures_2022() -> dict[str, dict]:
    return _figures("2022", ROOT / "data")


@pytest.fixture(scope="module")
def original_wave(tmp_path_factory):
    data = data_dir(tmp_path_factory.mktemp("original"))
    shutil.copy(ROOT / "_config.yml", data.parent)  # the chapters' link to their notebook reads the repository's address
    write_synthetic_wave(data, SYNTHETIC, n=160, seed=7)
    return data


@pytest.fixture(scope="module")
def figures_original(original_wave) -> dict[str, dict]:
    return _figures(SYNTHETIC, original_wave)


def records(spec) -> list[dict]:
    """The chart's inline data rows."""
    found = []
    if isinstance(spec, dict):
        if isinstance(spec.get("values"), list):
            found += [v for v in spec["values"] if isinstance(v, dict)]
        for value in spec.values():
            found += records(value)
    elif isinstance(spec, list):
        for value in spec:
            found += records(value)
    return found


def cells(payload: dict) -> list[dict]:
    """The chart's numbers: the rows of its data that carry a share (bars, segments) or a total (agreement ends)."""
    return [r for r in records(payload["spec"]) if "share_label" in r or ("text" in r and "row" in r and "align" in r)]


def data_figures(found: dict[str, dict]) -> dict[str, dict]:
    return {fig_id: p for fig_id, p in found.items() if p.get("kind") != figures.DIAGRAM and not p.get("unavailable")}


@pytest.mark.slow  # runs every data chapter in-process (about a minute)
def test_the_2022_figures_are_checked_and_are_a_reconstructed_wave(figures_2022):
    assert load_wave(ROOT / "data", "2022").meta.reconstructed
    assert len(data_figures(figures_2022)) >= 12


@pytest.mark.slow  # runs every data chapter in-process (about a minute)
@pytest.mark.parametrize("layout", ["spec", "spec_narrow"])
def test_no_reconstructed_number_in_a_2022_chart_is_drawn_without_its_mark(figures_2022, layout):
    marked = 0
    for fig_id, payload in data_figures(figures_2022).items():
        spec = payload[layout]
        text = json.dumps(spec, ensure_ascii=False).replace("\\n", " ")  # wrapped lines read as one
        for row in cells({"spec": spec}):
            if row.get("count_text") == published.policy.SUPPRESSED_MARK or row.get("text") == published.policy.SUPPRESSED_MARK:
                continue  # withheld: no number shown
            assert row.get("provenance") in (marks.PUBLISHED, marks.RECONSTRUCTED), (fig_id, row)
            if row["provenance"] == marks.RECONSTRUCTED:
                marked += 1
                assert RANGE.match(row["article"]), (fig_id, row)  # the tooltip gives the range
                assert row.get("ci_low") is None and row.get("interval", marks.NO_INTERVAL) == marks.NO_INTERVAL, \
                    (fig_id, row)  # no interval around it
            else:
                assert row["article"] in marks.PUBLISHED_WORDS, (fig_id, row)
                if row["article"] != "published":  # a published share of an unpublished count or base
                    assert row.get("ci_low") is None and row.get("interval", marks.NO_INTERVAL) == marks.NO_INTERVAL, \
                        (fig_id, row)
        if any(r.get("provenance") == marks.RECONSTRUCTED for r in cells({"spec": spec})):
            assert charts.RECONSTRUCTED_TEST in text and marks.LEGEND_WORDS[marks.RECONSTRUCTED] in text, fig_id
    assert marked > 50


@pytest.mark.slow  # runs every data chapter in-process (about a minute)
def test_no_reconstructed_number_in_a_2022_data_table_or_alt_text_goes_without_its_mark(figures_2022):
    for fig_id, payload in data_figures(figures_2022).items():
        table = payload["table"]
        assert table["columns"][-1] == marks.TABLE_HEADER, fig_id
        intervals = [i for i, c in enumerate(table["columns"]) if "interval" in c]
        for row in table["rows"]:
            words = row[-1]
            assert words == published.policy.SUPPRESSED_MARK or words in marks.PUBLISHED_WORDS or RANGE.match(words), \
                (fig_id, row)
            if RANGE.match(words) or words in marks.PUBLISHED_WORDS[1:]:  # no interval unless share, count, base known
                assert all(row[i] == "" for i in intervals), (fig_id, row)
        if any(RANGE.match(str(row[-1])) for row in table["rows"]):
            assert ("Not published exactly by the article" in payload["alt"]
                    or marks.NONE_PUBLISHED in payload["alt"] or marks.NONE_EXACT in payload["alt"]), fig_id
        if intervals:
            assert any("assume a random sample" in note and "self-selected" in note for note in table["notes"]), fig_id


@pytest.mark.slow  # runs every data chapter in-process (about a minute)
def test_no_2022_interval_rests_on_a_sector_size_the_reconstruction_chose(figures_2022):
    """Figure 4.2: a share the article prints for pharma is of a sector size it does not print: no interval."""
    payload = figures_2022["fig-reward-basis-sector"]
    sector_rows = [r for r in cells(payload) if r.get("group_code") in ("pharma", "other") and r.get("share") is not None]
    assert sector_rows
    assert all(r.get("ci_low") is None and r["interval"] == marks.NO_INTERVAL for r in sector_rows)
    assert any(r["article"] == marks.BASE_NOT_PUBLISHED for r in sector_rows)
    header = payload["table"]["columns"]
    assert not any("interval" in c for c in header) or all(
        row[i] in ("", published.policy.SUPPRESSED_MARK) for row in payload["table"]["rows"]
        for i, c in enumerate(header) if "interval" in c)


@pytest.mark.slow  # runs every data chapter in-process (about a minute)
def test_2022_alt_text_never_says_the_article_gives_no_number_where_it_gives_one_in_words(figures_2022):
    """Figures 2.3, 3.2, 4.1 and 5.2: the article gives these numbers in words ("two thirds", "a quarter")."""
    for fig_id, payload in data_figures(figures_2022).items():
        if marks.NOT_A_FINDING in payload["alt"] or chapter_figures.NOT_BY_SECTOR in payload["alt"]:
            continue
        assert marks.NONE_PUBLISHED not in payload["alt"], fig_id
    assert any(marks.NONE_EXACT in p["alt"] for p in figures_2022.values())


@pytest.mark.slow  # runs every data chapter in-process (about a minute)
def test_every_2022_chart_showing_an_interval_says_what_it_assumes(figures_2022):
    for fig_id, payload in data_figures(figures_2022).items():
        for layout in ("spec", "spec_narrow"):
            drawn = [r for r in records(payload[layout]) if r.get("ci_low") is not None]
            text = " ".join(chart_words(payload[layout]).notes)
            if drawn:
                assert "assume a random sample" in text and "self-selected" in text, fig_id


@pytest.mark.slow  # runs every data chapter in-process (about a minute)
def test_a_2022_breakdown_with_no_published_number_is_not_shown_as_a_finding(figures_2022):
    """The agreement scale's sector rows and the sector profile: the article gives no number in them."""
    for fig_id, note in (("fig-reflects-job", chapter_figures.NOT_BY_SECTOR), ("fig-sector-profile", marks.NOT_A_FINDING)):
        payload = figures_2022[fig_id]
        for layout in ("spec", "spec_narrow"):
            assert note in " ".join(chart_words(payload[layout]).notes), (fig_id, layout)
        assert note in payload["alt"], fig_id


@pytest.mark.slow
def test_the_built_csvs_of_2022_mark_every_reconstructed_number(site):
    checked = 0
    for path in sorted((site / "figures").glob("*_2022.csv")):
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        header, body = rows[0], rows[1:]
        if header == ["Note"]:
            continue
        assert header[-1] == marks.TABLE_HEADER, path.name
        for row in body:
            assert row[-1], (path.name, row)
            checked += RANGE.match(row[-1]) is not None
    assert checked > 50


@pytest.mark.slow  # runs every data chapter in-process (about a minute)
def test_an_original_wave_shows_no_mark_at_all(figures_original, original_wave):
    assert not load_wave(original_wave, SYNTHETIC).meta.reconstructed
    shown = data_figures(figures_original)
    assert len(shown) >= 12
    for fig_id, payload in shown.items():
        text = json.dumps(payload, ensure_ascii=False)
        assert not any(word in text for word in MARK_WORDS), (fig_id, [w for w in MARK_WORDS if w in text])
        assert not any("provenance" in r or "article" in r for r in records(payload["spec"])), fig_id
        assert marks.TABLE_HEADER not in payload["table"]["columns"], fig_id
        assert "Not a finding" not in text, fig_id


@pytest.mark.slow  # runs every data chapter in-process (about a minute)
def test_an_original_wave_draws_intervals_on_every_share_of_respondents(figures_original):
    payload = figures_original["fig-most-important"]
    drawn = [r for r in records(payload["spec"]) if "share_label" in r and r.get("share") is not None]
    assert drawn and all(r["ci_low"] is not None for r in drawn)
    assert charts.INTERVAL_NOTE in " ".join(chart_words(payload["spec"]).notes)


def _drawn_order(spec: dict) -> list[tuple[str, str]]:
    """(option, group) of each bar, top down, as the chart draws them."""
    bars = [r for r in records(spec) if "y_top" in r and "share_label" in r and "code" in r and "start" not in r]
    unique = {(r["y_top"], r["label"], r.get("group", "")): r for r in bars}  # each layer repeats the data
    return [(label, group.split(" (n = ")[0]) for _, label, group in sorted(unique)]


@pytest.mark.slow  # runs every data chapter in-process (about a minute)
def test_data_tables_list_the_rows_in_the_order_the_chart_draws_them(figures_2022, figures_original):
    checked = 0
    for found in (figures_2022, figures_original):
        for fig_id, payload in data_figures(found).items():
            drawn = _drawn_order(payload["spec"])
            if not drawn:
                continue
            columns = payload["table"]["columns"]
            option = columns.index("Option")
            group = columns.index("Group") if "Group" in columns and drawn[0][1] else None
            rows = [(row[option], "" if group is None else row[group]) for row in payload["table"]["rows"]]
            if group is None:
                drawn = [(label, "") for label, _ in drawn]
            assert rows == drawn, fig_id
            checked += 1
    assert checked >= 20


# -- the rules themselves, on small tables (fast) -------------------------------------------------------------------


def _row(share: str = marks.PUBLISHED, count: str = marks.PUBLISHED, base: str = marks.PUBLISHED) -> dict:
    return {"code": "a", "label": "A", "count": 7, "base": 50, "share": 0.14, "ci_low": 0.07, "ci_high": 0.26,
            "suppressed": False, "provenance": share, "range_low": float("nan"), "range_high": float("nan"),
            "count_provenance": count, marks.BASE_CLASS: base}


@pytest.mark.parametrize("classes, drawn", [
    ((marks.PUBLISHED, marks.PUBLISHED, marks.PUBLISHED), True),
    ((marks.PUBLISHED, marks.PUBLISHED, marks.RECONSTRUCTED), False),  # a share of a sector size not published
    ((marks.PUBLISHED, marks.RECONSTRUCTED, marks.PUBLISHED), False),
    ((marks.RECONSTRUCTED, marks.RECONSTRUCTED, marks.PUBLISHED), False),
    (("", "", ""), True),  # original answers
])
def test_an_interval_is_drawn_only_when_share_count_and_base_are_published(classes, drawn):
    row = _row(*classes)
    assert marks.has_interval(row) is drawn
    fields = charts._cell_fields(next(pd.DataFrame([row]).itertuples(index=False)), intervals=True)
    assert (fields["ci_low"] is not None) is drawn
    assert fields["interval"] != marks.NO_INTERVAL if drawn else fields["interval"] == marks.NO_INTERVAL
    table = figures.display_table(pd.DataFrame([row]))
    interval_columns = [i for i, c in enumerate(table["columns"]) if "interval" in c]
    assert bool(interval_columns) is drawn  # a table with no interval drops the columns


def test_a_published_share_of_an_unpublished_base_says_so():
    assert marks.class_words(_row(base=marks.RECONSTRUCTED)) == marks.BASE_NOT_PUBLISHED
    assert marks.class_words(_row()) == "published"


def test_the_base_class_comes_from_each_rows_group():
    table = pd.DataFrame([{"group_code": "pharma"}, {"group_code": published.ALL}])
    table.attrs["question"] = "q"
    classed = marks.with_base_class(table, lambda g: marks.PUBLISHED if g == published.ALL else marks.RECONSTRUCTED)
    assert list(classed[marks.BASE_CLASS]) == [marks.RECONSTRUCTED, marks.PUBLISHED]
    assert classed.attrs["question"] == "q"
    alone = pd.DataFrame([{"code": "a"}])
    alone.attrs["group"] = "other"
    assert list(marks.with_base_class(alone, lambda g: g)[marks.BASE_CLASS]) == ["other"]


def test_alt_text_says_the_exact_values_are_not_published_where_the_article_gives_words():
    row = _row(share=marks.RECONSTRUCTED)
    row.update(range_low=0.6, range_high=0.7)
    table = pd.DataFrame([row])
    said = figures.describe("Bar chart", "Two thirds", 112, table, in_words=True)
    silent = figures.describe("Bar chart", "Two thirds", 112, table, in_words=False)
    assert marks.NONE_EXACT in said and marks.NONE_PUBLISHED not in said
    assert marks.NONE_PUBLISHED in silent and marks.NONE_EXACT not in silent


def test_the_withheld_mark_is_explained_in_plain_words_with_the_policys_threshold():
    assert f"fewer than {phrasing.number_words(policy.MIN_CELL)} people" in marks.WITHHELD_WORDS
    assert "policy" not in marks.WITHHELD_WORDS
    assert charts.withheld_note() == f"{policy.SUPPRESSED_MARK} = {marks.WITHHELD_WORDS}."
