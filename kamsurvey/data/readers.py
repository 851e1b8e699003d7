"""Reading the files an analyst hands over, as a table of strings, with every problem met on the way.

- `read_responses_csv(path)`: a CSV (the data contract's responses.csv, or a survey tool's CSV
  export) parsed by pyarrow straight into dictionary-encoded (categorical) columns, so a column
  of a million answers holds a handful of distinct strings. A file with blank lines, quoted line
  breaks, lone-CR line ends or lines with the wrong number of fields is re-read with the csv
  module, which knows the line each record starts on, so that every problem still names the
  right line (slower, but only for such files; a clean file is never parsed twice). Bytes that
  are not UTF-8 are reported by line, byte offset, column and field.
- `read_table(path)`: a CSV file or workbook as a `Table`, as a person sees it: recognised by its
  content, not its name (an .xlsx named .csv is a workbook); of a workbook, the sheet it opens
  on (the active, visible one, not a hidden first sheet), each formula cell as its saved result
  (a formula without one is a problem naming the cell, e.g. 'Sheet1!D7', never read as empty);
  every cell a string, each row's line or row number; header cells without a name are named
  by their column letter (`column_letter`, `letter_ranges`: 'F-H, K' in one line). What it
  reports about a CSV never quotes a line or a field: an export holds personal data.
- `Column`: a column as integer codes into its few distinct values, so that every test of a
  value is answered once per distinct value and broadcast to the rows.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from kamsurvey.data.problems import MAX_PER_CHECK, Problem, quote_value

ID_COLUMN = "respondent_id"


class Column:
    """A column as integer codes into its few distinct values (the last value is always '').

    Every test of a value ('is it a valid code?', 'is it 1?') is answered once per
    distinct value and broadcast to the rows through the codes, so a million rows cost
    one numpy indexing per test.
    """

    __slots__ = ("name", "codes", "values", "_eq")

    def __init__(self, name: str, series: pd.Series):
        self.name = name
        if isinstance(series.dtype, pd.CategoricalDtype):
            values = [str(v) for v in series.cat.categories]
            codes = series.cat.codes.to_numpy()
        else:
            codes, uniques = pd.factorize(series, use_na_sentinel=True)
            values = [str(v) for v in uniques]
        codes = np.asarray(codes)
        # Missing values (NaN/NA) count as empty: they are mapped to the trailing ''.
        values.append("")
        if codes.size and codes.min() < 0:
            codes = np.where(codes < 0, len(values) - 1, codes)
        self.codes = codes
        self.values = values
        self._eq: dict[str, np.ndarray] = {}

    def where(self, predicate) -> np.ndarray:
        lut = np.fromiter((bool(predicate(v)) for v in self.values), dtype=bool, count=len(self.values))
        return lut[self.codes]

    def classify(self, classes: Mapping[str, int], other: int) -> np.ndarray:
        """Each row's class (int8): `classes[value]`, or `other` for any other value."""
        lut = np.fromiter((classes.get(v, other) for v in self.values), dtype=np.int8, count=len(self.values))
        return lut[self.codes]

    def eq(self, value: str) -> np.ndarray:
        if value not in self._eq:
            self._eq[value] = self.where(lambda v: v == value)
        return self._eq[value]

    def value(self, i: int) -> str:
        return self.values[self.codes[i]]



