"""What any data consistent with the article allows: the stored ranges of the 2022 wave and the program behind them.

The ranges are checked four ways: a sample re-solved by the literal respondent-level program; every number of
the reconstruction lies inside its range; the extremes are attained by data the validator accepts and on which
`claims` finds every statement holds; and each constraint encoding against brute force on tiny surveys.
"""

from __future__ import annotations

import ast
import itertools
import subprocess
import sys
from fractions import Fraction

import pandas as pd
import pytest
import yaml

from conftest import DATA, ROOT
from kamsurvey.analysis import feasible, tabulate
from kamsurvey.analysis.claims import HOLDS, claim_from_mapping, evaluate_claim, load_claims
from kamsurvey.analysis.feasible import COUNT, MENTION_SHARE, PUBLISHED, RANK, RECONSTRUCTED, SHARE, Quantity
from kamsurvey.data.codebook import codebook_from_mapping
from kamsurvey.data.validate import check_responses, typed_frame

RANGES = DATA / "waves" / "2022" / "ranges.yml"
LEDGER = DATA / "claims" / "2022.yml"
PHARMA = (("sector", "pharma"),)
OTHER = (("sector", "other"),)


@pytest.fixture(scope="module")
def claims(codebook):
    return load_claims(LEDGER, codebook)


@pytest.fixture(scope="module")
def stored():
    return feasible.load_ranges(RANGES)


def value_on(frame: pd.DataFrame, codebook, quantity: Quantity) -> Fraction:
    """The quantity on respondent-level data, computed with `tabulate` (not with the program)."""
    question = codebook[quantity.question]
    rows = tabulate.within(frame, codebook, dict(quantity.within))
    codes = list(quantity.codes)
    answered = int(tabulate.answered(rows, question).sum())
    if quantity.measure in (COUNT, SHARE):
        share = tabulate.share_of_respondents(rows, question, codes)
        return Fraction(share.count) if quantity.measure == COUNT else Fraction(share.count, share.base)
    if quantity.measure in (MENTION_SHARE, feasible.MENTIONS, feasible.MEAN):
        counts = tabulate.mention_counts(rows, question)
        total = int(counts.sum())
        if quantity.measure == feasible.MENTIONS:
            return Fraction(total)
        if quantity.measure == feasible.MEAN:
            return Fraction(total, answered)
        return Fraction(int(counts[[c for c in codes if c in counts.index]].sum()), total)
    if quantity.measure == feasible.EVERY_GROUP:
        share = tabulate.share_choosing_from_every_group(rows, question, codes)
        return Fraction(share.count, share.base)
    assert quantity.measure == RANK
    ranked = question.substantive_codes() if question.is_multi else question.codes()
    counts = {c: int(tabulate.ticks(rows, question, c).sum()) for c in ranked}
    return Fraction(min(1 + sum(counts[o] > counts[c] for o in ranked) for c in codes))


def raw_frame(codebook, rows: list[dict]) -> pd.DataFrame:
    """Rows of answers ({question: code or set of codes}) as the cells of a responses.csv, strings throughout."""
    cells: dict[str, list[str]] = {"respondent_id": [f"W{i + 1:03d}" for i in range(len(rows))]}
    for question in codebook:
        if question.is_multi:
            for code in question.codes():
                cells[question.column(code)] = ["" if question.id not in row else str(int(code in row[question.id]))
                                                for row in rows]
        else:
            cells[question.id] = [row.get(question.id) or "" for row in rows]
    return pd.DataFrame(cells, dtype=str)


def holds(claim, frame: pd.DataFrame, codebook, meta=None) -> bool:
    """`claims` finds the statement holds, or misses it only by floating-point rounding at a bound of its range.

    An extreme of a range often sits exactly on a bound (23/80 - 27/80 is exactly -5 points, which `claims`
    computes as -0.050000000000000044); the share is then recomputed exactly, as a fraction of counts.
    """
    result = evaluate_claim(claim, frame, codebook, meta)
    if result.status == HOLDS:
        return True
    stated = feasible.stated_quantities(claim, codebook, "2022")
    if result.status != "does not hold" or claim.measure not in feasible.RATIO_MEASURES + ("share_difference",):
        return False
    exact = value_on(frame, codebook, stated[0])
    if claim.measure == "share_difference":
        exact -= value_on(frame, codebook, stated[1])
    bounds = {key: Fraction(str(getattr(claim.allowed, key))) for key in ("min", "max", "min_exclusive", "max_exclusive")
              if getattr(claim.allowed, key) is not None}
    at_a_bound = any(abs(float(result.value) - float(bound)) < 1e-12 for bound in bounds.values())
    return at_a_bound and all(
        {"min": exact >= b, "max": exact <= b, "min_exclusive": exact > b, "max_exclusive": exact < b}[key]
        for key, b in bounds.items())


