"""The register of published editions (`data/editions.yml`): one per survey wave.

The last edition listed is the current one: `make book` computes it, the site
root serves it, and older editions stay at `editions/<wave>/` with a banner.
"""

from __future__ import annotations

import json
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


def edition_of(editions: list[Edition], wave: str) -> Edition:
    for edition in editions:
        if edition.wave == str(wave):
            return edition
    raise KeyError(f"{EDITIONS_FILE} has no edition {wave!r}; editions: {', '.join(e.wave for e in editions)}")


def editions_up_to(editions: list[Edition], wave: str) -> list[Edition]:
    """The editions published up to and including `wave`'s (what an edition can list of its own time)."""
    waves = [e.wave for e in editions]
    return editions[: waves.index(str(wave)) + 1] if str(wave) in waves else list(editions)


def edition_title(wave: str, fieldwork: str) -> str:
    """'2022 survey (July–September 2022)': how the register names an edition."""
    return f"{wave} survey ({fieldwork})"


def edition_entry(edition: Edition) -> str:
    """The YAML lines of one edition in the register's own layout."""
    compare = f'"{edition.compare_with}"' if edition.compare_with else "null"
    title = json.dumps(edition.title, ensure_ascii=False)  # a JSON string is a valid YAML scalar
    return f'  - wave: "{edition.wave}"\n    title: {title}\n    compare_with: {compare}\n'


def register_text(text: str, edition: Edition) -> str:
    """The register's text with `edition` appended last (its comments and layout kept)."""
    existing = editions_from_mapping(yaml.safe_load(text))
    if any(e.wave == edition.wave for e in existing):
        raise ValueError(f"{EDITIONS_FILE}: edition {edition.wave!r} is already registered")
    updated = text if text.endswith("\n") else text + "\n"
    updated += edition_entry(edition)
    if editions_from_mapping(yaml.safe_load(updated))[-1] != edition:  # the layout assumption held
        raise ValueError(f"{EDITIONS_FILE}: could not append edition {edition.wave!r} to its list")
    return updated
