"""The register of published editions (`data/editions.yml`): one per survey wave.

The last edition listed is the current one: `make book` computes it, the site
root serves it, and older editions stay at `editions/<wave>/` with a banner.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

EDITIONS_FILE = "editions.yml"


@dataclass(frozen=True)
class Edition:
    wave: str
    title: str
    compare_with: str | None = None


def editions_from_mapping(raw: dict) -> list[Edition]:
    editions = [
        Edition(wave=str(e["wave"]), title=str(e.get("title", f"{e['wave']} edition")),
                compare_with=str(e["compare_with"]) if e.get("compare_with") else None)
        for e in (raw or {}).get("editions", [])
    ]
    if not editions:
        raise ValueError(f"{EDITIONS_FILE} lists no editions")
    waves = [e.wave for e in editions]
    if len(set(waves)) != len(waves):
        raise ValueError(f"{EDITIONS_FILE}: an edition is listed twice: {waves}")
    return editions


def load_editions(data_dir: str | Path) -> list[Edition]:
    path = Path(data_dir) / EDITIONS_FILE
    return editions_from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")))


def current_edition(editions: list[Edition]) -> Edition:
    return editions[-1]
