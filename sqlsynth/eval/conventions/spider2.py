"""Spider 2.0's result-table comparison (spider2-lite ``evaluation_suite/evaluate.py``).

Spider 2.0 compares result *tables*, not queries: the prediction's result is written to CSV and
read back, the gold result is a CSV file (``<id>.csv``, or variants ``<id>_a.csv``, ``<id>_b.csv``
... any of which may match). The comparison (``compare_pandas_table``):
* every gold column (or only the gold columns listed in ``condition_cols``, by 0-based
  position) must equal *some* predicted column, so extra predicted columns and any column order
  are accepted;
* two columns are equal when they have the same length and agree cell by cell, numbers within
  an absolute tolerance of 0.01, other values exactly; missing cells (empty, NA, null, ...)
  count as 0; with ``ignore_order`` both columns are first sorted by the text of their values;
* cell types are those pandas' ``read_csv`` infers per column (a column of integers reads as
  numbers, one with any non-numeric text as text, ``True``/``False`` as booleans), which is
  reproduced here without pandas.
Predicted SQL is first cut to the first fenced ```sql block if it has one.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TOLERANCE = 1e-2
#: Cell texts pandas reads as missing by default.
NA_TEXTS = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                      "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a",
                      "nan", "null"})
_TRUE, _FALSE = {"True", "TRUE", "true"}, {"False", "FALSE", "false"}
_INT = re.compile(r"^\s*[-+]?\d+\s*$")
_FENCED = re.compile(r"```sql\n(.*?)\n```", re.DOTALL)
_MISSING = object()


def extract_sql(text: str) -> str:
    m = _FENCED.search(text)
    return m.group(1).strip() if m else text


def _as_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _typed_column(cells: list[str]) -> list[Any]:
    """One CSV column with the types pandas would give it (missing cells -> _MISSING)."""
    present = [c for c in cells if c not in NA_TEXTS]
    if present and all(_INT.match(c) for c in present):
        if len(present) == len(cells):
            return [int(c) for c in cells]
        return [float(c) if c not in NA_TEXTS else _MISSING for c in cells]
    if present and all(_as_float(c) is not None for c in present):
        return [float(c) if c not in NA_TEXTS else _MISSING for c in cells]
    if present and all(c in _TRUE or c in _FALSE for c in present):
        return [(c in _TRUE) if c not in NA_TEXTS else _MISSING for c in cells]
    return [c if c not in NA_TEXTS else _MISSING for c in cells]


def read_csv_columns(text: str) -> list[list[Any]]:
    """Columns (lists of typed cells) of a CSV text with a header line."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValueError("empty CSV: no header")
    width = len(rows[0])
    body = [(r + [""] * width)[:width] for r in rows[1:] if r]
    return [_typed_column([r[i] for r in body]) for i in range(width)]


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    if isinstance(value, bytes):
        return repr(value)
    return str(value)


def result_csv(columns: Sequence[str], rows: Sequence[tuple]) -> str:
    """The CSV text pandas' ``to_csv(index=False)`` would write for a query result."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell_text(v) for v in row])
    return out.getvalue()


def _normal(value: Any) -> Any:
    return 0 if value is _MISSING else value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float))


def columns_match(gold: list[Any], pred: list[Any], ignore_order: bool) -> bool:
    a, b = [_normal(v) for v in gold], [_normal(v) for v in pred]
    if ignore_order:
        def key(x: Any) -> tuple:
            return (x is None, str(x), _is_number(x))

        a, b = sorted(a, key=key), sorted(b, key=key)
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if _is_number(x) and _is_number(y):
            if not math.isclose(float(x), float(y), abs_tol=TOLERANCE):
                return False
        elif x != y:
            return False
    return True


def table_matches(pred: list[list[Any]], gold: list[list[Any]],
                  condition_cols: Sequence[int] | int | None = None,
                  ignore_order: bool = False) -> bool:
    """``compare_pandas_table(pred, gold, condition_cols, ignore_order)``."""
    if condition_cols:
        picks = condition_cols if isinstance(condition_cols, (list, tuple)) else [condition_cols]
        gold = [gold[i] for i in picks]
    return all(any(columns_match(g, p, ignore_order) for p in pred) for g in gold)


def any_table_matches(pred: list[list[Any]], golds: list[list[list[Any]]],
                      condition_cols: Any = None, ignore_order: bool = False) -> bool:
    """``compare_multi_pandas_table``: some gold variant matches."""
    if not golds:
        return False
    if condition_cols in (None, [], [[]], [None]):
        per_gold: list[Any] = [[] for _ in golds]
    elif len(golds) > 1 and not all(isinstance(c, list) for c in condition_cols):
        per_gold = [condition_cols for _ in golds]
    else:
        per_gold = list(condition_cols)
    return any(table_matches(pred, g, per_gold[i], ignore_order) for i, g in enumerate(golds))


def gold_paths(spec: Any, base: Path | None, instance_id: str | None) -> list[Path]:
    """Gold CSV files: the record's ``gold_csv`` (a path or list of paths, relative to the gold
    file's folder), else ``<id>.csv`` or its ``<id>_<letter>.csv`` variants in that folder."""
    root = base or Path(".")
    if spec:
        names = spec if isinstance(spec, list) else [spec]
        return [p if p.is_absolute() else root / p for p in (Path(str(n)) for n in names)]
    if not instance_id:
        return []
    single = root / f"{instance_id}.csv"
    if single.is_file():
        return [single]
    pattern = re.compile(rf"^{re.escape(instance_id)}(_[a-z])?\.csv$")
    return sorted(root / f for f in (p.name for p in root.iterdir()) if pattern.match(f)) \
        if root.is_dir() else []
