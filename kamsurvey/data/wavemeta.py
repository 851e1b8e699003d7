"""A wave's metadata: `wave.yml`, read and checked, and `WaveMeta`, what the book knows of the wave.

wave.yml  wave, title, fieldwork {start, end, source}, population, n, source,
          provenance (original | reconstructed), provenance_note; optional published, not_asked.

`fieldwork.source` says where the dates come from: `export` (the survey tool's own timestamps:
the first and last response kept), `given` (stated by whoever published the wave), `article`
(the published article's words, e.g. "between July and September 2022": the days are not known).
Dates are never guessed. `not_asked` lists the questions of the codebook this wave's questionnaire
left out: a question missing from the data is an error unless it is declared here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import BeforeValidator, Field, StrictInt, ValidationInfo, field_validator, model_validator

from kamsurvey.data import yamlfile
from kamsurvey.data.dates import ISO_DATE, parse_date
from kamsurvey.data.problems import Problem
from kamsurvey.data.yamlfile import Id, Invalid, Schema, Text

WAVE_FILE = "wave.yml"
PROVENANCES = ("original", "reconstructed")


def _month_range(start: dt.date, end: dt.date) -> str:
    if (start.year, start.month) == (end.year, end.month):
        return f"{start:%B %Y}"
    if start.year == end.year:
        return f"{start:%B}–{end:%B %Y}"
    return f"{start:%B %Y}–{end:%B %Y}"


@dataclass(frozen=True)
class WaveMeta:
    wave: str
    title: str
    fieldwork_start: dt.date
    fieldwork_end: dt.date
    population: str
    n: int
    source: str
    provenance: str
    provenance_note: str
    published: dt.date | None = None
    fieldwork_source: str | None = None
    not_asked: tuple[str, ...] = ()

    @property
    def reconstructed(self) -> bool:
        return self.provenance == "reconstructed"

    @property
    def fieldwork(self) -> str:
        """'July–September 2022': how the article dates its fieldwork."""
        return _month_range(self.fieldwork_start, self.fieldwork_end)


def _date(value: object) -> dt.date:
    try:
        return parse_date(value)
    except ValueError:
        raise Invalid("bad date", expected=ISO_DATE) from None


IsoDate = Annotated[dt.date, BeforeValidator(_date)]


FIELDWORK_SOURCES = ("export", "given", "article")


class _Fieldwork(Schema):
    start: IsoDate = Field(description=ISO_DATE)
    end: IsoDate = Field(description=ISO_DATE)
    source: Literal[FIELDWORK_SOURCES] | None = Field(
        None, description="where the dates come from: " + ", ".join(FIELDWORK_SOURCES))

    @model_validator(mode="after")
    def _in_order(self) -> _Fieldwork:
        if self.start > self.end:
            raise Invalid("fieldwork ends before it starts", key=("end",), value=self.end.isoformat(),
                          expected=f"a date on or after fieldwork.start ({self.start.isoformat()})")
        return self


class _WaveFile(Schema):
    """wave.yml. Checked against its wave (context `wave_dir_name`, `n_rows`) when they are known."""

    wave: Id = Field(description="the wave id, the name of the wave's directory (e.g. '2022')")
    title: Text = Field(description="the survey's title, as text")
    fieldwork: _Fieldwork = Field(description="a mapping with start and end, ISO dates (YYYY-MM-DD)")
    population: Text = Field(description="who was surveyed, as text")
    n: StrictInt = Field(ge=0, description="the number of respondents, a whole number")
    source: Text = Field(description="the source line under charts, as text")
    provenance: Literal[PROVENANCES] = Field(description=" or ".join(PROVENANCES))
    provenance_note: Text = Field(description="how the data was obtained or reconstructed, as text")
    published: IsoDate | None = Field(None, description=ISO_DATE)
    not_asked: list[Id] = Field(default_factory=list, description="a list of question ids of the codebook")

    @field_validator("wave")
    @classmethod
    def _is_its_directory(cls, wave: str, info: ValidationInfo) -> str:
        name = (info.context or {}).get("wave_dir_name")
        if name is not None and wave.strip() != name:
            raise Invalid(expected=f"'{name}', the name of the wave's directory")
        return wave

    @field_validator("n")
    @classmethod
    def _counts_the_rows(cls, n: int, info: ValidationInfo) -> int:
        rows = (info.context or {}).get("n_rows")
        if rows is not None and n != rows:
            raise Invalid("n does not match the data", expected=f"{rows}, the number of respondent lines in responses.csv")
        return n


REQUIRED_META = tuple(key for key, field in _WaveFile.model_fields.items() if field.is_required())
_DESCRIBED = "a wave.yml describing the wave: a YAML mapping of keys: " + ", ".join(REQUIRED_META)


def meta_from_mapping(raw: Mapping[str, Any]) -> WaveMeta:
    """WaveMeta from a parsed wave.yml; ValueError naming every problem if it breaks the contract."""
    return _meta(yamlfile.checked(_WaveFile, yamlfile.from_data(raw, WAVE_FILE), ValueError))


def _meta(checked: _WaveFile) -> WaveMeta:
    return WaveMeta(
        wave=checked.wave,
        title=checked.title,
        fieldwork_start=checked.fieldwork.start,
        fieldwork_end=checked.fieldwork.end,
        population=checked.population.strip(),
        n=checked.n,
        source=checked.source.strip(),
        provenance=checked.provenance,
        provenance_note=" ".join(checked.provenance_note.split()),
        published=checked.published,
        fieldwork_source=checked.fieldwork.source,
        not_asked=tuple(checked.not_asked),
    )


def check_meta(
    raw_meta: Any,
    *,
    file: str,
    wave_dir_name: str,
    n_rows: int | None,
    key_lines: Mapping[yamlfile.KeyPath, int] | None = None,
) -> list[Problem]:
    """Every problem with a parsed wave.yml, in line order; no I/O. `key_lines`: the line of each key path."""
    document = yamlfile.Document(str(file), raw_meta, dict(key_lines or {}))
    _, problems = yamlfile.validate(_WaveFile, document, {"wave_dir_name": wave_dir_name, "n_rows": n_rows})
    return problems


def read_meta_file(path: Path) -> tuple[Any, list[Problem], Mapping[yamlfile.KeyPath, int]]:
    """(parsed wave.yml, problems reading it, line of each key path); the data is None if it cannot be read."""
    try:
        document = yamlfile.read(path, expected=_DESCRIBED)
    except yamlfile.UnreadableFile as unreadable:
        return None, [unreadable.problem], {}
    return document.data, [], document.lines
