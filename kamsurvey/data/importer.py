"""Importing a wave from the file an analyst actually has: the canonical CSV or a survey tool's export.

`import_responses(path, codebook, wave)` reads a `.csv` or `.xlsx` file and returns the
wave's responses in the data contract's own form (option codes, one `1`/`0`/empty
column per option of a multi-select question, columns in codebook order), ready for
`write_responses` and `kamsurvey.data.validate`. It accepts:

- the canonical CSV itself (it comes back unchanged, byte for byte);
- a survey-tool export whose answers are the codebook's option *labels*:
  - a single-choice or Likert question: one column holding the label (or the code);
  - a multi-select question either as one column per option, holding `1`/`0`, or the
    option's label where it was ticked and nothing where it was not; or as one column
    holding the labels of every option ticked, separated by `;` (a trailing `;` and
    blank parts are ignored).

Column headers name a question by its id, its wording (as asked in the wave) or its
short title; an option column by the question and the option (code or label) joined by
`__`, ` - `, `: `, ` | ` or as `question [option]`. Labels and headers match whatever
their case and spacing ("strongly AGREE " is "Strongly agree"), never a misspelling:
an unknown label or column is an error naming the row, the column, the value and the
closest valid labels or columns. Every problem in the file is reported at once.

What the importer does *not* judge is left to `kamsurvey.data.validate` (skip logic,
exclusive options, respondents answering nothing, ...), which runs on its output.
Reading is vectorised (a label is looked up once per distinct value, not per cell), so
a million-row export imports in seconds.
"""

from __future__ import annotations

import difflib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from kamsurvey.data.codebook import MULTI_SEPARATOR, Codebook, Question
from kamsurvey.data.problems import MAX_PER_CHECK, MAX_SHOWN, Problem, line_order, render_problems
from kamsurvey.data.readers import ID_COLUMN, Column, Table, read_table

JOIN_SEPARATOR = ";"
OPTION_SEPARATORS = (MULTI_SEPARATOR, " - ", ": ", " | ", " — ")
ID_ALIASES = ("respondent_id", "respondent id", "respondentid", "response id", "response_id", "responseid")
TICKED, UNTICKED = "1", "0"

# How a question was found in the file (ImportResult.layout).
CODES = "codes"
LABELS = "labels"
OPTION_COLUMNS = "one column per option"
JOINED = f"one column, labels separated by '{JOIN_SEPARATOR}'"


def normalise(text: Any) -> str:
    """Case and spacing do not matter: ' Strongly  AGREE' -> 'strongly agree'."""
    return " ".join(str(text).split()).casefold()


class ImportFailed(ValueError):
    """The file cannot be turned into a wave; `.problems` lists every problem found."""

    def __init__(self, problems: Sequence[Problem], *, source: str | Path):
        self.problems = list(problems)
        self.source = str(source)
        super().__init__(self.render())

    def summary(self) -> str:
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        return (f"{count} {noun} importing {self.source}: fix each one in the file (row 1 is the header) "
                "and import it again")

    def render(self) -> str:
        return render_problems(self.summary(), self.problems, MAX_SHOWN)

    def __str__(self) -> str:
        return self.render()

    def __reduce__(self):
        return (_rebuild_failed, (self.problems, self.source))


def _rebuild_failed(problems: list[Problem], source: str) -> ImportFailed:
    return ImportFailed(problems, source=source)


@dataclass
class ImportResult:
    """The wave's responses in contract form, and what the importer found in the file."""

    responses: pd.DataFrame
    source: Path
    layout: dict[str, str] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def canonical(self) -> bool:
        return all(kind == CODES for kind in self.layout.values())

    def describe(self) -> str:
        """One paragraph for the wave's README: what the file held and how it was read."""
        kinds = sorted(set(self.layout.values()))
        parts = [f"{len(self.responses):,} respondents and {len(self.layout)} questions were read from "
                 f"`{self.source.name}`"]
        parts[0] += " (the canonical format: option codes)." if self.canonical else f" ({', '.join(kinds)})."
        if self.left_out:
            parts.append("Not in the file, so not asked in this wave: " + ", ".join(self.left_out) + ".")
        if self.ignored:
            parts.append("Columns ignored on request: " + ", ".join(self.ignored) + ".")
        return " ".join(parts)


