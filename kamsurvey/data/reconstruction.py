"""Reconstruct respondent-level answers for the 2022 wave from the article's published figures.

The original 2022 response file is not available; the article ("Rewarding KAM
performance: survey findings", AKAM) quotes aggregate figures only. This script
builds 112 plausible respondents whose answers reproduce every one of those
figures exactly, so that the book's code can run on respondent-level data and
be re-run unchanged when the original file (or a later wave) arrives.

Method
------
1. Target counts. ``TARGETS`` below fixes, for every option of every question,
   how many respondents choose it (per sector where the article reports a
   pharma / non-pharma figure). The counts were chosen to satisfy every claim in
   ``data/claims/2022.yml``; they are documented in ``data/waves/2022/README.md``.
   The sector split (62 pharma / 50 other) is itself chosen: the article only
   says pharma is strongly represented.
2. Respondents' sectors are assigned by a seeded permutation, so that rows are
   not sorted by sector.
3. How many options each respondent ticks at a multi-select question (0 meaning
   the exclusive "none") is drawn in advance from a seeded distribution whose
   total is exactly the required number of ticks, so that the spread of answers
   per respondent looks like a real survey rather than everyone ticking the same
   number.
4. An integer program (``scipy.optimize.milp``, HiGHS) then chooses every answer
   (one binary variable per respondent x option) subject to:
     - the exact target counts (overall and per sector); where the article
       reports no sector difference, pharma's count is its proportional share of
       the total, rounded down or up (the article: "major differences from the
       rest will be noted", so the reconstruction invents none);
     - one answer per single-choice question; the per-respondent numbers of
       ticks from step 3; exclusive options ticked alone;
     - skip logic: bonus_size is answered if and only if rewarded_with__bonus_cash;
     - most_important is one of the options the respondent ticked at
       assessment_basis (the codebook's ``answer_among``);
     - reward_basis == not_rewarded  <=>  rewarded_with__nothing (so nobody who
       is not specially rewarded has a cash bonus: the codebook's rule);
     - an exact number of respondents (``TARGETS_MIX``) with at least one
       quantitative and one qualitative target ("most have a mix").
   Its objective is to maximise a sum of seeded pseudo-random scores
   (``numpy.random.default_rng(SEED)``), so that which respondent gives which
   answer looks unstructured. Two latent traits per respondent, a "sales
   orientation" and a "discontent", are added to the scores of related options to
   give mild, coherent associations: e.g. people rewarded on sales tend to say
   sales dominates their assessment and that the approach overemphasises sales;
   people who disagree that the approach reflects their job tend to report more
   downsides. These associations are invented for plausibility: joint
   distributions between questions in the reconstructed file are not findings.
5. The program is solved to proven optimality (``mip_rel_gap = 0``). With
   continuous random scores the optimum is unique, so the output does not depend
   on the solver's path: the same bytes are written on every run.

Usage: `kam reconstruct` (kamsurvey/build/reconstruct.py) writes the file, with the ranges every
quantity could take on any data that fits the article (kamsurvey/analysis/feasible.py), and
`kam reconstruct --check` regenerates both and compares bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from kamsurvey.data.codebook import Codebook

CODEBOOK = Path("data") / "codebook.yml"
OUT = Path("data") / "waves" / "2022" / "responses.csv"

SEED = 20220930  # last day of fieldwork
N = 112
SECTORS = {"pharma": 62, "other": 50}  # chosen: the article gives no split

# Target counts: option -> respondents choosing it. A dict keyed by sector means
# the count is fixed within each sector; a plain integer fixes the total only.
TARGETS: dict[str, dict[str, int | dict[str, int]]] = {
    "reflects_job": {
        "strongly_agree": 12, "agree": 44, "neutral": 19, "disagree": 27, "strongly_disagree": 10,
    },
    "targets_set": {
        "individual_quantitative": 72, "individual_qualitative": 62, "team_quantitative": 58,
        "team_qualitative": 44, "account_plan": 56, "personal_development": 50, "none": 4,
    },
    "assessment_basis": {
        "sales": 90, "customer_profitability": 41, "company_performance": 30,
        "relationship_development": 52, "customer_feedback": 28, "behaviour": 40,
        "quality_of_plan": 30, "specific_activities": 38, "personal_development": 22,
        "team_contribution": 15, "other": 6,
    },
    "most_important": {
        "sales": 66, "customer_profitability": 18, "company_performance": 0,
        "relationship_development": 8, "customer_feedback": 4, "behaviour": 5,
        "quality_of_plan": 3, "specific_activities": 4, "personal_development": 2,
        "team_contribution": 1, "other": 1,
    },
    "should_include": {
        "sales": 30, "customer_profitability": 24, "company_performance": 12,
        "relationship_development": 81, "customer_feedback": 58, "behaviour": 58,
        "quality_of_plan": 54, "specific_activities": 49, "personal_development": 40,
        "team_contribution": 36, "other": 6,
    },
    "reward_basis": {
        "sales": {"pharma": 41, "other": 34},
        "customer_profitability": {"pharma": 6, "other": 3},
        "company_performance": {"pharma": 5, "other": 2},
        "personal_objectives": {"pharma": 3, "other": 1},
        "balanced_scorecard": {"pharma": 5, "other": 2},
        "not_rewarded": {"pharma": 0, "other": 7},
        "other": {"pharma": 2, "other": 1},
    },
    "rewarded_with": {
        "bonus_cash": {"pharma": 47, "other": 35},
        "salary_increase": 13, "recognition": 30, "shares": 6, "other": 4,
        "nothing": {"pharma": 0, "other": 7},
    },
    "bonus_size": {
        "under_10": {"pharma": 13, "other": 8},
        "10_to_20": {"pharma": 18, "other": 10},
        "20_to_40": {"pharma": 12, "other": 10},
        "40_plus": {"pharma": 1, "other": 4},
        "varies": {"pharma": 3, "other": 3},
    },
    "downsides": {
        "overemphasises_sales": 48, "ignores_inputs": 40, "ignores_customer_view": 20,
        "mixed_messages": 17, "outside_control": 8, "discourages_teamwork": 4, "other": 3, "none": 15,
    },
}
# Respondents with at least one quantitative and at least one qualitative target.
TARGETS_MIX = 78
# Range of substantive ticks per respondent at each multi question (exclusive
# 'none' respondents tick zero and are counted by TARGETS).
TICKS_RANGE = {
    "targets_set": (1, 6),
    "assessment_basis": (1, 7),
    "should_include": (1, 8),
    "downsides": (1, 4),
}
REWARDED_WITH_MAX = 3

NOISE = 1.0  # weight of each answer's own random score
TRAIT = 0.8  # weight of the latent traits that make related answers go together


def _draw_ticks(rng: np.random.Generator, score: np.ndarray, zeros: int, total: int, low: int, high: int) -> np.ndarray:
    """Ticks per respondent: `zeros` respondents tick none, the rest between low and high, summing to total.

    Degrees are drawn from a clipped normal around the required mean and adjusted
    one at a time (at random) to the exact total; higher `score` (a trait plus
    noise) then gets more ticks, so the count of ticks is associated with the trait.
    """
    n = len(score)
    answering = n - zeros
    mean = total / answering
    draws = np.clip(np.rint(rng.normal(mean, 0.45 * mean + 0.3, size=answering)), low, high).astype(int)
    while draws.sum() != total:
        i = rng.integers(answering)
        if draws.sum() > total and draws[i] > low:
            draws[i] -= 1
        elif draws.sum() < total and draws[i] < high:
            draws[i] += 1
    degrees = np.concatenate([np.sort(draws)[::-1], np.zeros(zeros, dtype=int)])
    order = np.argsort(-score, kind="stable")
    ticks = np.empty(n, dtype=int)
    ticks[order] = degrees
    return ticks


class Program:
    """Sparse builder for an integer program: named variables (binary unless told) and linear constraints.

    `kamsurvey.analysis.feasible` builds its programs with it too, with integer counts as variables.
    """

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.cost: list[float] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[int] = []

    def var(self, key: tuple, score: float = 0.0, *, low: float = 0, high: float = 1, integer: bool = True) -> int:
        self.index[key] = len(self.cost)
        self.cost.append(score)
        self.lower.append(low)
        self.upper.append(high)
        self.integer.append(int(integer))
        return self.index[key]

    def add(self, terms: dict[tuple, float], low: float, high: float) -> None:
        row: dict[int, float] = {}
        for key, coef in terms.items():
            j = self.index[key]
            row[j] = row.get(j, 0.0) + coef
        self.rows.append((row, low, high))

    def constraints(self) -> LinearConstraint:
        data, ii, jj, lows, highs = [], [], [], [], []
        for i, (row, low, high) in enumerate(self.rows):
            for j, coef in row.items():
                ii.append(i)
                jj.append(j)
                data.append(coef)
            lows.append(low)
            highs.append(high)
        matrix = coo_array((data, (ii, jj)), shape=(len(self.rows), len(self.cost))).tocsr()
        return LinearConstraint(matrix, np.asarray(lows, dtype=float), np.asarray(highs, dtype=float))

    def solve(self) -> np.ndarray:
        result = milp(
            c=-np.asarray(self.cost),  # milp minimises; we maximise the scores
            constraints=self.constraints(),
            integrality=np.asarray(self.integer),
            bounds=Bounds(np.asarray(self.lower, dtype=float), np.asarray(self.upper, dtype=float)),
            options={"mip_rel_gap": 0.0, "presolve": True},
        )
        if result.status != 0 or result.x is None:
            raise RuntimeError(f"the integer program has no solution: {result.message}")
        return np.rint(result.x).astype(int)


def reconstruct(codebook: Codebook) -> pd.DataFrame:
    """The 112 reconstructed respondents as a frame with the columns of Codebook.columns()."""
    rng = np.random.default_rng(SEED)
    sector = np.array(["pharma"] * SECTORS["pharma"] + ["other"] * SECTORS["other"])[rng.permutation(N)]

    # Latent traits: sales orientation and discontent (mildly correlated).
    sales = rng.normal(size=N)
    discontent = 0.4 * sales + np.sqrt(1 - 0.4**2) * rng.normal(size=N)

    # Ticks per respondent, drawn within each sector so that each sector's total
    # is its proportional share (the article reports no sector difference here).
    tick_scores = {
        "targets_set": rng.normal(size=N),
        "assessment_basis": rng.normal(size=N),
        "should_include": discontent + rng.normal(size=N),
        "downsides": discontent + 0.7 * rng.normal(size=N),
    }
    ticks: dict[str, np.ndarray] = {}
    for question_id, score in tick_scores.items():
        question = codebook[question_id]
        zeros = sum(int(TARGETS[question_id][c]) for c in question.exclusive_codes())
        total = _substantive_total(question_id, codebook)
        ticks[question_id] = np.zeros(N, dtype=int)
        for sec in SECTORS:
            members = np.flatnonzero(sector == sec)
            if sec == "pharma":
                sec_zeros, sec_total = _pharma_share(zeros), _pharma_share(total)
            else:
                sec_zeros, sec_total = zeros - _pharma_share(zeros), total - _pharma_share(total)
            ticks[question_id][members] = _draw_ticks(rng, score[members], sec_zeros, sec_total, *TICKS_RANGE[question_id])

    def association(question_id: str, code: str, r: int) -> float:
        """Trait loading of one answer: small, coherent nudges (the data is not evidence of them)."""
        s, d = sales[r], discontent[r]
        if question_id == "reflects_job":
            return -d * (codebook[question_id].option(code).score - 3) * 0.6
        if question_id in ("assessment_basis", "most_important") and code in ("sales", "customer_profitability"):
            return s
        if question_id == "reward_basis":
            return {"sales": 1.5 * s, "not_rewarded": -s, "balanced_scorecard": -0.5 * s}.get(code, 0.0)
        if question_id == "rewarded_with":
            return {"bonus_cash": s, "recognition": -0.5 * s}.get(code, 0.0)
        if question_id == "bonus_size":
            return {"under_10": -0.5 * s, "20_to_40": 0.5 * s, "40_plus": s}.get(code, 0.0)
        if question_id == "targets_set" and code in ("individual_quantitative", "team_quantitative"):
            return 0.5 * s
        if question_id == "should_include" and codebook[question_id].option(code).group == "financial":
            return -0.5 * d
        if question_id == "downsides":
            return {"overemphasises_sales": s + d, "ignores_inputs": d, "ignores_customer_view": 0.5 * d,
                    "mixed_messages": 0.5 * d}.get(code, 0.0)
        return 0.0

    program = Program()
    questions = [q for q in codebook if q.id != "sector"]
    for r in range(N):
        for question in questions:
            for code in question.codes():
                score = NOISE * rng.normal() + TRAIT * association(question.id, code, r)
                program.var((r, question.id, code), score)
        for aux in ("quant", "qual", "mix"):
            program.var((r, "targets_set", aux))

    # Exact counts, overall or per sector. Where the article reports no sector
    # difference, the pharma count is the proportional share of the total (rounded
    # either way): the article says "major differences from the rest will be noted",
    # so the reconstruction invents none.
    pharma = [r for r in range(N) if sector[r] == "pharma"]
    for question in questions:
        for code, target in TARGETS[question.id].items():
            question.option(code)  # fails loudly on a code the codebook does not know
            if isinstance(target, dict):
                for sec, count in target.items():
                    members = [r for r in range(N) if sector[r] == sec]
                    program.add({(r, question.id, code): 1 for r in members}, count, count)
            else:
                program.add({(r, question.id, code): 1 for r in range(N)}, target, target)
                low, high = _proportional(target)
                program.add({(r, question.id, code): 1 for r in pharma}, low, high)

    for r in range(N):
        for question in questions:
            codes = question.codes()
            if question.type in ("single", "likert"):
                if question.asked_of is None:
                    program.add({(r, question.id, c): 1 for c in codes}, 1, 1)
                else:  # answered if and only if asked
                    cond = question.asked_of
                    terms = {(r, question.id, c): 1 for c in codes}
                    terms[(r, cond.question, cond.option)] = -1
                    program.add(terms, 0, 0)
                if question.answer_among:
                    for c in codes:
                        program.add({(r, question.id, c): 1, (r, question.answer_among, c): -1}, -1, 0)
                continue
            substantive = question.substantive_codes()
            for exclusive in question.exclusive_codes():
                for c in substantive:  # exclusive options alone
                    program.add({(r, question.id, exclusive): 1, (r, question.id, c): 1}, 0, 1)
            if question.id in ticks:
                k = int(ticks[question.id][r])
                program.add({(r, question.id, c): 1 for c in substantive}, k, k)
                for exclusive in question.exclusive_codes():
                    program.add({(r, question.id, exclusive): 1}, int(k == 0), int(k == 0))
            else:  # rewarded_with: at least one answer, at most REWARDED_WITH_MAX
                terms = {(r, question.id, c): 1 for c in question.codes()}
                program.add(terms, 1, REWARDED_WITH_MAX)

        # Not specially rewarded <=> rewarded with nothing (hence no cash bonus).
        program.add({(r, "reward_basis", "not_rewarded"): 1, (r, "rewarded_with", "nothing"): -1}, 0, 0)

        # Mix of quantitative and qualitative targets: quant/qual = "any ticked", mix = both.
        target_q = codebook["targets_set"]
        for aux, group in (("quant", "quantitative"), ("qual", "qualitative")):
            group_codes = target_q.codes_in_group(group)
            program.add({(r, "targets_set", aux): 1, **{(r, "targets_set", c): -1 for c in group_codes}}, -np.inf, 0)
            for c in group_codes:
                program.add({(r, "targets_set", aux): 1, (r, "targets_set", c): -1}, 0, 1)
        program.add({(r, "targets_set", "mix"): 1, (r, "targets_set", "quant"): -1}, -np.inf, 0)
        program.add({(r, "targets_set", "mix"): 1, (r, "targets_set", "qual"): -1}, -np.inf, 0)
        program.add({(r, "targets_set", "mix"): 1, (r, "targets_set", "quant"): -1, (r, "targets_set", "qual"): -1}, -1, np.inf)
    program.add({(r, "targets_set", "mix"): 1 for r in range(N)}, TARGETS_MIX, TARGETS_MIX)
    program.add({(r, "targets_set", "mix"): 1 for r in pharma}, *_proportional(TARGETS_MIX))

    x = program.solve()

    def value(r: int, question_id: str, code: str) -> int:
        return int(x[program.index[(r, question_id, code)]])

    records = []
    for r in range(N):
        row: dict[str, str] = {"respondent_id": f"R{r + 1:03d}"}
        for question in codebook:
            if question.id == "sector":
                row[question.id] = str(sector[r])
            elif question.is_multi:
                for code in question.codes():
                    row[question.column(code)] = str(value(r, question.id, code))
            else:
                chosen = [c for c in question.codes() if value(r, question.id, c)]
                row[question.id] = chosen[0] if chosen else ""
        records.append(row)
    return pd.DataFrame.from_records(records, columns=codebook.columns())


def _pharma_share(total: int) -> int:
    """Pharma's proportional share of a total, rounded to the nearest whole respondent."""
    return int(np.floor(total * SECTORS["pharma"] / N + 0.5))


