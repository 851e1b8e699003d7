"""The register of published editions (`data/editions.yml`): one per survey wave.

The last edition listed is the current one: `make book` computes it, the site
root serves it, and older editions stay at `editions/<wave>/` with a banner.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, model_validator

from kamsurvey.data import yamlfile
from kamsurvey.data.yamlfile import Id, Invalid, Schema, Text, raise_all

EDITIONS_FILE = "editions.yml"
REGISTER = "data/editions.yml"  # how messages name the register when only its text is at hand


@dataclass(frozen=True)
class Edition:
    wave: str
    title: str
    compare_with: str | None = None


class EditionsError(ValueError):
    """The register is malformed (or an edition cannot be added to it); names the file and the line."""


class _EditionEntry(Schema):
    wave: Id = Field(description="the wave's id, the name of its folder under data/waves/ (e.g. '2022')")
    title: Text | None = Field(None, description="the edition's title, as text")
    compare_with: Id | None = Field(None, description="null, or the wave of an earlier edition to compare with")


class _Register(Schema):
    editions: Annotated[list[_EditionEntry], Field(min_length=1)] = Field(description="a list of editions, oldest first")

    @model_validator(mode="after")
    def _each_wave_once_compared_with_an_earlier_one(self) -> _Register:
        found, earlier = [], {}
        for position, entry in enumerate(self.editions):
            if entry.wave in earlier:
                found.append(Invalid("an edition is listed twice", key=("editions", position, "wave"),
                                     expected=f"a wave no other edition has (editions[{earlier[entry.wave]}] has it)"))
            if entry.compare_with is not None and entry.compare_with not in earlier:
                found.append(Invalid("not an earlier edition", key=("editions", position, "compare_with"),
                                     expected="null, or one of the waves listed before it: " + (", ".join(earlier) or "none")))
            earlier.setdefault(entry.wave, position)
        raise_all(found)
        return self


def _editions(document: yamlfile.Document) -> list[Edition]:
    checked = yamlfile.checked(_Register, document, EditionsError)
    return [Edition(wave=e.wave, title=e.title if e.title is not None else f"{e.wave} edition", compare_with=e.compare_with)
            for e in checked.editions]


def _parse(text: str, file: str) -> yamlfile.Document:
    try:
        return yamlfile.parse(text, file, expected="the editions register, a YAML mapping with a list of editions")
    except yamlfile.UnreadableFile as unreadable:
        raise EditionsError(str(unreadable)) from None


def editions_from_mapping(raw: Any, *, file: str = REGISTER) -> list[Edition]:
    """The editions of a parsed register; EditionsError naming every problem and its key."""
    return _editions(yamlfile.from_data(raw, file))


def load_editions(data_dir: str | Path) -> list[Edition]:
    """The editions in `data_dir`/editions.yml; EditionsError naming the file, the line and the key of a problem."""
    path = Path(data_dir) / EDITIONS_FILE
    try:
        document = yamlfile.read(path, expected="the editions register, a YAML mapping with a list of editions")
    except yamlfile.UnreadableFile as unreadable:
        raise EditionsError(str(unreadable)) from None
    return _editions(document)


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


def register_text(text: str, edition: Edition, *, file: str = REGISTER) -> str:
    """The register's text with `edition` appended last (its comments and layout kept)."""
    document = _parse(text, file)
    existing = _editions(document)
    for position, earlier in enumerate(existing):
        if earlier.wave == edition.wave:
            line = document.line(("editions", position))
            raise EditionsError(f"{file}, line {line}: edition {edition.wave!r} is already registered")
    updated = text if text.endswith("\n") else text + "\n"
    updated += edition_entry(edition)
    if _editions(_parse(updated, file))[-1] != edition:  # the layout assumption held
        raise EditionsError(f"{file}: could not append edition {edition.wave!r} to its list")
    return updated