def _encoding_hint(data: bytes, bad: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "re-save the file as UTF-8: it is UTF-16"
    try:
        as_cp1252 = bad.decode("cp1252")
    except UnicodeDecodeError:
        return "re-save the file as UTF-8"
    return f"re-save the file as UTF-8: it looks like Windows-1252/Latin-1, where {quote_value(as_cp1252)} is byte {bad[0]:#04x}"


def _decode_problems(file: str, data: bytes, offset: int, header: list[str] | None) -> list[Problem]:
    """Every line with bytes that are not UTF-8, naming line, byte offset, column and the field."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return [Problem(file, None, None, None, None, "UTF-8 text (re-save the file as UTF-8: it is UTF-16)", "not UTF-8: the file starts with a UTF-16 byte order mark")]
    problems: list[Problem] = []
    position = 0
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            field_index = line.count(b",", 0, error.start)
            field_start = line.rfind(b",", 0, error.start) + 1
            field_end = line.find(b",", error.start)
            field = line[field_start : field_end if field_end >= 0 else len(line)].rstrip(b"\r")
            column = header[field_index] if header is not None and field_index < len(header) else None
            bad = line[error.start : error.end]
            first_field = line.split(b",", 1)[0].decode("utf-8", errors="replace").strip()
            problems.append(
                Problem(
                    file,
                    number,
                    first_field if number > 1 and field_index > 0 and first_field else None,
                    column,
                    field.decode("utf-8", errors="backslashreplace"),
                    f"UTF-8 text ({_encoding_hint(data, bad)})",
                    f"not UTF-8: byte {bad[0]:#04x} at byte offset {offset + position + error.start} of the file",
                )
            )
            if len(problems) >= MAX_PER_CHECK:
                problems.append(Problem(file, None, None, None, None, "UTF-8 text", "more lines that are not UTF-8 (only the first ones are listed)"))
                break
        position += len(line) + 1
    return problems


def read_responses_csv(path: Path) -> tuple[pd.DataFrame | None, np.ndarray | None, list[Problem], int | None]:
    """The CSV as a frame of strings (categorical columns), each row's line number (None: index + 2),
    the problems met while reading, and the number of respondent lines (malformed ones included)."""
    file = str(path)
    expected_file = "a UTF-8 CSV file with a header line and one line per respondent"
    if not path.is_file():
        return None, None, [Problem(file, None, None, None, None, expected_file, "file not found")], None
    data = path.read_bytes()
    if not data:
        return None, None, [Problem(file, None, None, None, None, expected_file, "empty file (0 bytes)")], None
    # (slices of `data` are avoided: each would copy the whole file)
    offset = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    line_end = re.compile(rb"[\r\n]").search(data, offset)
    first_line = data[offset : line_end.start() if line_end else len(data)]
    header_text = first_line.decode("utf-8", errors="replace")
    try:
        header = next(csv.reader([header_text], strict=True), []) if header_text.strip() else []
    except csv.Error as error:
        return None, None, [Problem(file, 1, None, None, header_text, "a header line of column names separated by commas", f"malformed header: {error}")], None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None, None, _decode_problems(file, data[offset:], offset, header or None), None
    if re.compile(rb"\S").search(data, offset) is None:
        return None, None, [Problem(file, None, None, None, None, expected_file, "no header line (the file holds only blank lines)")], None
    if not header:
        return None, None, [Problem(file, 1, None, None, None, "the header line naming the columns", "blank header line")], None

    width = len(header)
    table, invalid = _arrow_read(data, header, threads=True)
    trailing = 0
    while trailing < len(data) and data[len(data) - 1 - trailing] in b"\r\n":
        trailing += 1
    content_lines = data.count(b"\n", 0, len(data) - trailing) + 1
    if table is not None and not invalid and content_lines == table.num_rows + 1:
        frame = table.to_pandas()
        frame.columns = header
        return frame, None, [], table.num_rows

    # An unusual file: blank lines, malformed lines (skipped by pyarrow), quoted line
    # breaks or lone-CR line ends. Map records to lines with numpy where lines and
    # records correspond (no quoted line breaks); else re-read with the csv module.
    record_lines, newlines = _record_lines(data) if table is not None else (None, None)
    if record_lines is None or len(record_lines) != table.num_rows + len(invalid):
        return _read_csv_slowly(file, data[offset:], header)
    # Each skipped record's index among the records (pyarrow's row.number counts the header as 1,
    # but only a single-threaded read numbers rows: find few bad lines by their text instead).
    if all(row.number is not None for row in invalid):
        bad_records = np.array([row.number - 2 for row in invalid], dtype=np.int64)
    else:
        bad_records = _locate_lines(data, invalid, record_lines, newlines)
    if bad_records is None:
        table, invalid = _arrow_read(data, header, threads=False)
        if table is None or len(record_lines) != table.num_rows + len(invalid):
            return _read_csv_slowly(file, data[offset:], header)
        bad_records = np.array([row.number - 2 for row in invalid], dtype=np.int64)
    problems = []
    for row, record in zip(invalid, bad_records):
        first_field = row.text.split(",", 1)[0].strip().strip('"')
        problems.append(
            Problem(
                file,
                int(record_lines[record]),
                first_field or None,
                None,
                row.text,
                f"{width} comma-separated fields, one per column of the header",
                f"malformed CSV: {row.actual_columns} fields instead of {width}",
            )
        )
    keep = np.ones(len(record_lines), dtype=bool)
    keep[bad_records] = False
    frame = table.to_pandas()
    frame.columns = header
    return frame, record_lines[keep], problems, len(record_lines)


def _arrow_read(data: bytes, header: list[str], *, threads: bool) -> tuple[pa.Table | None, list]:
    """Parse the rows after the header; lines with the wrong number of fields are skipped and returned."""
    names = [f"c{i}" for i in range(len(header))]
    invalid: list = []

    def on_invalid(row) -> str:
        invalid.append(row)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=threads, skip_rows=1, column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={
                    name: (pa.string() if title == ID_COLUMN else pa.dictionary(pa.int32(), pa.string()))
                    for name, title in zip(names, header)
                },
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None, []
    return table, invalid


def _locate_lines(data: bytes, rows: list, record_lines: np.ndarray, newlines: np.ndarray, most: int = 20) -> np.ndarray | None:
    """Record index of each skipped row, found by searching the file for its text as a whole line.

    In the order of `rows`; None when there are too many distinct texts to search or a text
    is not found exactly as often as it was skipped (then the caller re-reads to number them).
    """
    wanted: dict[str, int] = {}
    for row in rows:
        wanted[row.text] = wanted.get(row.text, 0) + 1
    if len(wanted) > most:
        return None
    where: dict[str, list[int]] = {}
    for text, count in wanted.items():
        pattern = re.compile(rb"(?<![^\n])" + re.escape(text.encode("utf-8")) + rb"(?=\r?\n|\r?\Z)")
        positions = [match.start() for match in pattern.finditer(data)]
        if len(positions) != count:
            return None
        lines = np.searchsorted(newlines, np.asarray(positions)) + 1
        records = np.searchsorted(record_lines, lines)
        if np.any(records >= len(record_lines)) or np.any(record_lines[np.minimum(records, len(record_lines) - 1)] != lines):
            return None
        where[text] = records.tolist()
    return np.array([where[row.text].pop(0) for row in rows], dtype=np.int64)


def _record_lines(data: bytes) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Line number of every non-blank line after the header, i.e. of every record pyarrow parsed
    (pyarrow skips blank lines), and the byte positions of the newlines; (None, None) if lone
    CRs end lines (pyarrow counts them, numpy here would not)."""
    if data.count(b"\r") != data.count(b"\r\n"):
        return None, None
    buffer = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buffer == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(buffer)]))
    lengths = ends - starts
    ends_in_cr = np.zeros(len(ends), dtype=bool)
    nonempty = lengths > 0
    ends_in_cr[nonempty] = buffer[ends[nonempty] - 1] == 13
    lengths = lengths - ends_in_cr
    if data.startswith(codecs.BOM_UTF8):
        lengths[0] -= len(codecs.BOM_UTF8)
    lines = np.flatnonzero(lengths > 0) + 1
    return lines[1:], newlines  # the first non-blank line is the header


