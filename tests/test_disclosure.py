"""An attacker in the test suite: no withheld cell can be narrowed from what the book publishes.

For every question with a breakdown, an integer program (`disclosure_attack`) takes everything
published about it -- visible counts, bases, margins, the rounding of every shown share, chart data
and bar geometry, tooltips, alt text, glued prose numbers, the reproduction check's values, ranges
and verdicts -- and computes the smallest and largest value of each withheld cell. Each must stay open
to at least three values and reach `policy.MIN_CELL`. Run on the 2022 edition as published (the
executed notebooks' outputs, which the site is built from) and on synthetic waves of several sizes and
sector mixes (computed through the same chapter code, here, without Sphinx).
"""

from __future__ import annotations

import ast
import copy
import re

import pytest

from chapter_run import CLAIMS_CHAPTER, claims_html, data_chapters, notebook_outputs, run_book
from conftest import DATA
from disclosure_attack import MARK, Reader, is_protected
from kamsurvey.analysis import claims, policy
from kamsurvey.analysis.published import ALL
from kamsurvey.report.chapter_claims import DIRECTION_ONLY
from kamsurvey.report.chapter_data import SECTOR, SECTOR_BREAKDOWNS
from wavekit import data_dir, write_synthetic_wave


def run_edition(wave: str, folder) -> dict:
    """Every data chapter of `wave` run here (the wave preloaded once, as the kernel server does)."""
    from kamsurvey.build.warm import warm
    from kamsurvey.data.waves import PRELOADED

    warm(wave=wave, data_dir=str(folder))
    try:
        with pytest.MonkeyPatch.context() as monkeypatch:
            return run_book(wave=wave, data_dir=folder, monkeypatch=monkeypatch)
    finally:
        PRELOADED.clear()  # other tests expect nothing preloaded


def audit(book: dict, codebook) -> list[dict]:
    """For each question with a breakdown: its withheld cells, the attacker's range of each, and any leak."""
    ledger = claims.load_claims(DATA / "claims" / "2022.yml", codebook)
    reader = Reader(codebook, SECTOR, ledger)
    found = []
    for question_id in SECTOR_BREAKDOWNS:
        knowledge = reader.knowledge(question_id, book)
        if len([g for g in knowledge.groups if g != ALL]) == 0:
            continue  # no breakdown published in this wave
        found.append({"question": question_id, "knowledge": knowledge, "ranges": knowledge.attack()})
    return found


def summary(found: list[dict]) -> str:
    lines = []
    for entry in found:
        ranges = entry["ranges"]
        per_table = {}
        for _, group in ranges:
            per_table[group] = per_table.get(group, 0) + 1
        narrowest = min(ranges.items(), key=lambda item: (item[1][1] - item[1][0], item[1][1]), default=None)
        lines.append(f"{entry['question']}: withheld {per_table or 0}; narrowest {narrowest}")
    return "\n".join(lines)


def assert_protected(found: list[dict]) -> None:
    assert found, "no question with a breakdown was attacked"
    for entry in found:
        knowledge = entry["knowledge"]
        assert not knowledge.leaks, f"{entry['question']}: numbers published for withheld cells: {knowledge.leaks}"
        for cell, (low, high) in entry["ranges"].items():
            assert is_protected(low, high), (f"{entry['question']}: withheld {cell} pinned to {low}..{high} by what is "
                                             f"published ({sorted(knowledge.sources)})")


def assert_model_matches_the_pages(book: dict, found: list[dict]) -> None:
    """The cells shown as the mark are exactly those the published-table model withholds, in every group shown."""
    chapter = next(p.chapter for p in book.values() if p.chapter is not None)
    for entry in found:
        table = chapter.published(entry["question"])
        model = {(r.code, r.group_code) for r in table.cells.itertuples() if r.withheld}
        shown_groups = set(entry["knowledge"].groups)
        assert entry["knowledge"].withheld == {cell for cell in model if cell[1] in shown_groups}, entry["question"]


