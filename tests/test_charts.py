"""Chart specs: every chart carries its question, base, what the percentage is of, and the source line."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kamsurvey.report import charts

from kamsurvey.analysis import policy, published, tabulate
from kamsurvey.data.wavemeta import WaveMeta

META = WaveMeta("2022", "Survey 2022", dt.date(2022, 7, 1), dt.date(2022, 9, 30), "KAMs", 112,
                "AKAM survey of key account managers", "reconstructed", "Rebuilt from the article.")
ORIGINAL = WaveMeta("2023", "Survey 2023", dt.date(2023, 7, 1), dt.date(2023, 8, 31), "KAMs", 90,
                    "AKAM survey of key account managers", "original", "")


def nodes(spec) -> list[dict]:
    """Every dict in a nested spec (layers, concats, titles, data)."""
    found, stack = [], [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.append(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def as_lines(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def titles(spec: dict) -> tuple[list[str], list[str], list[str]]:
    """(title lines, subtitle lines, bottom lines) gathered from the nested concat."""
    top, sub, bottom = [], [], []
    for node in nodes(spec):
        title = node.get("title")
        if isinstance(title, dict):
            (bottom if title.get("orient") == "bottom" else top)[:0] = as_lines(title.get("text"))
            sub[:0] = as_lines(title.get("subtitle"))
    return top, sub, bottom


def values(spec: dict) -> list[dict]:
    """Inline data rows, in the order the chart lists them."""
    rows = []
    for node in nodes(spec):
        if isinstance(node.get("values"), list):
            rows[:0] = [v for v in node["values"] if isinstance(v, dict)]
    return rows


@pytest.fixture(scope="module")
def frame(wave_2022):
    return wave_2022.responses


def test_multi_select_bars_say_what_the_percentage_is_of(codebook, frame):
    question = codebook["assessment_basis"]
    spec = charts.option_bars(tabulate.option_table(frame, question), question, META, groups=dict(codebook.groups)).to_dict()
    top, sub, bottom = titles(spec)
    assert " ".join(top) == question.wording
    assert any("n = 112" in line for line in sub)
    assert any("more than 100%" in line for line in sub)
    # the fieldwork dated in the one phrasing the prose uses (issue 16 item 1)
    assert " ".join(bottom).startswith("Source: AKAM survey of key account managers, answered between July and "
                                       "September 2022 (n = 112).")
    assert "July–September" not in " ".join(bottom)
    assert "reconstructed" in " ".join(bottom)


def test_share_of_mentions_bars_add_up_to_a_hundred_and_have_no_intervals(codebook, frame):
    question = codebook["should_include"]
    table = tabulate.option_table(frame, question, percent_of=tabulate.MENTIONS)
    spec = charts.option_bars(table, question, META).to_dict()
    _, sub, _ = titles(spec)
    assert any("% of all mentions" in line and "add up to 100%" in line for line in sub)
    assert any("448 mentions" in line for line in sub)
    assert not any("confidence intervals" in line for line in sub)
    assert "ci_low" not in json.dumps([layer.get("encoding", {}) for layer in spec["vconcat"][0]["vconcat"][0]["layer"]])
    rows = [row for row in values(spec) if "code" in row]
    assert rows and not any({"ci_low", "ci_high", "interval"} & set(row) for row in rows)  # not even hidden in the data


def test_bars_are_sorted_with_exclusive_answers_last(codebook, frame):
    question = codebook["downsides"]
    spec = charts.option_bars(tabulate.option_table(frame, question), question, META).to_dict()
    order = [row["code"] for row in values(spec) if "code" in row]
    assert order[0] == "overemphasises_sales" and order[-1] == "none"


def test_tooltips_carry_count_base_and_interval(codebook, frame):
    question = codebook["most_important"]
    spec = json.dumps(charts.option_bars(tabulate.option_table(frame, question), question, META).to_dict())
    for title in ('"Count"', '"Base (n)"', '"95% interval"', '"Percentage"'):
        assert title in spec
    assert '"format": ".1%"' not in spec  # shares are rounded by phrasing.percent, not by Vega


def test_the_tooltip_rounds_as_the_table_and_the_prose(codebook, frame):
    """7 of 112 is 6.25%: 6.3% in the tooltip, as in the data table (the CSV) and by phrasing.percent."""
    from kamsurvey.report import figures
    from kamsurvey.report.phrasing import percent

    question = codebook["reward_basis"]
    table = tabulate.option_table(frame, question)
    record = next(r for r in values(charts.option_bars(table, question, META).to_dict()) if r.get("code") == "not_rewarded")
    shown = figures.display_table(table)
    row = next(r for r in shown["rows"] if r[0] == "Not specially rewarded")
    assert record["count"] == 7 and record["share_label"] == row[3] == percent(7 / 112, 1) == "6.3%"


def test_source_line_of_original_data_does_not_say_reconstructed(codebook, frame):
    question = codebook["most_important"]
    spec = charts.option_bars(tabulate.option_table(frame, question), question, ORIGINAL).to_dict()
    _, _, bottom = titles(spec)
    assert "reconstructed" not in " ".join(bottom)


def test_likert_diverges_around_zero(codebook, frame):
    question = codebook["reflects_job"]
    spec = charts.likert_bars([("All respondents", tabulate.option_table(frame, question))], question, META).to_dict()
    rows = {row["code"]: row for row in values(spec) if "start" in row}
    assert rows["strongly_disagree"]["start"] < rows["disagree"]["start"] < 0 < rows["agree"]["end"] < rows["strongly_agree"]["end"]
    assert rows["neutral"]["start"] == pytest.approx(-rows["neutral"]["end"])


def published_bonus(codebook, frame):
    return published.publish(frame, codebook, codebook["bonus_size"], wave="2022", by="sector")


def test_group_comparison_draws_no_bar_for_a_withheld_cell(codebook, frame):
    question = codebook["bonus_size"]
    table = published_bonus(codebook, frame).breakdown()
    spec = charts.group_comparison_bars(table, question, META, group_title="Sector").to_dict()
    withheld = [row for row in values(spec) if row.get("share_text") == policy.SUPPRESSED_MARK]
    assert len(withheld) == int(table["suppressed"].sum()) > 0
    for row in withheld:  # no number at all: not in the data, the tooltip or the geometry
        assert row["share"] is None and row["count"] is None and row["ci_low"] is None and row["ci_high"] is None
        assert row["count_text"] == row["share_label"] == row["interval"] == policy.SUPPRESSED_MARK
        assert row["text_x"] == 0
    _, sub, _ = titles(spec)
    assert any(policy.SUPPRESSED_MARK in line for line in sub)


def test_withheld_bars_come_after_the_others_whatever_their_size(codebook, frame):
    table = published.publish(frame, codebook, codebook["reward_basis"], wave="2022", by="sector").view()
    withheld = table.loc[table["suppressed"], "code"].tolist()
    assert withheld  # personal objectives (4) and other (3)
    order = charts.bar_order(table, sort=True)
    assert order[-len(withheld):] == withheld
    shown = table.set_index("code").loc[order[:-len(withheld)], "count"].tolist()
    assert shown == sorted(shown, reverse=True)
    spec = charts.option_bars(table, codebook["reward_basis"], META).to_dict()
    rows = [row for row in values(spec) if row.get("code") in withheld]
    assert all(row["count"] is None and row["share"] is None and row["ci_high"] is None for row in rows)
    _, sub, _ = titles(spec)
    assert any(line.startswith(policy.SUPPRESSED_MARK) for line in sub)


def test_likert_segments_of_a_withheld_cell_are_not_drawn_and_the_rest_close_up(codebook, frame):
    question = codebook["reflects_job"]
    table = published.publish(frame, codebook, question, wave="2022", by="sector")
    rows = [("All respondents", table.view()), ("Other sectors", table.view("other"))]
    spec = charts.likert_bars(rows, question, META).to_dict()
    other = {row["code"]: row for row in values(spec) if row.get("row", "").startswith("Other sectors") and "start" in row}
    assert other["strongly_disagree"]["start"] is None and other["strongly_disagree"]["count"] is None
    base = other["agree"]["base"]
    half = other["neutral"]["count"] / base / 2
    assert other["disagree"]["end"] == pytest.approx(-half, abs=1e-6)
    assert other["agree"]["start"] == pytest.approx(half, abs=1e-6)
    # each side's total stands at its end; both sides hold a withheld cell, so both totals read the mark
    marks = {row["align"]: row for row in values(spec) if row.get("text") == policy.SUPPRESSED_MARK}
    assert {m["row"] for m in marks.values()} == {f"Other sectors (n = {base})"} and set(marks) == {"left", "right"}
    assert marks["left"]["x"] == pytest.approx(other["agree"]["end"], abs=1e-6)
    assert marks["right"]["x"] == pytest.approx(other["disagree"]["start"], abs=1e-6)


def test_spectrum_says_it_is_not_survey_data():
    ends = [{"label": "A", "position": 0, "rewarded_on": "x", "risk": "y"},
            {"label": "B", "position": 1, "rewarded_on": "x", "risk": "y"}]
    _, sub, _ = titles(charts.spectrum_diagram(ends, title="Spectrum", source="Source: the article").to_dict())
    assert any("not a chart of survey data" in line for line in sub)


def test_specs_are_deterministic(codebook, frame):
    question = codebook["targets_set"]
    make = lambda: json.dumps(charts.option_bars(tabulate.option_table(frame, question), question, META).to_dict(), sort_keys=True)
    assert make() == make()


def test_a_share_on_a_half_rounds_up_on_the_chart_as_in_the_prose(codebook, frame):
    from kamsurvey.report import figures
    from kamsurvey.report.phrasing import percent

    question = codebook["most_important"]
    tie = frame.copy()  # 112 respondents
    code = question.codes()[0]
    tie[question.id] = [code] * 14 + [question.codes()[1]] * 98  # 14 of 112: 12.5%
    table = tabulate.option_table(tie, question)
    row = table.set_index("code").loc[code]
    assert percent(row.share) == "13%"
    shares = {r["code"]: r for r in values(charts.option_bars(table, question, META).to_dict()) if "code" in r}
    assert shares[code]["share_text"] == "13%"  # f"{0.125 * 100:.0f}%" would say 12%
    assert shares[code]["interval"] == f"{percent(row.ci_low)}–{percent(row.ci_high)}"
    assert f"{question.label(code)} 13%" in figures.describe("Bar chart", question.wording, 112, table)


def test_no_segment_of_a_stacked_chart_is_labelled_so_none_is_left_out(codebook, frame):
    """Segments too narrow for a label once went without while others had one: now no segment has a label, and
    each side's total stands at its end."""
    question = codebook["reflects_job"]
    table = published.publish(frame, codebook, question, wave="2022", by="sector")
    spec = charts.likert_bars([("All respondents", table.view()), ("Pharma", table.view("pharma"))], question,
                              META).to_dict()
    text_fields = {node["encoding"]["text"]["field"] for node in nodes(spec)
                   if isinstance(node.get("encoding"), dict) and "text" in node["encoding"]}
    assert "share_text" not in text_fields and "text" in text_fields
    segments = [row for row in values(spec) if "start" in row]
    assert segments and all(row["share_text"] == "" for row in segments)