def _proportional(total: int) -> tuple[int, int]:
    """Pharma's proportional share of a total, rounded down and up."""
    exact = total * SECTORS["pharma"] / N
    return int(np.floor(exact)), int(np.ceil(exact))


def _substantive_total(question_id: str, codebook: Codebook) -> int:
    targets = TARGETS[question_id]
    return sum(int(targets[c]) for c in codebook[question_id].substantive_codes())


def counts_markdown(frame: pd.DataFrame, codebook: Codebook) -> str:
    """Markdown tables of respondents per option, overall and by sector (for the data README).

    Options the article does not name (``reconstructed: true``) are in italics.
    """
    sectors = list(SECTORS)
    blocks = []
    for question in codebook:
        if question.id == "sector":
            continue
        asked = question.asked_of
        title = question.id if asked is None else f"{question.id} (asked if {asked.question} = {asked.option})"
        lines = [f"| {title} | all | " + " | ".join(sectors) + " |", "|---|---:|" + "---:|" * len(sectors)]
        for option in question.options:
            column = question.column(option.code) if question.is_multi else question.id
            chosen = frame[column].astype(str).eq("1" if question.is_multi else option.code)
            by_sector = [int((chosen & frame["sector"].eq(sec)).sum()) for sec in sectors]
            name = f"*{option.code}*" if option.reconstructed else option.code
            lines.append(f"| {name} | {int(chosen.sum())} | " + " | ".join(map(str, by_sector)) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