# --------------------------------------------------------------------------------------------- the stored file


def test_the_stored_file_has_every_quantity_of_the_book_sorted(stored, codebook, claims):
    keys = [r.key for r in stored]
    assert keys == sorted(keys)
    expected = {q.key for q in feasible.book_quantities(codebook, claims, "2022")}
    assert set(keys) == expected
    assert all(r.low <= r.high and r.cls in (PUBLISHED, RECONSTRUCTED) for r in stored)
    assert stored.n == 112 and stored.assumptions == feasible.ASSUMPTIONS
    raw = yaml.safe_load(RANGES.read_text(encoding="utf-8"))
    assert raw["quantities"] == len(stored) == raw["published"] + raw["reconstructed"]


def test_every_number_of_the_reconstruction_lies_in_its_range(stored, wave_2022, codebook):
    """The reconstruction satisfies every statement, so a range that excludes one of its numbers is too narrow."""
    outside = [(r.key, str(value_on(wave_2022.responses, codebook, r.quantity)), str(r.low), str(r.high))
               for r in stored if not r.low <= value_on(wave_2022.responses, codebook, r.quantity) <= r.high]
    assert not outside


SAMPLE = ["count:sector:pharma", "count:rewarded_with:recognition", "share_of_respondents:reward_basis:not_rewarded@sector=other",
          "share_of_mentions:should_include:sales", "rank:downsides:ignores_customer_view", "mean_choices:targets_set",
          "share_of_respondents:bonus_size:10_to_20@sector=pharma"]


def test_a_sample_of_stored_ranges_re_solved_on_one_program_of_all_questions(stored, codebook, claims):
    """Without the split into blocks, the sector sizes found beforehand or the unsplit programs: the same ranges."""
    sample = [r for r in stored if r.key in SAMPLE]
    report = feasible.solve_ranges(codebook, claims, "2022", quantities=[r.quantity for r in sample], formulation="whole")
    assert [(r.key, r.low, r.high) for r in report.ranges] == [(r.key, r.low, r.high) for r in sample]


@pytest.mark.slow
def test_a_sample_of_stored_ranges_re_solved_with_one_variable_per_respondent_and_option(stored, codebook, claims):
    """The literal formulation (112 respondents x options, sectors free, AND/OR variables; minutes) agrees."""
    sample = [r for r in stored if r.key in SAMPLE[:2]]
    report = feasible.solve_ranges(codebook, claims, "2022", quantities=[r.quantity for r in sample],
                                   formulation="respondents")
    assert [(r.key, r.low, r.high) for r in report.ranges] == [(r.key, r.low, r.high) for r in sample]


@pytest.mark.parametrize("key", ["count:rewarded_with:recognition", "share_of_respondents:bonus_size:40_plus@sector=pharma",
                                 "share_from_every_group:targets_set:quantitative+qualitative"])
def test_the_extremes_are_attained_by_valid_data_on_which_every_statement_holds(key, stored, codebook, claims, wave_2022):
    """A witness dataset for each bound: the validator accepts it, `claims` finds all 51 statements hold there."""
    found = next(r for r in stored if r.key == key)
    quantity = found.quantity
    model = feasible.CountModel(codebook, "2022", 112, feasible.pattern_questions(codebook, claims, [quantity], "2022"))
    feasible.encode_claims(model, claims)
    solver = feasible.Solver(model)
    target = feasible.objective(model, quantity)
    for maximise, bound in ((False, found.low), (True, found.high)):
        assert solver.extreme(target, maximise) == bound
        rows = feasible.witness(model, solver.witnesses[(feasible._signature(target), maximise)])
        raw = raw_frame(codebook, rows)
        assert check_responses(raw, codebook, file="witness.csv", wave="2022") == []
        frame = typed_frame(raw, codebook)
        failing = [c.id for c in claims if not holds(c, frame, codebook, wave_2022.meta)]
        assert not failing
        assert value_on(frame, codebook, quantity) == bound


# --------------------------------------------------------------------------------------------- classification


