"""Write finished rows in the formats training and sharing tools read.

Formats: ``jsonl`` and ``json`` (plain), ``parquet`` (pyarrow, imported only here), ``hf`` (a
folder with ``data/train.jsonl`` and a dataset card that ``datasets.load_dataset`` understands),
``llamafactory-alpaca`` and ``llamafactory-sharegpt`` (records plus a ``dataset_info.json``
entry, so LLaMA-Factory can train on the folder as it is). Reading rows back is the storage
layer's job, not this module's.

Rows that cannot be written (not an object, a value JSON cannot hold, or, for LLaMA-Factory, no
usable prompt or chain of thought) are skipped and every skip is counted with its reason.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

EXPORT_FORMATS = ("jsonl", "json", "parquet", "hf", "llamafactory-alpaca",
                  "llamafactory-sharegpt")
LLAMAFACTORY_FORMATS = ("llamafactory-alpaca", "llamafactory-sharegpt")
DEFAULT_DATASET_NAME = "sqlsynth_text2sql"

FIELD_DESCRIPTIONS = {
    "id": "identifier carried over from the input",
    "db_id": "database the question is asked against",
    "question": "natural-language question",
    "question_type": "style of the question",
    "evidence": "external knowledge needed to answer the question",
    "SQL": "gold SQL query answering the question",
    "sql_variation_type": "kind of variation applied to the source SQL (refinement only)",
    "sql_complexity_type": "complexity the SQL was generated for (synthesis only)",
    "prompt": "training prompt: schema, question and instructions",
    "cot_reasoning": "step-by-step reasoning ending in the SQL, the training target",
    "sql_component_difficulty": "Spider-style difficulty from the SQL's components",
    "sql_execution_difficulty": "difficulty from how often a model's SQL executes correctly",
    "judge_verdict": "quality: the LLM judge's verdict on question vs SQL",
    "cot_vote": "quality: reasoning answers returning the row's result / answers that ran",
    "roundtrip_agreement": "quality: solver answers returning the row's result / answers asked",
    "checks_passed": "quality: the verification checks the row passed, in order",
    "original_SQL": "quality: the row's SQL before an adopt_majority vote replaced it",
}


@dataclass
class ExportSummary:
    """What an export wrote and what it left out, and why."""

    written: int = 0
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    skipped_rows: list[tuple[int, str]] = field(default_factory=list)
    """(0-based input position, reason) for every skipped row."""
    paths: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skip(self, index: int, reason: str) -> None:
        self.skipped += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        self.skipped_rows.append((index, reason))


def export_rows(
    rows: Iterable[Mapping[str, Any]],
    out_path: str | os.PathLike[str],
    fmt: str,
    *,
    dataset_name: str | None = None,
    prompt_key: str = "prompt",
    output_key: str = "cot_reasoning",
    quality_fields: bool = True,
) -> ExportSummary:
    """Write ``rows`` to ``out_path`` in ``fmt``; see the module docstring for the formats.

    ``out_path`` is a file for jsonl/json/parquet (or a folder, existing or written with a
    trailing slash, that receives ``<dataset_name>.<fmt>``) and a folder for ``hf``. For the
    LLaMA-Factory formats it is either the data file (``.json``/``.jsonl``; ``dataset_info.json``
    goes next to it) or a folder that receives ``<dataset_name>.json`` and ``dataset_info.json``.
    ``quality_fields=False`` leaves out the verification metadata (``QUALITY_FIELDS``:
    judge verdict, vote, round-trip agreement, checks passed, original SQL).
    """
    if fmt not in EXPORT_FORMATS:
        choices = ", ".join(EXPORT_FORMATS)
        raise ValueError(f"unknown export format {fmt!r}; choose one of {choices}")
    out = Path(out_path)
    if fmt in ("jsonl", "json", "parquet") and (out.is_dir() or _names_folder(out_path)):
        # ``--out export/`` works for every format, as it does for hf and LLaMA-Factory
        out = out / f"{dataset_name or DEFAULT_DATASET_NAME}.{fmt}"
    summary = ExportSummary()
    if not quality_fields:
        from sqlsynth.operators.quality import QUALITY_FIELDS

        rows = ({k: v for k, v in r.items() if k not in QUALITY_FIELDS}
                if isinstance(r, Mapping) else r for r in rows)
    plain = _plain_rows(rows, summary)
    if fmt in LLAMAFACTORY_FORMATS:
        records = _llamafactory_records(plain, fmt, prompt_key, output_key, summary)
        _write_llamafactory(records, out, fmt, dataset_name, summary)
    elif fmt == "jsonl":
        _write_jsonl(out, [r for _, r in plain])
        summary.paths.append(out)
    elif fmt == "json":
        _atomic_write(out, _dumps([r for _, r in plain], indent=2) + "\n")
        summary.paths.append(out)
    elif fmt == "parquet":
        _write_parquet(out, [r for _, r in plain], summary)
        summary.paths.append(out)
    else:
        _write_hf(out, [r for _, r in plain], dataset_name, summary)
    if fmt not in LLAMAFACTORY_FORMATS:
        summary.written = len(plain)
    summary.skipped_rows.sort()
    return summary


def _names_folder(out_path: str | os.PathLike[str]) -> bool:
    """Whether the path was written as a folder (a trailing separator, lost by ``Path``)."""
    text = os.fspath(out_path)
    return text.endswith(("/", os.sep))


def _plain_rows(rows: Iterable[Mapping[str, Any]], summary: ExportSummary
                ) -> list[tuple[int, dict[str, Any]]]:
    """Rows as plain JSON values, keeping their input position; unwritable rows are skipped."""
    out = []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            summary.skip(index, f"row is not an object but {type(row).__name__}")
            continue
        try:
            out.append((index, {str(k): _plain(v, str(k)) for k, v in row.items()}))
        except _Unwritable as exc:
            summary.skip(index, str(exc))
    return out


class _Unwritable(ValueError):
    pass


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON types; dates, decimals, paths and enums become their usual text."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Unwritable(f"field {where!r} is {value}, which JSON cannot hold")
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value, where)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, PurePath)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise _Unwritable(f"field {where!r} holds a {type(value).__name__}, which JSON cannot hold")


def _dumps(obj: Any, indent: int | None = None) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=indent)


def _atomic_write(path: Path, text: str) -> None:
    """Write via a sibling temporary file so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _write_jsonl(path: Path, rows: list[Any]) -> None:
    _atomic_write(path, "".join(_dumps(r) + "\n" for r in rows))


