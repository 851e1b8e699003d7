"""`kam reconstruct`: the 2022 respondents rebuilt from the article, and the range each number of them could take.

It writes two files beside the wave, each reproducible byte for byte:

- `responses.csv`, the reconstruction (kamsurvey.data.reconstruction): one dataset that satisfies every
  statement of the article, with counts the reconstruction chose;
- `ranges.yml` (kamsurvey.analysis.feasible): for every quantity the book shows, its smallest and largest value
  over all data that satisfy the article's statements and the codebook, and whether it is published (the
  article fixes it, up to its own rounding) or reconstructed (the reconstruction's choice within a range).

Usage
-----
    kam reconstruct                      # write data/waves/2022/responses.csv and ranges.yml
    kam reconstruct --check              # regenerate both to a temporary folder, compare bytes (exit 1 if different)
    kam reconstruct --only ranges        # one of the two files (responses or ranges)
    kam reconstruct --counts             # markdown count tables of responses.csv (for its README)

The solve times are printed, not stored: the files stay the same bytes on every run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from kamsurvey.analysis import feasible
from kamsurvey.data.codebook import load_codebook
from kamsurvey.data.importer import write_responses
from kamsurvey.data.reconstruction import CODEBOOK, OUT, counts_markdown, reconstruct

WAVE = "2022"
PARTS = ("responses", "ranges")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--codebook", type=Path, default=CODEBOOK, help=f"the codebook (default: {CODEBOOK})")
    parser.add_argument("--out", type=Path, default=OUT, help=f"where to write the CSV (default: {OUT})")
    parser.add_argument("--claims", type=Path, default=None,
                        help=f"the claims ledger (default: claims/{WAVE}.yml in the codebook's folder)")
    parser.add_argument("--ranges", type=Path, default=None,
                        help=f"where to write the ranges (default: {feasible.RANGES_FILE} beside --out)")
    parser.add_argument("--only", choices=PARTS, default=None, help="write or check only one of the two files")
    parser.add_argument("--check", action="store_true",
                        help="regenerate to a temporary folder and compare bytes with the files; exit 1 if they differ")
    parser.add_argument("--counts", action="store_true",
                        help=f"print markdown tables of the counts in --out (for data/waves/{WAVE}/README.md) and exit")


def command(args: argparse.Namespace) -> int:
    codebook = load_codebook(args.codebook)
    if args.counts:
        print(counts_markdown(pd.read_csv(args.out, dtype=str, keep_default_na=False), codebook), end="")
        return 0
    claims_path = args.claims or args.codebook.parent / "claims" / f"{WAVE}.yml"
    ranges_path = args.ranges or args.out.parent / feasible.RANGES_FILE
    targets = {"responses": args.out, "ranges": ranges_path}
    parts = [args.only] if args.only else list(PARTS)
    with tempfile.TemporaryDirectory() as tmp:
        status = 0
        for part in parts:
            fresh = Path(tmp) / targets[part].name if args.check else targets[part]
            summary = _write(part, fresh, codebook, args.codebook, claims_path)
            if not args.check:
                print(f"wrote {fresh} ({summary})")
            elif not targets[part].exists() or targets[part].read_bytes() != fresh.read_bytes():
                print(f"{targets[part]}: differs from a fresh run (or is missing); run `kam reconstruct` ({summary})",
                      file=sys.stderr)
                status = 1
            else:
                print(f"{targets[part]}: identical to a fresh run ({summary})")
    return status


def _write(part: str, path: Path, codebook, codebook_path: Path, claims_path: Path) -> str:
    """Write one of the two files; a line saying what it took."""
    started = time.perf_counter()
    if part == "responses":
        frame = reconstruct(codebook)
        write_responses(frame, path)
        return f"{len(frame)} respondents, {time.perf_counter() - started:.1f} s"
    report, n = feasible.compute_wave_ranges(codebook_path, claims_path, WAVE)
    feasible.write_ranges(report, path, WAVE, n)
    published = sum(r.published for r in report.ranges)
    return (f"{len(report.ranges)} quantities, {published} published, {len(report.ranges) - published} reconstructed; "
            f"{report.programs} integer programs in {report.blocks} blocks, {report.seconds:.1f} s in the solver "
            f"({1000 * report.seconds / max(report.programs, 1):.0f} ms each), {time.perf_counter() - started:.1f} s in all")
