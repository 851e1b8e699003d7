#!/usr/bin/env python3
"""Validate a survey wave directory (wave.yml + responses.csv) against the codebook.

    python scripts/validate_wave.py data/waves/2023
    python scripts/validate_wave.py data/waves/2023 --codebook data/codebook.yml

Prints "OK: <file> — N respondents, M columns" and exits 0 when the wave is valid;
otherwise prints every problem (file, line, respondent, column, value, expected)
and exits 1. Usage errors (no such directory, unreadable codebook) exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def _import_package():
    try:
        import kamsurvey  # noqa: F401
    except ImportError:  # run from a checkout without `pip install -e .`
        sys.path.insert(0, str(REPO_ROOT))


def default_codebook(wave_dir: Path) -> Path:
    """data/waves/<wave> sits next to data/codebook.yml; fall back to this repository's codebook."""
    beside = wave_dir.resolve().parent.parent / "codebook.yml"
    return beside if beside.is_file() else REPO_ROOT / "data" / "codebook.yml"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="validate_wave.py",
        description="Check a survey wave's wave.yml and responses.csv against the codebook and report every problem.",
        epilog="Exit status: 0 valid, 1 the wave has problems, 2 usage error.",
    )
    parser.add_argument("wave_dir", type=Path, help="the wave's directory, e.g. data/waves/2022")
    parser.add_argument(
        "--codebook",
        type=Path,
        default=None,
        help="codebook YAML (default: codebook.yml two levels above the wave directory, else data/codebook.yml)",
    )
    parser.add_argument("--max-shown", type=int, default=None, help="print at most this many problems (default: all)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _import_package()
    from kamsurvey.codebook import CodebookError, load_codebook
    from kamsurvey.validate import RESPONSES_FILE, WaveValidationError, read_wave

    wave_dir: Path = args.wave_dir
    if not wave_dir.is_dir():
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {wave_dir} is not a directory (expected e.g. data/waves/2022)", file=sys.stderr)
        return 2
    codebook_path = args.codebook or default_codebook(wave_dir)
    try:
        codebook = load_codebook(codebook_path)
    except CodebookError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2

    try:
        _, frame = read_wave(wave_dir, codebook)
    except WaveValidationError as error:
        print(error.render(limit=args.max_shown if args.max_shown is not None else len(error.problems)))
        return 1
    print(f"OK: {wave_dir / RESPONSES_FILE} — {len(frame):,} respondents, {frame.shape[1]} columns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