def _write_parquet(path: Path, rows: list[dict[str, Any]], summary: ExportSummary) -> None:
    """One column per field (union over rows, first-seen order; absent values are null).

    A column whose values pyarrow cannot give one type (say numbers and text mixed) is stored
    as JSON text instead, and a note says so.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    arrays = {}
    for name in names:
        values = [row.get(name) for row in rows]
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays[name] = pa.array([None if v is None else _dumps(v) for v in values],
                                    type=pa.string())
            summary.notes.append(f"column {name!r} has mixed types; stored as JSON text")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.table(arrays) if arrays else pa.table({}), tmp)
    os.replace(tmp, path)


def _type_name(values: list[Any]) -> str:
    kinds = {type(v).__name__ for v in values if v is not None}
    labels = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
              "list": "list", "dict": "object"}
    if kinds == {"int", "float"}:
        return "number"
    return " or ".join(sorted(labels.get(k, k) for k in kinds)) or "null"


def _write_hf(folder: Path, rows: list[dict[str, Any]], dataset_name: str | None,
              summary: ExportSummary) -> None:
    """``data/train.jsonl`` plus a README whose YAML header points ``load_dataset`` at it."""
    data = folder / "data" / "train.jsonl"
    _write_jsonl(data, rows)
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    table = ["| field | type | description |", "|---|---|---|"]
    for name in names:
        present = [r[name] for r in rows if name in r]
        kind = _type_name(present)
        if len(present) < len(rows):
            kind += f" (in {len(present)} of {len(rows)} rows)"
        table.append(f"| `{name}` | {kind} | {FIELD_DESCRIPTIONS.get(name, '')} |")
    title = dataset_name or folder.name or DEFAULT_DATASET_NAME
    card = "\n".join([
        "---",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        "    path: data/train.jsonl",
        "tags:",
        "- text-to-sql",
        "- synthetic",
        "---",
        "",
        f"# {title}",
        "",
        f"Text-to-SQL training data written by sqlsynth: {len(rows)} rows in",
        "`data/train.jsonl`, one JSON object per line.",
        "",
        "```python",
        "from datasets import load_dataset",
        "# from inside this folder; or load_dataset(<this folder>) from anywhere",
        'ds = load_dataset("json", data_files="data/train.jsonl", split="train")',
        "```",
        "",
        "## Fields",
        "",
        *table,
        "",
    ])
    readme = folder / "README.md"
    _atomic_write(readme, card)
    summary.paths += [data, readme]


def _llamafactory_records(plain: list[tuple[int, dict[str, Any]]], fmt: str, prompt_key: str,
                          output_key: str, summary: ExportSummary) -> list[dict[str, Any]]:
    records = []
    for index, row in plain:
        reason = _missing_text(row, prompt_key) or _missing_text(row, output_key)
        if reason:
            summary.skip(index, reason)
            continue
        prompt, answer = row[prompt_key], row[output_key]
        if fmt == "llamafactory-alpaca":
            records.append({"instruction": prompt, "input": "", "output": answer})
        else:
            records.append({"conversations": [{"from": "human", "value": prompt},
                                              {"from": "gpt", "value": answer}]})
    summary.written = len(records)
    return records


def _missing_text(row: Mapping[str, Any], key: str) -> str | None:
    if row.get(key) is None:
        return f"missing {key!r}"
    if not isinstance(row[key], str):
        return f"{key!r} is not text"
    if not row[key].strip():
        return f"empty {key!r}"
    return None


def _dataset_info_entry(file_name: str, fmt: str) -> dict[str, Any]:
    if fmt == "llamafactory-alpaca":
        return {"file_name": file_name,
                "columns": {"prompt": "instruction", "query": "input", "response": "output"}}
    return {"file_name": file_name, "formatting": "sharegpt",
            "columns": {"messages": "conversations"},
            "tags": {"role_tag": "from", "content_tag": "value",
                     "user_tag": "human", "assistant_tag": "gpt"}}


def _write_llamafactory(records: list[dict[str, Any]], out: Path, fmt: str,
                        dataset_name: str | None, summary: ExportSummary) -> None:
    """The records file plus its entry in ``dataset_info.json`` (other entries are kept)."""
    if out.suffix in (".json", ".jsonl") and not out.is_dir():
        data, name = out, dataset_name or out.stem
    else:
        name = dataset_name or f"{DEFAULT_DATASET_NAME}_{fmt.split('-')[1]}"
        data = out / f"{name}.json"
    if data.suffix == ".jsonl":
        _write_jsonl(data, records)
    else:
        _atomic_write(data, _dumps(records, indent=2) + "\n")
    info_path = data.parent / "dataset_info.json"
    info: dict[str, Any] = {}
    if info_path.exists():
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{info_path}:{exc.lineno}: not valid JSON ({exc.msg}); "
                             "fix or remove it before exporting") from exc
        if not isinstance(info, dict):
            raise ValueError(f"{info_path}:1: expected a JSON object of dataset entries")
    info[name] = _dataset_info_entry(data.name, fmt)
    _atomic_write(info_path, _dumps(info, indent=2) + "\n")
    summary.paths += [data, info_path]


__all__ = ["EXPORT_FORMATS", "ExportSummary", "export_rows"]