def test_a_printed_figure_is_its_rounding_and_words_are_not(claims):
    by_id = {c.id: c for c in claims}
    assert feasible.printed_figure(by_id["most_important_profitability_16"]) == (Fraction(155, 1000), Fraction(165, 1000))
    assert feasible.printed_figure(by_id["assessment_mean_3_5"]) == (Fraction(345, 100), Fraction(355, 100))
    assert feasible.printed_figure(by_id["should_include_mean_4"]) == (Fraction(7, 2), Fraction(9, 2))
    for words in ("reflects_job_third_disagree", "most_important_sales_nearly_60", "targets_individual_quantitative_c20",
                  "reflects_job_half_agree", "targets_none_a_few"):
        assert feasible.printed_figure(by_id[words]) is None, words


def test_the_classification_rule(claims):
    by_id = {c.id: c for c in claims}
    sixteen = [by_id["most_important_profitability_16"]]
    assert feasible.classify(Fraction(18, 112), Fraction(18, 112), [], SHARE) == PUBLISHED  # one value
    assert feasible.classify(Fraction(156, 1000), Fraction(164, 1000), sixteen, SHARE) == PUBLISHED  # within 16%'s rounding
    assert feasible.classify(Fraction(150, 1000), Fraction(164, 1000), sixteen, SHARE) == RECONSTRUCTED  # beyond it
    assert feasible.classify(Fraction(18), Fraction(19), sixteen, COUNT) == RECONSTRUCTED  # a count is no printed share
    third = [by_id["reflects_job_third_disagree"]]
    assert feasible.classify(Fraction(31, 100), Fraction(33, 100), third, SHARE) == RECONSTRUCTED  # "a third" prints no figure


def test_every_stored_class_follows_the_rule(stored, codebook, claims):
    stating: dict[tuple, list] = {}
    for claim in claims:
        for quantity in feasible.stated_quantities(claim, codebook, "2022"):
            stating.setdefault(quantity.lookup(), []).append(claim)
    for found in stored:
        here = stating.get(found.quantity.lookup(), [])
        assert found.published_by == tuple(sorted({c.id for c in here})), found.key
        measure = found.quantity.measure if found.quantity.measure in feasible.RATIO_MEASURES else None
        assert found.cls == feasible.classify(found.low, found.high, here, measure), found.key
    assert stored.share("assessment_basis", ["sales"]).cls == PUBLISHED  # 80% of 112: 90 exactly
    assert stored.share("most_important", ["customer_profitability"]).cls == PUBLISHED  # 16%: 18 exactly
    assert stored.share("most_important", ["sales"]).cls == RECONSTRUCTED  # "nearly 60%": 62 to 67 respondents
    assert stored.share("rewarded_with", ["recognition"]).cls == RECONSTRUCTED  # the article gives no figure


def test_the_program_does_not_use_the_reconstructions_choices(stored):
    pharma = stored.count("sector", "pharma")
    assert pharma.low <= 50 and pharma.high >= 100  # the reconstruction chose 62
    recognition = stored.count("rewarded_with", "recognition")
    assert recognition.low <= 10 and recognition.high >= 60  # it chose 30
    mix = stored.share_from_every_group("targets_set", ["quantitative", "qualitative"])
    assert mix.low == Fraction(57, 112) and mix.high > Fraction(100, 112)  # "most": 57 of 112 up; it chose 78
    source = (ROOT / "kamsurvey" / "analysis" / "feasible.py").read_text(encoding="utf-8")
    names = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute)}
    assert not names & {"TARGETS", "SECTORS", "TARGETS_MIX", "TICKS_RANGE", "REWARDED_WITH_MAX", "reconstruct"}


# --------------------------------------------------------------------------------------------- the read API


def test_lookups_are_keyed_as_chapters_ask(stored, codebook):
    financial = codebook["most_important"].codes_in_group("financial")
    assert stored.share("most_important", list(reversed(financial))).key == "share_of_respondents:most_important:" + "+".join(financial)
    assert stored.share("reward_basis", ["sales"], within={"sector": "pharma"}).published_by == (
        "reward_basis_sales_pharma",)
    assert stored.count("bonus_size", "40_plus", within={"sector": "other"}).quantity.within == OTHER
    assert stored.mention_share("should_include", ["relationship_development"]).cls == PUBLISHED
    assert stored.mean_choices("downsides").low == stored.mean_choices("downsides").high == Fraction(5, 4)
    assert stored.rank("should_include", codebook["should_include"].codes_in_group("financial")).low == 6
    with pytest.raises(KeyError, match="no range stored"):
        stored.share("assessment_basis", ["sales", "customer_profitability"])


