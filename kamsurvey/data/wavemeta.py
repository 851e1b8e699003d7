"""A wave's metadata: `wave.yml`, read and checked, and `WaveMeta`, what the book knows of the wave.

wave.yml  wave, title, fieldwork {start, end}, population, n, source,
          provenance (original | reconstructed), provenance_note; optional published.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Mapping

import yaml

from kamsurvey.data.problems import Problem, line_order

WAVE_FILE = "wave.yml"
REQUIRED_META = ("wave", "title", "fieldwork", "population", "n", "source", "provenance", "provenance_note")
OPTIONAL_META = ("published",)
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

    @property
    def reconstructed(self) -> bool:
        return self.provenance == "reconstructed"

    @property
    def fieldwork(self) -> str:
        """'July–September 2022': how the article dates its fieldwork."""
        return _month_range(self.fieldwork_start, self.fieldwork_end)

    def source_line(self, base: int | None = None) -> str:
        """The line under every chart: survey, fieldwork, base, and whether the data is reconstructed."""
        parts = [f"Source: {self.source}, {self.fieldwork}"]
        if base is not None:
            parts[0] += f" (n = {base})"
        parts[0] += "."
        if self.reconstructed:
            parts.append("Respondent-level data reconstructed from the published article.")
        return " ".join(parts)


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def meta_from_mapping(raw: dict) -> WaveMeta:
    """Build WaveMeta from a wave.yml that validation has already checked."""
    fieldwork = raw["fieldwork"]
    return WaveMeta(
        wave=str(raw["wave"]),
        title=str(raw["title"]),
        fieldwork_start=_as_date(fieldwork["start"]),
        fieldwork_end=_as_date(fieldwork["end"]),
        population=str(raw["population"]).strip(),
        n=int(raw["n"]),
        source=str(raw["source"]).strip(),
        provenance=str(raw["provenance"]),
        provenance_note=" ".join(str(raw.get("provenance_note", "")).split()),
        published=_as_date(raw["published"]) if raw.get("published") else None,
    )



def _as_iso_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def check_meta(
    raw_meta: Any,
    *,
    file: str,
    wave_dir_name: str,
    n_rows: int | None,
    key_lines: Mapping[str, int] | None = None,
) -> list[Problem]:
    """Every problem with a parsed wave.yml; no I/O. `key_lines` maps keys to their line in the file."""
    file = str(file)
    key_lines = dict(key_lines or {})
    problems: list[Problem] = []

    def add(key: str | None, value: Any, expected: str, issue: str = "") -> None:
        line = key_lines.get(key) if key else None
        problems.append(Problem(file, line, None, key, value, expected, issue))

    if not isinstance(raw_meta, Mapping):
        add(None, None, "a YAML mapping of keys: " + ", ".join(REQUIRED_META), f"not a mapping (got a {type(raw_meta).__name__})")
        return problems

    known = REQUIRED_META + OPTIONAL_META
    for key in REQUIRED_META:
        if key not in raw_meta or raw_meta[key] is None or (isinstance(raw_meta[key], str) and not raw_meta[key].strip()):
            add(key, None, _META_EXPECTED[key], "required key missing" if key not in raw_meta else "required key is empty")
    for key in raw_meta:
        if str(key) not in known:
            near = difflib.get_close_matches(str(key), known, n=1, cutoff=0.8)
            if near and near[0] not in raw_meta:
                add(str(key), None, f"'{near[0]}'", f"unknown key (a misspelling of '{near[0]}'?)")

    wave = raw_meta.get("wave")
    if wave is not None and not isinstance(wave, bool) and isinstance(wave, (str, int)) and str(wave).strip():
        if str(wave).strip() != wave_dir_name:
            add("wave", wave, f"'{wave_dir_name}', the name of the wave's directory")
    elif wave is not None and not (isinstance(wave, str) and not wave.strip()):
        add("wave", wave, "the wave id as a string, e.g. '2022'")

    for key in ("title", "population", "source", "provenance_note"):
        value = raw_meta.get(key)
        if value is not None and not isinstance(value, str):
            add(key, value, _META_EXPECTED[key])

    fieldwork = raw_meta.get("fieldwork")
    if fieldwork is not None:
        if not isinstance(fieldwork, Mapping):
            add("fieldwork", fieldwork, _META_EXPECTED["fieldwork"])
        else:
            dates = {}
            for part in ("start", "end"):
                key = f"fieldwork.{part}"
                if part not in fieldwork:
                    problems.append(Problem(file, key_lines.get("fieldwork"), None, key, None, "an ISO date (YYYY-MM-DD)", "required key missing"))
                    continue
                date = _as_iso_date(fieldwork[part])
                if date is None:
                    problems.append(Problem(file, key_lines.get(key, key_lines.get("fieldwork")), None, key, fieldwork[part], "an ISO date (YYYY-MM-DD)", "bad date"))
                dates[part] = date
            if dates.get("start") and dates.get("end") and dates["start"] > dates["end"]:
                problems.append(
                    Problem(
                        file,
                        key_lines.get("fieldwork.end", key_lines.get("fieldwork")),
                        None,
                        "fieldwork.end",
                        dates["end"].isoformat(),
                        f"a date on or after fieldwork.start ({dates['start'].isoformat()})",
                        "fieldwork ends before it starts",
                    )
                )

    n = raw_meta.get("n")
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            add("n", n, "the number of respondents, a whole number")
        elif n_rows is not None and n != n_rows:
            add("n", n, f"{n_rows}, the number of respondent lines in responses.csv", "n does not match the data")

    provenance = raw_meta.get("provenance")
    if provenance is not None and provenance not in PROVENANCES:
        add("provenance", provenance, " or ".join(PROVENANCES))

    published = raw_meta.get("published")
    if published is not None and _as_iso_date(published) is None:
        add("published", published, "an ISO date (YYYY-MM-DD)", "bad date")

    return sorted(problems, key=line_order)


_META_EXPECTED = {
    "wave": "the wave id, the name of the wave's directory (e.g. '2022')",
    "title": "the survey's title, as text",
    "fieldwork": "a mapping with start and end, ISO dates (YYYY-MM-DD)",
    "population": "who was surveyed, as text",
    "n": "the number of respondents, a whole number",
    "source": "the source line under charts, as text",
    "provenance": " or ".join(PROVENANCES),
    "provenance_note": "how the data was obtained or reconstructed, as text",
}


# --------------------------------------------------------------------------- reading files


class _MetaLoader(yaml.SafeLoader):
    """SafeLoader that keeps an impossible date (2022-13-01) as text, for check_meta to report, instead of raising."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_MetaLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _yaml_key_lines(text: str) -> dict[str, int]:
    """Line (1-based) of each top-level key and of fieldwork.start/end, for messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                lines[str(key.value)] = key.start_mark.line + 1
                if isinstance(value, yaml.MappingNode):
                    for sub_key, _ in value.value:
                        if isinstance(sub_key, yaml.ScalarNode):
                            lines[f"{key.value}.{sub_key.value}"] = sub_key.start_mark.line + 1
    return lines


def read_meta_file(path: Path) -> tuple[Any, list[Problem], dict[str, int]]:
    file = str(path)
    if not path.is_file():
        return None, [Problem(file, None, None, None, None, "a wave.yml describing the wave (" + ", ".join(REQUIRED_META) + ")", "file not found")], {}
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return None, [Problem(file, line, None, None, data[error.start : error.start + 1], "UTF-8 text", f"not UTF-8: byte {data[error.start]:#04x} at byte offset {error.start}")], {}
    if not text.strip():
        return None, [Problem(file, None, None, None, None, "a YAML mapping of keys: " + ", ".join(REQUIRED_META), "empty file")], {}
    try:
        raw_meta = yaml.load(text, Loader=_MetaLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        return None, [Problem(file, line, None, None, None, "valid YAML", f"not YAML: {reason}")], {}
    return raw_meta, [], _yaml_key_lines(text)

