"""What the table-shaped exports (CSV and workbooks) share: header rows above the responses."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamsurvey.data.readers import Column, Table


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