def likert_positions_come_from_visible_cells(book: dict) -> None:
    """Bar geometry: each segment's ends follow from the row's visible counts alone (the documented rule)."""
    for chapter in book.values():
        for payload in chapter.figures.values():
            if not payload["id"].startswith("fig-reflects"):
                continue
            from disclosure_attack import _records

            rows = {}
            for record in _records(payload["spec"]):
                if "start" in record:
                    rows.setdefault(record["row"], []).append(record)
            for label, records in rows.items():
                by_code = {r["code"]: r for r in records}
                base = records[0]["base"]
                shown = {c: r["count"] / base for c, r in by_code.items() if r["count"] is not None}
                neutral = shown.get("neutral")
                half = neutral / 2 if neutral is not None else 0.0
                expected, left, right = {}, -half, half
                if neutral is not None:
                    expected["neutral"] = (-half, half)
                for code in ("disagree", "strongly_disagree"):
                    if code in shown:
                        expected[code] = (left - shown[code], left)
                        left -= shown[code]
                for code in ("agree", "strongly_agree"):
                    if code in shown:
                        expected[code] = (right, right + shown[code])
                        right += shown[code]
                for code, record in by_code.items():
                    if code in expected:
                        assert (record["start"], record["end"]) == pytest.approx(expected[code], abs=2e-6), (label, code)
                    else:
                        assert record["start"] is None and record["end"] is None, (label, code)


# -- the 2022 edition as published -------------------------------------------------------------------


@pytest.fixture(scope="module")
def edition_2022() -> dict:
    """The executed notebooks' outputs, read with what each glued number means (a run of the same code here).

    The run here must give the notebooks' outputs exactly: the attack is on what the site is built from.
    """
    here = run_edition("2022", DATA)
    for path in data_chapters():
        stored = notebook_outputs(path)
        run = here[path.stem]
        assert {k: repr(v) for k, v in run.glued.items()} == stored.glued, f"{path.name}: re-execute the chapters"
        assert run.figures == stored.figures, f"{path.name}: re-execute the chapters"
        run.glued = {k: ast.literal_eval(v) for k, v in stored.glued.items()}
        run.figures = stored.figures
        if path.stem == CLAIMS_CHAPTER:
            assert claims_html(run.chapter) in stored.outputs, "the reproduction check's table differs from its notebook"
    return here


@pytest.fixture(scope="module")
def found_2022(edition_2022, codebook) -> list[dict]:
    return audit(edition_2022, codebook)


def test_no_withheld_cell_of_2022_can_be_narrowed(found_2022):
    assert_protected(found_2022)
    assert {entry["question"] for entry in found_2022} == set(SECTOR_BREAKDOWNS)
    assert sum(len(entry["ranges"]) for entry in found_2022) > 0


def test_the_2022_pages_withhold_what_the_model_withholds(edition_2022, found_2022):
    assert_model_matches_the_pages(edition_2022, found_2022)
    likert_positions_come_from_visible_cells(edition_2022)


def test_figure_3_2_no_longer_publishes_its_small_cell(edition_2022):
    """The audit's first finding: 'Other sectors x Strongly disagree = 4' was in the CSV, chart data, tooltip,
    geometry and alt text."""
    payload = edition_2022["getting-it-right"].figures["fig-reflects-job"]
    row = next(r for r in payload["table"]["rows"] if r[:2] == ["Other sectors", "Strongly disagree"])
    cells = dict(zip(payload["table"]["columns"], row))
    # the count and every column derived from it (percentage, interval if any, class) carry the mark; the base shows
    assert cells["Count"] == cells["Percentage"] == MARK and cells["Base (n)"] == 50
    assert all(value == MARK for column, value in cells.items() if column not in ("Group", "Option", "Base (n)"))
    assert "32% disagree" not in payload["alt"] and "Other sectors (n = 50): [c] agree" in payload["alt"]


def test_figure_5_3_cells_are_not_recovered(found_2022):
    """The audit's second finding: the four withheld cells of Figure 5.3 were recovered exactly."""
    bonus = next(entry for entry in found_2022 if entry["question"] == "bonus_size")
    for code in ("40_plus", "varies"):
        for group in ("pharma", "other"):
            low, high = bonus["ranges"][(code, group)]
            assert high - low >= 2 and high >= policy.MIN_CELL


