"""Generate a synthetic survey wave from the codebook: seeded, valid, any size.

For tests and benchmarks only: the answers are random, drawn so that every rule of
the codebook holds (skip logic, exclusive options alone, a single answer among the
options ticked at another question, cross-question rules, no respondent without an
answer), so the file passes `kamsurvey.data.validate` whatever the seed and size. Each seed
draws its own distributions (option shares, the sector mix, how the sectors differ),
so two seeds give visibly different waves; the distributions come from the seed alone
(a random stream of their own), so one seed at any n samples the same population and
only the sampling noise changes with n. Generation is vectorised with numpy: a
million respondents take a few seconds.

    kam synth --n 150 --seed 7 --wave 2023 --out /tmp/2023.csv
    kam synth --n 1000000 --out /tmp/big/responses.csv
    kam synth --n 200 --format labels-joined --out /tmp/export.xlsx
    kam synth --n 80 --omit bonus_size --pharma-share 0 --wave-dir /tmp/data/waves/2023

From Python (the benchmarks do this):

    from kamsurvey.data.synth import generate
    frame = generate(codebook, n=1_000_000, seed=1, wave="2023")
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kamsurvey.data.codebook import Codebook, Question, load_codebook

SECTOR = "sector"
EMPTY = -1
FORMATS = ("codes", "labels-columns", "labels-joined")


class _Answers:
    """One question's answers: single -> option index per row (EMPTY if not answered);
    multi -> a boolean tick matrix and a row mask of who answered."""

    def __init__(self, question: Question, codes: list[str], n: int):
        self.question = question
        self.codes = codes
        self.single = np.full(n, EMPTY, dtype=np.int16) if not question.is_multi else None
        self.ticks = np.zeros((n, len(codes)), dtype=bool) if question.is_multi else None
        self.answered = np.zeros(n, dtype=bool)

    def chose(self, code: str) -> np.ndarray:
        if code not in self.codes:
            return np.zeros(len(self.answered), dtype=bool)
        j = self.codes.index(code)
        if self.ticks is not None:
            return self.answered & self.ticks[:, j]
        return self.single == j

    def skip(self, mask: np.ndarray) -> None:
        self.answered &= ~mask
        if self.single is not None:
            self.single[mask] = EMPTY
        else:
            self.ticks[mask] = False


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _pick(rng: np.random.Generator, weights: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """One column index per row, drawn in proportion to `weights` among `allowed` (Gumbel-max); -1 if none."""
    gumbel = -np.log(-np.log(rng.random(allowed.shape)))
    scores = np.where(allowed, np.log(np.maximum(weights, 1e-12)) + gumbel, -np.inf)
    choice = scores.argmax(axis=1)
    return np.where(allowed.any(axis=1), choice, EMPTY)


def _fill_empty_multi(rng: np.random.Generator, answers: _Answers, weights: np.ndarray, forbidden: np.ndarray | None = None) -> None:
    """An answered multi-select row needs a tick: its exclusive option, else one drawn by weight."""
    question = answers.question
    empty = answers.answered & ~answers.ticks.any(axis=1)
    if not empty.any():
        return
    exclusive = [answers.codes.index(c) for c in question.exclusive_codes() if c in answers.codes]
    rows = np.flatnonzero(empty)
    if exclusive:
        answers.ticks[rows, exclusive[0]] = True
        return
    allowed = np.ones((len(rows), len(answers.codes)), dtype=bool)
    if forbidden is not None:
        allowed &= ~forbidden[rows]
    choice = _pick(rng, weights[rows], allowed)
    answers.ticks[rows[choice >= 0], choice[choice >= 0]] = True
    answers.answered[rows[choice < 0]] = False


def generate(codebook: Codebook, n: int, *, seed: int = 0, wave: str | None = None,
             omit: tuple[str, ...] | list[str] = (), pharma_share: float | None = None,
             skip_rate: float = 0.02) -> pd.DataFrame:
    """A valid responses frame (the data contract's columns, cells as strings) of `n` respondents."""
    if n < 1:
        raise ValueError("n must be at least 1")
    omit = tuple(omit)
    unknown = [q for q in omit if q not in codebook]
    if unknown:
        raise ValueError(f"--omit names unknown questions {unknown}; known: {', '.join(codebook.ids())}")
    for question in codebook:
        if question.id in omit:
            continue
        needs = [c for c in ((question.asked_of.question if question.asked_of else None), question.answer_among) if c]
        if any(c in omit for c in needs):
            raise ValueError(f"{question.id} depends on {', '.join(needs)}: omit it too, or keep {', '.join(needs)}")
    # two streams: the distributions (from the seed alone, whatever n) and the respondents' answers
    params = np.random.default_rng([seed, 0])
    rng = np.random.default_rng([seed, 1])
    present = [q for q in codebook if q.id not in omit]
    answers = {q.id: _Answers(q, q.codes(wave), n) for q in present}

    # sector first: every other question's shares differ between sectors
    sector_question = codebook[SECTOR] if SECTOR in codebook else None
    k_sector = len(sector_question.codes(wave)) if sector_question else 1
    if sector_question is not None and pharma_share is not None and "pharma" in sector_question.codes(wave):
        probs = np.full(k_sector, (1 - pharma_share) / max(k_sector - 1, 1))
        probs[sector_question.codes(wave).index("pharma")] = pharma_share
    else:
        probs = params.dirichlet(np.full(k_sector, 2.0))
    group = rng.choice(k_sector, size=n, p=probs / probs.sum())
    weights: dict[str, np.ndarray] = {}

    for question in present:
        a = answers[question.id]
        k = len(a.codes)
        a.answered[:] = True
        if question.id == SECTOR:
            a.single[:] = group
            weights[question.id] = np.tile(probs, (n, 1))
            continue
        if question.is_multi:
            exclusive = np.array([question.option(c).exclusive for c in a.codes], dtype=bool)
            base = _logit(params.beta(1.3, 2.6, size=k))
            by_group = 1 / (1 + np.exp(-(base + params.normal(0, 0.6, size=(k_sector, k)))))
            p = by_group[group]  # (n, k): each respondent's chance of ticking each option
            a.ticks = (rng.random((n, k)) < p) & ~exclusive
            if exclusive.any():
                alone_rate = params.uniform(0.01, 0.08)
                alone = rng.random(n) < alone_rate
                a.ticks[alone] = False
                a.ticks[alone, np.flatnonzero(exclusive)[0]] = True
            weights[question.id] = p
            _fill_empty_multi(rng, a, p)
        else:
            dirichlet = params.dirichlet(np.full(k, 1.2))
            by_group = np.array([params.dirichlet(dirichlet * 30 + 0.05) for _ in range(k_sector)])
            p = by_group[group]
            a.single[:] = _pick(rng, p, np.ones((n, k), dtype=bool))
            weights[question.id] = p

    # item non-response (sector is always answered: it anchors every row)
    for question in present:
        if question.id != SECTOR and skip_rate > 0:
            answers[question.id].skip(rng.random(n) < skip_rate)

    # cross-question rules: the forbidden answer is replaced
    for rule in codebook.rules:
        if rule.if_.question not in answers or rule.forbids.question not in answers:
            continue
        a = answers[rule.forbids.question]
        if rule.forbids.option not in a.codes:
            continue
        clash = answers[rule.if_.question].chose(rule.if_.option) & a.chose(rule.forbids.option)
        j = a.codes.index(rule.forbids.option)
        forbidden = np.zeros((n, len(a.codes)), dtype=bool)
        forbidden[clash, j] = True
        if a.ticks is not None:
            a.ticks[clash, j] = False
            _fill_empty_multi(rng, a, weights[a.question.id], forbidden)
        else:
            rows = np.flatnonzero(clash)
            a.single[rows] = _pick(rng, weights[a.question.id][rows], ~forbidden[rows])

    # a single answer among the options ticked at another question
    for question in present:
        if question.answer_among is None:
            continue
        a, among = answers[question.id], answers[question.answer_among]
        allowed = np.zeros((n, len(a.codes)), dtype=bool)
        for j, code in enumerate(a.codes):
            allowed[:, j] = among.chose(code) & a.answered
        a.single = _pick(rng, weights[question.id], allowed).astype(np.int16)
        a.answered = a.single != EMPTY

    # skip logic, in questionnaire order (so that chains of conditions cascade)
    for question in present:
        if question.asked_of is not None:
            condition = question.asked_of
            answers[question.id].skip(~answers[condition.question].chose(condition.option))

    # no respondent without an answer: if sector was omitted, answer the first free single question
    anyone = np.zeros(n, dtype=bool)
    for a in answers.values():
        anyone |= a.answered
    if not anyone.all():
        free = [q for q in present if not q.is_multi and q.asked_of is None and q.answer_among is None]
        if not free:
            raise ValueError("cannot make every respondent answer something with these questions omitted")
        a = answers[free[0].id]
        rows = ~anyone
        a.single[rows] = _pick(rng, weights[free[0].id][rows], np.ones((int(rows.sum()), len(a.codes)), dtype=bool))
        a.answered |= rows

    width = max(3, len(str(n)))
    ids = np.char.add("R", np.char.zfill(np.arange(1, n + 1).astype(str), width))
    columns: dict[str, object] = {"respondent_id": ids.astype(object)}
    for question in present:
        a = answers[question.id]
        if question.is_multi:
            for j, code in enumerate(a.codes):
                state = np.where(a.answered, np.where(a.ticks[:, j], 2, 1), 0).astype(np.int8)
                columns[question.column(code)] = pd.Categorical.from_codes(state, categories=["", "0", "1"])
        else:
            state = np.where(a.answered, a.single + 1, 0).astype(np.int16)
            columns[question.id] = pd.Categorical.from_codes(state, categories=[""] + a.codes)
    return pd.DataFrame(columns)


def write_wave(folder: Path, frame: pd.DataFrame, *, wave: str, seed: int, codebook: Codebook) -> Path:
    """A generated frame as a wave folder of the data contract: responses.csv and its wave.yml."""
    from kamsurvey.data.importer import wave_yaml, write_responses
    from kamsurvey.data.validate import RESPONSES_FILE
    from kamsurvey.data.wavemeta import WAVE_FILE

    write_responses(frame, folder / RESPONSES_FILE)
    not_asked = [q.id for q in codebook if not any(c in frame.columns for c in q.columns(None))]
    meta = wave_meta(wave, len(frame), seed=seed, not_asked=not_asked)
    (folder / WAVE_FILE).write_text(wave_yaml(meta), encoding="utf-8")
    return folder


def wave_meta(wave: str, n: int, *, seed: int, not_asked: list[str] | None = None) -> dict:
    """wave.yml of a synthetic wave: dates given (it has no timestamps), the questions it left out declared."""
    return {
        "wave": str(wave),
        "title": f"Synthetic survey {wave}",
        "fieldwork": {"start": f"{wave}-03-01" if str(wave).isdigit() else "2023-03-01",
                      "end": f"{wave}-05-31" if str(wave).isdigit() else "2023-05-31", "source": "given"},
        "population": "Synthetic respondents drawn at random from the codebook (test data, not a survey).",
        "n": n,
        "source": f"Synthetic wave generated by kam synth (seed {seed})",
        "provenance": "original",
        "provenance_note": f"Random answers generated by kam synth with seed {seed}; for tests only.",
        "published": "2024-01-15",
        **({"not_asked": list(not_asked)} if not_asked else {}),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=150, help="respondents (default 150)")
    parser.add_argument("--seed", type=int, default=0, help="random seed: same seed, same bytes (default 0)")
    parser.add_argument("--wave", default="2023", help="wave id: options with a later `since` are not offered (default 2023)")
    parser.add_argument("--omit", nargs="*", default=[], metavar="QUESTION", help="questions left out of the wave")
    parser.add_argument("--pharma-share", type=float, default=None, help="share of respondents in pharma (default: drawn)")
    parser.add_argument("--skip-rate", type=float, default=0.02, help="chance a respondent skips a question (default 0.02)")
    parser.add_argument("--format", choices=FORMATS, default="codes",
                        help="codes: the canonical responses.csv; labels-columns / labels-joined: a survey-tool export")
    parser.add_argument("--codebook", type=Path, default=Path("data") / "codebook.yml",
                        help="the codebook (default: data/codebook.yml)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="file to write (.csv; .xlsx for label exports)")
    target.add_argument("--wave-dir", type=Path, help="write responses.csv and wave.yml into this folder")


def command(args: argparse.Namespace) -> int:

    from kamsurvey.data.importer import export_labels, write_responses, write_table

    codebook = load_codebook(args.codebook)
    started = time.perf_counter()
    try:
        frame = generate(codebook, args.n, seed=args.seed, wave=args.wave, omit=args.omit,
                         pharma_share=args.pharma_share, skip_rate=args.skip_rate)
    except ValueError as error:
        print(f"kam synth: error: {error}", file=sys.stderr)
        return 2
    generated = time.perf_counter() - started
    if args.wave_dir:
        path = write_wave(args.wave_dir, frame, wave=args.wave, seed=args.seed, codebook=codebook)
    elif args.format == "codes":
        path = write_responses(frame, args.out)
    else:
        multi = "columns" if args.format == "labels-columns" else "joined"
        path = write_table(export_labels(frame, codebook, args.wave, multi=multi), args.out)
    print(f"{args.n:,} respondents (seed {args.seed}) generated in {generated:.1f} s, written to {path} "
          f"in {time.perf_counter() - started - generated:.1f} s")
    return 0