def _read_csv_slowly(file: str, data: bytes, header: list[str]) -> tuple[pd.DataFrame | None, np.ndarray | None, list[Problem], int | None]:
    text = data.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[Problem] = []
    records: list[list[str]] = []
    lines: list[int] = []
    previous_end = 0
    width = len(header)
    try:
        for record in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if start == 1:
                continue  # the header
            if not record:
                continue  # a blank line
            if len(record) != width:
                problems.append(
                    Problem(
                        file,
                        start,
                        record[0] if record and record[0].strip() else None,
                        None,
                        ",".join(record),
                        f"{width} comma-separated fields, one per column of the header",
                        f"malformed CSV: {len(record)} fields instead of {width}",
                    )
                )
                continue
            records.append(record)
            lines.append(start)
    except csv.Error as error:
        problems.append(
            Problem(file, previous_end + 1, None, None, None, "well-formed CSV (quotes closed, one record per line)", f"malformed CSV: {error}")
        )
        return None, None, problems, None
    frame = pd.DataFrame(records, columns=range(width), dtype="str") if records else pd.DataFrame({i: pd.Series([], dtype="str") for i in range(width)})
    frame.columns = header
    return frame, np.asarray(lines, dtype=np.int64), problems, len(records) + len(problems)


# --------------------------------------------------------------------------- any table: .csv or .xlsx


ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx workbook is a zip archive
SAV_MAGICS = (b"$FL2", b"$FL3")  # an SPSS .sav file (uncompressed or zlib-compressed)
MAX_CELLS_LISTED = 20  # formula cells without a saved value listed one by one; the rest are counted


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index: 0 -> 'A', 26 -> 'AA' (CSV columns are named alike)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def letter_ranges(indexes) -> str:
    """0-based column indexes as a person reads them: [5, 6, 7, 10] -> 'F-H, K' (one line, not one per column)."""
    indexes = sorted(set(indexes))
    parts: list[str] = []
    start = previous = None
    for index in indexes + [None]:
        if start is not None and (index is None or index != previous + 1):
            parts.append(column_letter(start) if start == previous else f"{column_letter(start)}-{column_letter(previous)}")
            start = None
        if index is not None and start is None:
            start = index
        previous = index
    return ", ".join(parts)