# --------------------------------------------------------------------------- what a header names


@dataclass(frozen=True)
class _Target:
    kind: str  # "id", "single", "joined", "option"
    question: str | None = None
    code: str | None = None


def _question_names(question: Question, wave: str | None) -> list[str]:
    return list(dict.fromkeys([question.id, question.wording_in(wave), question.wording, question.short_title]))


def header_targets(codebook: Codebook, wave: str | None) -> tuple[dict[str, _Target], list[str]]:
    """Every header the importer understands (normalised) -> what it names; and readable suggestions."""
    targets: dict[str, _Target] = {}
    ambiguous: set[str] = set()

    def add(name: str, target: _Target) -> None:
        key = normalise(name)
        if key in targets and targets[key] != target:
            ambiguous.add(key)
        targets.setdefault(key, target)

    for alias in ID_ALIASES:
        add(alias, _Target("id"))
    for question in codebook:
        for name in _question_names(question, wave):
            add(name, _Target("joined" if question.is_multi else "single", question.id))
            if not question.is_multi:
                continue
            for option in question.options:
                for part in (option.code, option.label):
                    add(f"{name} [{part}]", _Target("option", question.id, option.code))
                    for separator in OPTION_SEPARATORS:
                        add(f"{name}{separator}{part}", _Target("option", question.id, option.code))
    for key in ambiguous:
        del targets[key]
    suggestions = list(dict.fromkeys(codebook.ids() + codebook.columns(None) + [q.wording_in(wave) for q in codebook]))
    return targets, suggestions


def _closest(value: str, candidates: Sequence[str], n: int = 3) -> list[str]:
    """The candidates most like `value` (compared without case or spacing), best first."""
    by_key = {normalise(c): c for c in candidates}
    keys = difflib.get_close_matches(normalise(value), list(by_key), n=n, cutoff=0.0)
    return [by_key[k] for k in keys]


def _quoted(items: Iterable[str]) -> str:
    return ", ".join(f"'{item}'" for item in items)


# --------------------------------------------------------------------------- mapping answers


class _Collector:
    def __init__(self, file: str, table: Table | None, ids: np.ndarray | None):
        self.file = file
        self.table = table
        self.ids = ids
        self.problems: list[Problem] = []
        self.summaries: list[Problem] = []  # "N more rows like these": listed after the rows they count

    def result(self) -> list[Problem]:
        return sorted(self.problems, key=line_order) + self.summaries

    def header(self, column: str | None, expected: str, issue: str, value: Any = None) -> None:
        unit = self.table.unit if self.table else "line"
        self.problems.append(Problem(self.file, 1, None, column, value, expected, issue, unit=unit))

    def rows(self, mask: np.ndarray, column: str, values: Sequence[str], codes: np.ndarray, expected, issue: str) -> None:
        """One problem per bad row (the first MAX_PER_CHECK of a column), then a count of the rest."""
        bad = np.flatnonzero(mask)
        for i in bad[:MAX_PER_CHECK]:
            value = values[codes[i]]
            respondent = str(self.ids[i]) if self.ids is not None and str(self.ids[i]).strip() else None
            self.problems.append(Problem(self.file, self.table.line(int(i)), respondent, column, value,
                                               expected(value) if callable(expected) else expected, issue,
                                               unit=self.table.unit))
        if len(bad) > MAX_PER_CHECK:
            self.summaries.append(Problem(self.file, None, None, column, None, "as above",
                                               f"{len(bad) - MAX_PER_CHECK} more rows like these", unit=self.table.unit))


def _answer_lookup(question: Question) -> dict[str, str]:
    """Normalised label or code -> code (a code wins over another option's identical label)."""
    lookup = {normalise(o.label): o.code for o in question.options}
    lookup.update({normalise(o.code): o.code for o in question.options})
    return lookup


def _unknown_answer(question: Question, what: str):
    labels = [o.label for o in question.options]

    def expected(value: str) -> str:
        return f"{what} of {question.id}; closest: {_quoted(_closest(value, labels))}"

    return expected