def test_a_malformed_ranges_file_is_refused_naming_the_entry(tmp_path):
    text = RANGES.read_text(encoding="utf-8").replace("class: reconstructed", "class: guessed", 1)
    bad = tmp_path / "ranges.yml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(feasible.FeasibleError, match=r"ranges.yml: range 1 .*guessed"):
        feasible.load_ranges(bad)
    assert feasible.load_wave_ranges(tmp_path, "2099") is None


# --------------------------------------------------------------------------------------------- tiny surveys

TINY = {
    "survey": "tiny",
    "groups": {"g": "G"},
    "questions": [
        {"id": "q", "type": "single", "wording": "Q?", "options": [
            {"code": "a", "label": "A"}, {"code": "b", "label": "B"}, {"code": "c", "label": "C"}]},
        {"id": "m", "type": "multi", "wording": "M?", "options": [
            {"code": "x", "label": "X"}, {"code": "y", "label": "Y", "group": "g"}, {"code": "z", "label": "Z", "group": "g"}]},
        {"id": "sector", "type": "single", "wording": "Sector?", "options": [
            {"code": "pharma", "label": "Pharma"}, {"code": "other", "label": "Other"}]},
    ],
}


def tiny(*question_ids: str):
    raw = dict(TINY, questions=[q for q in TINY["questions"] if q["id"] in question_ids + ("sector",)])
    return codebook_from_mapping(raw)


def tiny_claims(codebook, n: int, *entries: dict) -> list:
    common = {"section": "S", "article_words": "words", "reading": "r"}
    size = {"id": "n", "question": None, "measure": "respondents", "allowed": {"min": n, "max": n}}
    return [claim_from_mapping({**common, **entry}, codebook) for entry in (size, *entries)]


def solved(codebook, claims, quantity: Quantity) -> tuple[Fraction, Fraction]:
    found = feasible.solve_ranges(codebook, claims, None, quantities=[quantity], workers=1).ranges[0]
    return found.low, found.high


def fitting(codebook, claims, n: int) -> list[pd.DataFrame]:
    """Every dataset of n respondents (up to their order) on which `claims` finds every statement holds."""
    answers = []
    for question in codebook:
        if question.is_multi:
            subsets = [set(s) for k in range(1, len(question.codes()) + 1) for s in itertools.combinations(question.codes(), k)]
            answers.append([(question.id, s) for s in subsets])
        else:
            answers.append([(question.id, code) for code in question.codes()])
    kinds = [dict(combination) for combination in itertools.product(*answers)]
    frames = (typed_frame(raw_frame(codebook, list(chosen)), codebook)
              for chosen in itertools.combinations_with_replacement(kinds, n))
    return [frame for frame in frames if all(evaluate_claim(c, frame, codebook).status == HOLDS for c in claims)]


def brute_force(codebook, frames: list[pd.DataFrame], quantity: Quantity) -> tuple[Fraction, Fraction]:
    values = [value_on(frame, codebook, quantity) for frame in frames]
    return min(values), max(values)


def test_a_rank_one_claim_means_strictly_more_than_every_other_option():
    codebook = tiny("q")
    claims = tiny_claims(codebook, 5, {"id": "first", "question": "q", "measure": "rank", "ranks": [1, 1],
                                       "allowed": {"options": ["a"]}})
    a = Quantity(COUNT, "q", ("a",))
    assert solved(codebook, claims, a) == (3, 5)  # 2 of 5 would leave 3 for b and c: one of them ties or beats a
    assert brute_force(codebook, fitting(codebook, claims, 5), a) == (3, 5)


@pytest.mark.parametrize("bound, expected", [("min", (2, 5)), ("min_exclusive", (3, 5))])
def test_a_share_bound_and_its_strictness(bound, expected):
    codebook = tiny("q")
    claims = tiny_claims(codebook, 5, {"id": "share", "question": "q", "measure": "share_of_respondents",
                                       "options": ["a"], "allowed": {bound: 0.4}})
    a = Quantity(COUNT, "q", ("a",))
    assert solved(codebook, claims, a) == expected  # 2 of 5 is 40%: allowed by min, not by min_exclusive
    assert brute_force(codebook, fitting(codebook, claims, 5), a) == expected


