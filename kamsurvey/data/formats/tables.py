"""What the table-shaped exports (CSV and workbooks) share: header rows above the responses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamsurvey.data.formats.export import SUBMITTED_ONLY, Export, Field
from kamsurvey.data.personal import metadata_role
from kamsurvey.data.readers import Column, Table, column_letter


def header_row(table: Table, k: int) -> list[str]:
    """Row k below the first row (0: the second row of the file), as strings."""
    return [table.cell(k, i).strip() for i in range(len(table.header))]


def body(table: Table, skip: int) -> tuple[list[Column], np.ndarray]:
    """The cells below the first `skip` rows under the header, and each one's line or row number."""
    frame = table.frame.iloc[skip:].reset_index(drop=True)
    lines = np.asarray(table.lines[skip:] if table.lines is not None else np.arange(skip, len(table.frame)) + 2,
                       dtype=np.int64)
    columns = []
    for i in range(len(table.header)):
        series = frame[i]
        if isinstance(series.dtype, pd.CategoricalDtype):  # the header rows' texts are no values of the column
            series = series.cat.remove_unused_categories()
        columns.append(Column(table.header[i], series))
    return columns, lines


def named(table: Table, names: list[str]) -> list[str]:
    """Those of `names` (compacted) that head a column, in the file's words."""
    from kamsurvey.data.personal import compact

    wanted = {compact(n) for n in names}
    return [h for h in table.header if compact(h) in wanted]


def form_export(table: Table, file: str, *, name: str, separator: str) -> Export:
    """A form tool's sheet (Google Forms, Microsoft Forms): one header row of metadata columns and question titles,
    only submitted responses, several answers joined by `separator`, typed "Other" text in place of a label."""
    fields = [Field(i, header.strip() or column_letter(i), header.strip(), role=metadata_role(header))
              for i, header in enumerate(table.header)]
    cells, lines = body(table, 0)
    return Export(name, file, table.unit, fields, cells, lines, SUBMITTED_ONLY, separator=separator,
                  other_in_place=True, sheet=table.sheet, notes=list(table.notes))