def file_kind(path: Path) -> str | None:
    """What the file is by its content, whatever its name says: 'xlsx', 'sav', 'csv' or None (unreadable)."""
    try:
        with path.open("rb") as handle:
            start = handle.read(4)
    except OSError:
        return None
    if start == ZIP_MAGIC:
        return "xlsx"
    if start in SAV_MAGICS:
        return "sav"
    return "csv"


@dataclass
class Table:
    """A sheet or CSV file as a person sees it: the first row, then the rows below it.

    `frame` has one column per column of the file, labelled by position (0, 1, ...), every
    cell a string ('' for empty); `header` is the first row as written ('' for an empty cell).
    """

    header: list[str]
    frame: pd.DataFrame
    lines: np.ndarray | None  # each row's line/row number in the file; None: index + 2
    unit: str  # "line" (CSV) or "row" (spreadsheet)
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)

    def line(self, i: int) -> int:
        return int(self.lines[i]) if self.lines is not None else i + 2

    def column(self, index: int) -> Column:
        return Column(self.header[index], self.frame[index])

    def name(self, index: int) -> str:
        """How a person finds the column: its header, or its letter when the header cell is empty."""
        header = self.header[index].strip()
        return header if header else f"{column_letter(index)} (no name)"

    def cell(self, row: int, index: int) -> str:
        value = self.frame[index].iloc[row]
        return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV would hold: 1.0 -> '1', None -> '', dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _visible_sheet(workbook):
    """The sheet a person sees on opening the workbook: the active one, or the first visible one."""
    active = workbook.active
    if active is not None and getattr(active, "sheet_state", "visible") == "visible":
        return active
    visible = [sheet for sheet in workbook.worksheets if getattr(sheet, "sheet_state", "visible") == "visible"]
    return visible[0] if visible else None


def _uncalculated_cells(file: str, sheet_name: str, formulas, values) -> list[Problem]:
    """Formula cells whose workbook holds no saved result: read as empty they would publish a wrong number."""
    problems: list[Problem] = []
    missing = 0
    for number, (formula_row, value_row) in enumerate(zip(formulas, values), start=1):
        for index, (formula, value) in enumerate(zip(formula_row, value_row)):
            if value is None and isinstance(formula, str) and formula.startswith("="):
                missing += 1
                if len(problems) < MAX_CELLS_LISTED:
                    cell = f"{sheet_name}!{column_letter(index)}{number}"
                    problems.append(Problem(file, number, None, column_letter(index), None,
                                            "a value: open the workbook in Excel or LibreOffice, let it calculate, "
                                            "save it, and import it again",
                                            f"cell {cell} holds a formula without a saved result", unit="row"))
    if missing > MAX_CELLS_LISTED:
        problems.append(Problem(file, None, None, None, None, "as above",
                                f"{missing - MAX_CELLS_LISTED} more formula cells without a saved result", unit="row"))
    return problems