def test_not_in_the_top_k_allows_no_tie_at_the_boundary():
    codebook = tiny("m")
    claims = tiny_claims(codebook, 3, {"id": "not_first", "question": "m", "measure": "not_in_top", "top": 1,
                                       "options": ["x"], "allowed": {"max": 0}})
    frames = fitting(codebook, claims, 3)
    x = Quantity(COUNT, "m", ("x",))
    assert solved(codebook, claims, x) == (0, 2)  # x ticked by all 3 could at best tie for first
    assert brute_force(codebook, frames, x) == (0, 2)
    group = Quantity(SHARE, "m", ("y", "z"))  # answer patterns: anyone ticking y or z
    # y or z must beat x: two of three tick one of them (or all three, if nobody ticks x)
    assert solved(codebook, claims, group) == brute_force(codebook, frames, group) == (Fraction(2, 3), 1)


def test_a_sector_comparison_with_both_bases_free():
    """share(a | pharma) - share(a | other) >= 1/2, with the split free: the bilinear encoding, exactly."""
    codebook = tiny("q")
    claims = tiny_claims(codebook, 4, {"id": "more_in_pharma", "question": "q", "measure": "share_difference",
                                       "options": ["a"], "within": {"sector": "pharma"},
                                       "versus": {"within": {"sector": "other"}}, "allowed": {"min": 0.5}})
    frames = fitting(codebook, claims, 4)
    for quantity in (Quantity(COUNT, "sector", ("pharma",)), Quantity(SHARE, "q", ("a",), PHARMA), Quantity(COUNT, "q", ("a",))):
        assert solved(codebook, claims, quantity) == brute_force(codebook, frames, quantity), quantity.key
    assert solved(codebook, claims, Quantity(COUNT, "sector", ("pharma",))) == (1, 3)


def test_a_share_of_mentions_under_a_mean_is_a_ratio_solved_exactly():
    codebook = tiny("m")
    claims = tiny_claims(codebook, 3, {"id": "mean", "question": "m", "measure": "mean_choices", "allowed": {"max": 1.5}})
    frames = fitting(codebook, claims, 3)
    x = Quantity(MENTION_SHARE, "m", ("x",))
    assert solved(codebook, claims, x) == brute_force(codebook, frames, x) == (0, 1)
    y_or_z = Quantity(MENTION_SHARE, "m", ("y", "z"))
    assert solved(codebook, claims, y_or_z) == brute_force(codebook, frames, y_or_z)


def test_the_command_writes_and_checks_the_ranges(tmp_path):
    """`kam reconstruct --only ranges` on a tiny survey: written, --check passes, a changed byte fails it."""
    codebook_path = tmp_path / "codebook.yml"
    codebook_path.write_text(yaml.safe_dump(dict(TINY, questions=TINY["questions"][::2])), encoding="utf-8")
    (tmp_path / "claims").mkdir()
    (tmp_path / "claims" / "2022.yml").write_text(yaml.safe_dump({"claims": [
        {"id": "n", "section": "S", "article_words": "w", "reading": "r", "question": None, "measure": "respondents",
         "allowed": {"min": 5, "max": 5}},
        {"id": "first", "section": "S", "article_words": "w", "reading": "r", "question": "q", "measure": "rank",
         "ranks": [1, 1], "allowed": {"options": ["a"]}},
        {"id": "both_sectors", "section": "S", "article_words": "w", "reading": "r", "question": "sector",
         "measure": "share_of_respondents", "options": ["pharma"], "allowed": {"min": 0.2, "max": 0.8}}]}),
        encoding="utf-8")
    ranges = tmp_path / "ranges.yml"
    kam = [sys.executable, "-m", "kamsurvey", "reconstruct", "--only", "ranges", "--codebook", str(codebook_path),
           "--ranges", str(ranges)]
    written = subprocess.run(kam, capture_output=True, text=True, cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert "integer programs" in written.stdout
    assert feasible.load_ranges(ranges).count("q", "a").low == 3
    assert subprocess.run([*kam, "--check"], capture_output=True, cwd=tmp_path).returncode == 0
    ranges.write_text(ranges.read_text(encoding="utf-8").replace("high: 5", "high: 4", 1), encoding="utf-8")
    changed = subprocess.run([*kam, "--check"], capture_output=True, text=True, cwd=tmp_path)
    assert changed.returncode == 1 and "differs" in changed.stderr


def test_the_data_readme_tables_are_those_of_the_stored_ranges(stored):
    readme = (RANGES.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- ranges: begin -->\n", 1)[1].split("<!-- ranges: end -->", 1)[0]
    assert block == feasible.ranges_markdown(stored)