def test_a_verdict_resting_on_a_withheld_cell_is_withheld(edition_2022):
    rows = dict(edition_2022[CLAIMS_CHAPTER].claims)
    row = rows["bonus_40_plus_virtually_none_pharma"]
    assert row["Verdict"] == "withheld" and MARK in row["In this edition's data"] and row["The words allow"] == MARK
    # visible cells keep their verdict: in this reconstructed wave, the direction only (the split is not tested)
    assert rows["bonus_10_to_20_more_in_pharma"]["Verdict"] == DIRECTION_ONLY


def test_no_share_of_mentions_carries_an_interval(edition_2022):
    from disclosure_attack import _records

    for chapter in edition_2022.values():
        for payload in chapter.figures.values():
            if "Mentions (all options)" in payload["table"]["columns"]:
                assert not any("interval" in column for column in payload["table"]["columns"]), payload["id"]
                assert not any({"ci_low", "ci_high", "interval"} & set(r) for r in _records(payload["spec"])), payload["id"]
        for name, meaning in chapter.chapter.meanings.items():
            if meaning.get("percent_of") == "mentions":
                assert not re.search(r"\d", str(chapter.glued[f"{name}_ci"])), (chapter.name, name)


def test_one_rounding_everywhere(edition_2022):
    """7 of 112 is 6.25%: 6.3% in the data table (and CSV), in the chart's tooltip, and 6% on the chart."""
    from disclosure_attack import _records

    payload = edition_2022["rewards-incentives"].figures["fig-reward-basis"]
    row = next(r for r in payload["table"]["rows"] if r[0] == "Not specially rewarded")
    assert row[1:4] == [7, 112, "6.3%"]
    record = next(r for r in _records(payload["spec"]) if r.get("code") == "not_rewarded")
    assert record["share_label"] == "6.3%" and record["share_text"] == "6%"


def test_the_reproduction_check_rounds_as_every_page():
    from kamsurvey.report.chapter_claims import one_rounding

    assert one_rounding("6.2% (7 of 112)") == "6.3% (7 of 112)"  # claims words it with an f-string: 6.2%
    assert one_rounding("50% (56 of 112)") == "50% (56 of 112)"
    assert one_rounding("+9.7 points (38.3% (18 of 47) vs 28.6% (10 of 35))") == \
        "+9.7 points (38.3% (18 of 47) vs 28.6% (10 of 35))"
    assert one_rounding("+6.2 points (6.2% (7 of 112) vs 0% (0 of 50))") == "+6.3 points (6.3% (7 of 112) vs 0% (0 of 50))"
    assert one_rounding("sales (75)") == "sales (75)"


def test_the_methodology_states_the_rule_and_nothing_that_narrows_a_withheld_cell():
    from book import markdown_sources

    text = markdown_sources()["chapters/methodology"]
    assert "zero is shown" not in text.lower() and "zeros are shown" not in text.lower()
    rule = [s for s in re.split(r"(?<=\.)\s", " ".join(text.split())) if "{glue:text}`protection_rule`" in s]
    assert len(rule) == 1


def _with(book: dict, name: str, **changes) -> dict:
    """A copy of `book` in which chapter `name` publishes something else."""
    altered = copy.copy(book[name])
    for key, value in changes.items():
        setattr(altered, key, value)
    return {**book, name: altered}


