"""Rows <-> pandas DataFrames, for operators written against the reference's storage contract.

pandas is imported only here, and only when such an operator runs (``sqlsynth[pandas]``).
Missing values come back as ``None`` and numpy scalars as plain Python values, so a row that
goes through a DataFrame is written the same way a streamed row is.
"""

from __future__ import annotations

import math
from typing import Any

Row = dict[str, Any]


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        from sqlsynth.errors import MissingDependencyError

        raise MissingDependencyError("read('dataframe')", "pandas", "pandas") from None
    return pandas


def rows_to_dataframe(rows: list[Row]) -> Any:
    return _pandas().DataFrame(rows)


def dataframe_to_rows(frame: Any) -> list[Row]:
    """The frame's records as JSON-ready dicts (NaN -> None, numpy values -> Python values)."""
    pandas = _pandas()
    if not isinstance(frame, pandas.DataFrame):
        raise TypeError(f"write() takes a pandas DataFrame or a list of dicts, got {type(frame)!r}")
    return [{str(k): _plain(v, pandas) for k, v in record.items()}
            for record in frame.to_dict(orient="records")]


def _plain(value: Any, pandas: Any) -> Any:
    if isinstance(value, (list, dict, str)) or value is None:
        return value
    if hasattr(value, "item") and hasattr(value, "dtype"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pandas.NA or value is pandas.NaT:
        return None
    if isinstance(value, pandas.Timestamp):
        return value.isoformat()
    return value