def _categorical(values: np.ndarray, categories: Sequence[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(values.astype(np.int8), categories=list(categories))


def _single(column: Column, question: Question, header: str, out: _Collector) -> tuple[pd.Categorical, bool]:
    lookup = _answer_lookup(question)
    mapped = [lookup.get(normalise(v)) if v.strip() else "" for v in column.values]
    bad = np.array([m is None for m in mapped], dtype=bool)[column.codes]
    if bad.any():
        out.rows(bad, header, column.values, column.codes, _unknown_answer(question, "a label (or code)"),
                 "unknown label")
    is_code = all(m is None or m == v for m, v in zip(mapped, column.values))
    return pd.Categorical(np.array([m or "" for m in mapped], dtype=object)[column.codes]), is_code


def _option_states(column: Column, question: Question, code: str, header: str, out: _Collector) -> tuple[np.ndarray, bool]:
    """Per row: 0 empty, 1 unticked ('0'), 2 ticked ('1' or the option's label); False if a label was used."""
    option = question.option(code)
    ticked_names = {normalise(option.label), normalise(option.code)}
    classes, labelled = [], False
    for value in column.values:
        key = normalise(value)
        if key == "":
            classes.append(0)
        elif key == UNTICKED:
            classes.append(1)
        elif key == TICKED:
            classes.append(2)
        elif key in ticked_names:
            classes.append(2)
            labelled = True
        else:
            classes.append(3)
    states = np.array(classes, dtype=np.int8)[column.codes]
    bad = states == 3
    if bad.any():
        expected = f"1, 0, empty, or the option's label '{option.label}'"
        out.rows(bad, header, column.values, column.codes, expected, f"not a tick of option {code}")
        states = np.where(bad, 0, states)
    return states, labelled


def _joined(column: Column, question: Question, header: str, wave: str | None,
            out: _Collector) -> dict[str, pd.Categorical]:
    """One column of labels separated by ';' -> one 1/0/empty column per option."""
    lookup = _answer_lookup(question)
    chosen: list[set[str] | None] = []
    unknown: list[str | None] = []
    for value in column.values:
        parts = [p for p in (s.strip() for s in value.split(JOIN_SEPARATOR)) if p]
        codes = {lookup.get(normalise(p)) for p in parts}
        missing = [p for p in parts if lookup.get(normalise(p)) is None]
        chosen.append(None if not parts else codes - {None})
        unknown.append(missing[0] if missing else None)
    bad = np.array([u is not None for u in unknown], dtype=bool)[column.codes]
    if bad.any():
        shown = [u or "" for u in unknown]
        out.rows(bad, header, shown, column.codes, _unknown_answer(question, "a label (or code)"),
                 f"unknown label among the answers separated by '{JOIN_SEPARATOR}'")
    used = set().union(*(c for c in chosen if c))
    codes = [c for c in question.codes(None) if c in question.codes(wave) or c in used]
    answered = np.array([c is not None for c in chosen], dtype=bool)[column.codes]
    columns = {}
    for code in codes:
        has = np.array([bool(c) and code in c for c in chosen], dtype=bool)[column.codes]
        columns[question.column(code)] = _categorical(np.where(answered, np.where(has, 2, 1), 0), ["", UNTICKED, TICKED])
    return columns


def import_responses(path: str | Path, codebook: Codebook, wave: str | None, *,
                     ignore: Iterable[str] = ()) -> ImportResult:
    """Read `path` (.csv or .xlsx) into the data contract's form; raise ImportFailed listing every problem.

    `ignore` names columns of the export to leave out (e.g. a survey tool's timestamps).
    """
    path = Path(path)
    table, read_problems = read_table(path)
    if table is None:
        raise ImportFailed(read_problems, source=path)
    file = str(path)
    targets, suggestions = header_targets(codebook, wave)
    ignore_keys = {normalise(name) for name in ignore}
    out = _Collector(file, table, None)
    out.problems.extend(read_problems)

    found: dict[_Target, str] = {}
    ignored: list[str] = []
    for header in table.frame.columns:
        key = normalise(header)
        if key in ignore_keys:
            ignored.append(header)
            continue
        target = targets.get(key)
        if target is None:
            issue = "column with no name" if not key else "unknown column"
            out.header(header, "a column named by a question's id or wording, an option of a multi-select question "
                       f"(e.g. 'rewarded_with__bonus_cash' or 'rewarded_with [Bonus (cash)]'), or respondent_id; "
                       f"closest: {_quoted(_closest(header, suggestions))}", issue)
            continue
        if target in found:
            out.header(header, "each question or option in one column only", f"names the same thing as column '{found[target]}'")
            continue
        found[target] = header

    id_header = found.get(_Target("id"))
    if id_header is None:
        out.header(None, f"a column identifying each respondent, headed one of: {', '.join(ID_ALIASES)}", "no respondent id column")
    frame = table.frame
    out.ids = frame[id_header].astype(str).to_numpy() if id_header is not None else None

    columns: dict[str, Any] = {}
    layout: dict[str, str] = {}
    for question in codebook:
        whole = found.get(_Target("joined" if question.is_multi else "single", question.id))
        option_headers = {t.code: h for t, h in found.items() if t.kind == "option" and t.question == question.id}
        if whole is None and not option_headers:
            continue
        if not question.is_multi:
            mapped, is_code = _single(Column(whole, frame[whole]), question, whole, out)
            columns[question.id] = mapped
            layout[question.id] = CODES if is_code and whole == question.id else LABELS
            continue
        if whole is not None and option_headers:
            out.header(whole, f"either one column for {question.id} or one column per option, not both",
                       f"{question.id} is also given one column per option ({_quoted(option_headers.values())})")
            continue
        if whole is not None:
            joined = _joined(Column(whole, frame[whole]), question, whole, wave, out)
            columns.update(joined)
            layout[question.id] = JOINED
            continue
        states, any_label = {}, False
        for code, header in option_headers.items():
            states[code], labelled = _option_states(Column(header, frame[header]), question, code, header, out)
            any_label |= labelled
        ticked_somewhere = np.zeros(len(frame), dtype=bool)
        for state in states.values():
            ticked_somewhere |= state == 2
        for code in question.codes(None):
            if code not in states:
                continue
            state = states[code]
            # a row with a tick elsewhere: an empty cell is an option left unticked
            filled = np.where((state == 0) & ticked_somewhere, 1, state)
            columns[question.column(code)] = _categorical(filled, ["", UNTICKED, TICKED])
        canonical_headers = all(h == question.column(c) for c, h in option_headers.items())
        layout[question.id] = CODES if canonical_headers and not any_label else OPTION_COLUMNS

    if out.problems or out.summaries:
        raise ImportFailed(out.result(), source=path)
    order = [c for c in codebook.columns(None) if c in columns]
    data = {ID_COLUMN: out.ids}
    data.update({name: columns[name] for name in order})
    responses = pd.DataFrame(data)
    left_out = [q.id for q in codebook if q.id not in layout]
    return ImportResult(responses=responses, source=path, layout=layout, left_out=left_out, ignored=ignored)


# --------------------------------------------------------------------------- writing


def responses_csv(frame: pd.DataFrame) -> bytes:
    """The contract's CSV bytes: UTF-8, header line, '\\n' line ends, fields quoted only where needed."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header = ",".join(_csv_field(str(c)) for c in frame.columns) + "\n"
    table = pa.table({str(c): _arrow_text(frame[c]) for c in frame.columns})
    buffer = io.BytesIO()
    buffer.write(header.encode("utf-8"))
    try:
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    except Exception:  # a value holding a comma, quote or line break: the csv module quotes it
        import csv

        text = io.StringIO(newline="")
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([str(c) for c in frame.columns])
        writer.writerows(zip(*(_as_text(frame[c]) for c in frame.columns)))
        return text.getvalue().encode("utf-8")
    return buffer.getvalue()


def _arrow_text(series: pd.Series):
    """A column as an arrow string array without a Python object per cell (categoricals stay cheap)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = pa.array([str(c) for c in series.cat.categories], type=pa.string())
        codes = pa.array(series.cat.codes.to_numpy(), mask=series.isna().to_numpy())
        return pc.cast(pa.DictionaryArray.from_arrays(codes, categories), pa.string())
    return pa.array(_as_text(series), type=pa.string())


def _as_text(series: pd.Series) -> list[str | None]:
    values = series.astype(object).where(series.notna(), None).tolist()
    return [None if v is None or v == "" else str(v) for v in values]


def _csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_responses(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(responses_csv(frame))
    return path


# --------------------------------------------------------------------------- exporting labels (tests, synthetic exports)


def export_labels(frame: pd.DataFrame, codebook: Codebook, wave: str | None, *, multi: str = "columns",
                  headers: str = "ids") -> pd.DataFrame:
    """A contract-form frame as a survey tool would export it: labels instead of codes.

    `multi="columns"`: one column per option holding the label where ticked ('' otherwise);
    `multi="joined"`: one column per question holding the ticked labels separated by '; '.
    `headers="ids"` heads columns with question ids, `"wording"` with the wording asked.
    Skipped questions stay empty. The inverse of `import_responses`.
    """
    if multi not in ("columns", "joined") or headers not in ("ids", "wording"):
        raise ValueError("multi must be 'columns' or 'joined'; headers 'ids' or 'wording'")
    out: dict[str, list[str]] = {"Respondent ID" if headers == "wording" else ID_COLUMN: frame[ID_COLUMN].astype(str).tolist()}
    for question in codebook:
        present = [c for c in question.columns(None) if c in frame.columns]
        if not present:
            continue
        name = question.id if headers == "ids" else question.wording_in(wave)
        if not question.is_multi:
            labels = question.labels()
            out[name] = [labels.get(v, v) if isinstance(v, str) and v else "" for v in frame[question.id].astype(object).where(frame[question.id].notna(), "")]
            continue
        labels = {question.column(c): question.label(c) for c in question.codes(None) if question.column(c) in present}
        cells = {c: frame[c].astype(object).where(frame[c].notna(), "").astype(str).tolist() for c in present}
        if multi == "columns":
            for column in present:
                out[f"{name} [{labels[column]}]"] = [labels[column] if v == TICKED else "" for v in cells[column]]
        else:
            joined = []
            for i in range(len(frame)):
                if all(cells[c][i] == "" for c in present):
                    joined.append("")
                else:
                    joined.append("; ".join(labels[c] for c in present if cells[c][i] == TICKED))
            out[name] = joined
    return pd.DataFrame(out)


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write an export as .csv (UTF-8) or .xlsx (first sheet, text cells; ticks '1'/'0' as numbers)."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Responses")
        sheet.append([str(c) for c in frame.columns])
        for row in frame.itertuples(index=False):
            sheet.append([int(v) if v in (TICKED, UNTICKED) else (v or None) for v in map(_plain, row)])
        workbook.save(path)
        return path
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def _plain(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


# --------------------------------------------------------------------------- the wave's other files


def wave_yaml(meta: Mapping[str, Any]) -> str:
    """wave.yml text in the layout of the 2022 file (keys in the contract's order, folded long text)."""
    import textwrap

    def folded(key: str, text: str) -> str:
        body = textwrap.wrap(" ".join(str(text).split()), width=78)
        return f"{key}: >-\n" + "\n".join(f"  {line}" for line in body) + "\n"

    def scalar(value: Any) -> str:
        import yaml

        return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip().removesuffix("\n...")

    text = f"# Metadata of the {meta['wave']} wave (its keys: kamsurvey/data/wavemeta.py).\n"
    text += f'wave: "{meta["wave"]}"\n'
    text += f"title: {scalar(meta['title'])}\n"
    text += f"fieldwork:\n  start: {meta['fieldwork']['start']}\n  end: {meta['fieldwork']['end']}\n"
    text += folded("population", meta["population"])
    text += f"n: {int(meta['n'])}\n"
    text += f"source: {scalar(meta['source'])}\n"
    text += f"provenance: {meta['provenance']}\n"
    text += folded("provenance_note", meta["provenance_note"])
    if meta.get("published"):
        text += f"published: {meta['published']}\n"
    return text