def _read_xlsx(path: Path) -> tuple[Table | None, list[Problem]]:
    """The sheet a person sees (not a hidden first sheet), with formula cells read as their saved results."""
    from openpyxl import load_workbook

    file = str(path)
    data = io.BytesIO(path.read_bytes())  # by content: openpyxl would refuse a workbook named .csv by its name
    try:
        workbook = load_workbook(data, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several kinds for a file that is not a workbook
        return None, [Problem(file, None, None, None, None, "an Excel workbook (.xlsx)", f"cannot be opened: {error}")]
    try:
        sheet = _visible_sheet(workbook)
        if sheet is None:
            return None, [Problem(file, None, None, None, None, "a visible sheet holding the responses",
                                  "every sheet of the workbook is hidden", unit="row")]
        sheet_name = sheet.title
        raw = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    problems: list[Problem] = []
    if any(value is None for row in raw for value in row):
        formulas_book = load_workbook(data, read_only=True, data_only=False)
        try:
            formulas = formulas_book[sheet_name].iter_rows(values_only=True)
            problems = _uncalculated_cells(file, sheet_name, formulas, raw)
        finally:
            formulas_book.close()
    rows = [[_cell_text(v) for v in row] for row in raw]
    numbered = [(number, row) for number, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
    if not numbered or numbered[0][0] != 1:
        expected = f"a header row naming the columns in row 1 of the sheet '{sheet_name}'"
        return None, problems + [Problem(file, None, None, None, None, expected, "no header row", unit="row")]
    width = max(len(row) for _, row in numbered)
    while width and not any(len(row) >= width and row[width - 1].strip() for _, row in numbered):
        width -= 1  # columns empty from top to bottom: formatting, not data
    header = (numbered[0][1] + [""] * width)[:width]
    data = [(row + [""] * width)[:width] for _, row in numbered[1:]]
    frame = pd.DataFrame(data, columns=range(width), dtype=object) if data else pd.DataFrame(columns=range(width), dtype=object)
    lines = np.array([number for number, _ in numbered[1:]], dtype=np.int64)
    return Table(header, frame, lines, "row", sheet=sheet_name), problems


def _read_csv_table(path: Path) -> tuple[Table | None, list[Problem]]:
    """The CSV through the validator's reader: fast, and precise about encodings and malformed lines.

    A malformed line is reported and left out, and the rest of the file is still read, so
    that its other problems are reported in the same run. What the reader quotes from a bad
    line (its text, its first field) is left out of the problem: a survey tool's export
    holds personal data and free text, which are never echoed.
    """
    frame, lines, problems, _ = read_responses_csv(path)
    problems = [replace(p, value=None, respondent_id=None) for p in problems]
    if frame is None:
        return None, problems
    header = [str(c) for c in frame.columns]
    frame = frame.set_axis(range(len(header)), axis=1)
    return Table(header, frame, lines, "line"), problems


def read_table(path: str | Path) -> tuple[Table | None, list[Problem]]:
    """The file's cells as strings, and the problems met reading it (no table: it cannot be read at all).

    A workbook is read as a workbook and a CSV file as text whatever the file is named
    (an .xlsx saved as 'export.csv' is still a workbook); the table's notes say so.
    """
    path = Path(path)
    file = str(path)
    if not path.is_file():
        return None, [Problem(file, None, None, None, None, "an existing file", "file not found")]
    kind = file_kind(path)
    if kind == "sav":
        return None, [Problem(file, None, None, None, None, "a .csv or .xlsx file",
                              "an SPSS data file (.sav): import it as one, not as a table")]
    suffix = path.suffix.lower()
    table, problems = _read_xlsx(path) if kind == "xlsx" else _read_csv_table(path)
    if table is not None and kind == "xlsx" and suffix != ".xlsx":
        table.notes.append(f"`{path.name}` is an Excel workbook (named {suffix or 'without an extension'}); "
                           "it was read as a workbook")
    if table is not None and kind == "csv" and suffix == ".xlsx":
        table.notes.append(f"`{path.name}` is a text (CSV) file named .xlsx; it was read as CSV")
    return table, problems