def test_the_attack_finds_what_the_old_pages_gave_away(edition_2022, codebook):
    """The attack can fail: each leak the audit of the old site found is caught here."""
    # the verdict "at most 3% -- holds" beside a withheld value pinned Figure 5.3's pharma 40%+ to 0 or 1
    rows = [(cid, dict(row)) for cid, row in edition_2022[CLAIMS_CHAPTER].claims]
    for cid, row in rows:
        if cid == "bonus_40_plus_virtually_none_pharma":
            row.update({"Verdict": claims.HOLDS, "The words allow": "at most 3%"})
    found = {e["question"]: e for e in audit(_with(edition_2022, CLAIMS_CHAPTER, claims=rows), codebook)}
    assert found["bonus_size"]["ranges"][("40_plus", "pharma")] == (0, 1)
    # Figure 3.2's alt text: "Other sectors: 32% disagree" gave 16, less the published 12: the withheld 4
    figures = copy.deepcopy(edition_2022["getting-it-right"].figures)
    alt = figures["fig-reflects-job"]["alt"]
    figures["fig-reflects-job"]["alt"] = re.sub(r"Other sectors \(n = 50\): \[c\] agree, (\d+%) neither agree nor "
                                                r"disagree, \[c\] disagree", r"Other sectors (n = 50): 52% agree, \1 "
                                                "neither agree nor disagree, 32% disagree", alt)
    assert figures["fig-reflects-job"]["alt"] != alt
    found = {e["question"]: e for e in audit(_with(edition_2022, "getting-it-right", figures=figures), codebook)}
    assert found["reflects_job"]["ranges"][("strongly_disagree", "other")] == (4, 4)
    # a count left in the chart data (the tooltip, the bar) of a withheld cell is a leak in itself
    figures = copy.deepcopy(edition_2022["getting-it-right"].figures)
    from disclosure_attack import _records

    record = next(r for r in _records(figures["fig-reflects-job"]["spec"])
                  if r.get("code") == "strongly_disagree" and str(r.get("row", "")).startswith("Other"))
    record["count"] = 4
    found = {e["question"]: e for e in audit(_with(edition_2022, "getting-it-right", figures=figures), codebook)}
    assert found["reflects_job"]["knowledge"].leaks


# -- synthetic waves ---------------------------------------------------------------------------------------

WAVES = [
    pytest.param(112, 7, None, id="n112-seed-mix"),
    pytest.param(60, 3, 0.5, id="n60-even", marks=pytest.mark.slow),
    pytest.param(150, 11, 0.85, id="n150-mostly-pharma", marks=pytest.mark.slow),
    pytest.param(400, 5, 0.3, id="n400-mostly-other", marks=pytest.mark.slow),
    pytest.param(45, 9, 0.08, id="n45-tiny-pharma", marks=pytest.mark.slow),
]


@pytest.mark.parametrize(("n", "seed", "pharma_share"), WAVES)
def test_no_withheld_cell_of_a_synthetic_wave_can_be_narrowed(tmp_path, codebook, n, seed, pharma_share):
    folder = data_dir(tmp_path)
    write_synthetic_wave(folder, "2031", n=n, seed=seed, pharma_share=pharma_share)
    book = run_edition("2031", folder)
    found = audit(book, codebook)
    print(f"\nsynthetic n={n} seed={seed} pharma_share={pharma_share}\n{summary(found)}")
    chapter = book["rewards-incentives"].chapter
    published = [q for q in SECTOR_BREAKDOWNS if chapter.published(q).has_breakdown]
    assert {entry["question"] for entry in found} == set(published)
    if published:
        assert_protected(found)
        assert_model_matches_the_pages(book, found)
    for question_id in set(SECTOR_BREAKDOWNS) - set(published):  # not shown by sector: no number by sector at all
        for chapter_run in book.values():
            for name, meaning in chapter_run.chapter.meanings.items():
                if meaning.get("question") == question_id and meaning.get("group", ALL) != ALL:
                    assert chapter_run.glued[f"{name}_pct"] == MARK, (chapter_run.name, name)
                if meaning.get("question") == question_id and meaning["kind"] == "sector_test":
                    assert chapter_run.glued[f"{name}_pharma_pct"] == MARK and chapter_run.glued[f"{name}_diff"] == "not shown"
        for claim_id, row in book[CLAIMS_CHAPTER].claims:
            claim = book[CLAIMS_CHAPTER].chapter.computed_claim_results()[claim_id].claim
            by_sector = SECTOR in (claim.within or {}) or SECTOR in (dict(claim.versus or {}).get("within") or {})
            if claim.question == question_id and by_sector:
                assert row["Verdict"] in ("withheld", claims.CANNOT_COMPUTE), claim_id
    likert_positions_come_from_visible_cells(book)
