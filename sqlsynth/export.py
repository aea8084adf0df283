"""Write finished rows in the formats training and sharing tools read.

Formats: ``jsonl`` and ``json`` (plain), ``parquet`` (pyarrow, imported only here), ``hf`` (a
folder that ``datasets.load_from_disk`` and ``datasets.load_dataset`` both read, with a dataset
card; ``push_to_hub`` uploads it),
``llamafactory-alpaca`` and ``llamafactory-sharegpt`` (records plus a ``dataset_info.json``
entry, so LLaMA-Factory can train on the folder as it is), ``rl`` (RL prompts in verl's or TRL's
layout, parquet and JSONL: :mod:`sqlsynth.training.rl`), ``dpo`` (preference pairs from the
graded reasoning answers, in TRL's or LLaMA-Factory's layout: :mod:`sqlsynth.training.dpo`). Reading rows back is the storage
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

from sqlsynth.errors import MissingDependencyError
from sqlsynth.extras import install_hint

EXPORT_FORMATS = ("jsonl", "json", "parquet", "hf", "llamafactory-alpaca",
                  "llamafactory-sharegpt", "rl", "dpo")
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
    "cot_candidates": "quality: every reasoning answer graded against the row's result",
    "contamination": "overlaps with public benchmark items (benchmark, item, kind, score)",
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
    provenance: Mapping[str, Any] | None = None,
    license: str = "unknown",
    quality_fields: bool = True,
    rl: Any = None,
    database_manager: Any = None,
    dpo: Any = None,
) -> ExportSummary:
    """Write ``rows`` to ``out_path`` in ``fmt``; see the module docstring for the formats.

    ``out_path`` is a file for jsonl/json/parquet (or a folder, existing or written with a
    trailing slash, that receives ``<dataset_name>.<fmt>``) and a folder for ``hf``. For the
    LLaMA-Factory formats it is either the data file (``.json``/``.jsonl``; ``dataset_info.json``
    goes next to it) or a folder that receives ``<dataset_name>.json`` and ``dataset_info.json``.
    ``provenance`` (models, seed, databases, steps, label counts: see
    ``sqlsynth.viewer.provenance``) and ``license`` go into the hf card.
    ``quality_fields=False`` leaves out the verification metadata (``QUALITY_FIELDS``:
    judge verdict, vote, round-trip agreement, checks passed, original SQL).
    ``rl`` (a ``sqlsynth.training.rl.RLOptions``) sets the RL layout and pass-rate band;
    ``out_path`` is then a folder receiving ``<dataset_name>.parquet`` and ``.jsonl``. With a
    ``database_manager`` each RL record carries its gold result's fingerprint.
    ``dpo`` (a ``sqlsynth.training.dpo.DPOOptions``) sets the preference layout; ``trl`` writes
    ``<dataset_name>.parquet`` and ``.jsonl`` in the folder ``out``, the LLaMA-Factory layouts
    write as their SFT formats do, with a ranking entry.
    """
    if fmt not in EXPORT_FORMATS:
        choices = ", ".join(EXPORT_FORMATS)
        raise ValueError(f"unknown export format {fmt!r}; choose one of {choices}")
    out = Path(out_path)
    if fmt in ("jsonl", "json", "parquet") and (out.is_dir() or _names_folder(out_path)):
        # ``--out export/`` works for every format, as it does for hf and LLaMA-Factory
        out = out / f"{dataset_name or DEFAULT_DATASET_NAME}.{fmt}"
    summary = ExportSummary()
    if fmt == "dpo":
        # the pairs are made of the graded candidates, a quality field: read them first
        _write_dpo(_plain_rows(rows, summary), out, dataset_name, dpo, summary)
        summary.skipped_rows.sort()
        return summary
    if not quality_fields:
        from sqlsynth.operators.quality import QUALITY_FIELDS

        rows = ({k: v for k, v in r.items() if k not in QUALITY_FIELDS}
                if isinstance(r, Mapping) else r for r in rows)
    plain = _plain_rows(rows, summary)
    if fmt == "rl":
        _write_rl(plain, out, dataset_name, rl, database_manager, summary)
    elif fmt in LLAMAFACTORY_FORMATS:
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
        _write_hf(out, [r for _, r in plain], dataset_name, summary, provenance, license)
    if fmt not in (*LLAMAFACTORY_FORMATS, "rl", "dpo"):
        summary.written = len(plain)
    summary.skipped_rows.sort()
    return summary


def _write_rl(plain: list[tuple[int, dict[str, Any]]], out: Path, dataset_name: str | None,
              options: Any, manager: Any, summary: ExportSummary) -> None:
    """RL records as ``<name>.parquet`` and ``<name>.jsonl`` in the folder ``out``."""
    from sqlsynth.training.rl import RLOptions, gold_fingerprints, rl_records

    options = options or RLOptions()
    fingerprint = gold_fingerprints(manager) if manager is not None else None
    if fingerprint is None:
        summary.notes.append("no database given: the records carry no gold result fingerprint")
    records = rl_records(plain, options, summary.skip, fingerprint)
    name = dataset_name or f"{DEFAULT_DATASET_NAME}_rl_{options.layout}"
    folder = out.parent if out.suffix in (".parquet", ".jsonl") else out
    stem = out.stem if out.suffix in (".parquet", ".jsonl") else name
    _write_parquet(folder / f"{stem}.parquet", records, summary)
    _write_jsonl(folder / f"{stem}.jsonl", records)
    summary.paths += [folder / f"{stem}.parquet", folder / f"{stem}.jsonl"]
    summary.written = len(records)


def _write_dpo(plain: list[tuple[int, dict[str, Any]]], out: Path, dataset_name: str | None,
               options: Any, summary: ExportSummary) -> None:
    """Preference pairs: parquet + JSONL for TRL, a ranking dataset for LLaMA-Factory."""
    from sqlsynth.training.dpo import DPOOptions, PairCounts, preference_records

    options = options or DPOOptions()
    counts = PairCounts()
    records = preference_records(plain, options, summary.skip, counts)
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(counts.by_reason.items())) or "-"
    summary.notes.append(f"{counts.pairs} preference pairs from {counts.rows_paired} rows; "
                         f"rejected answers: {reasons}")
    if options.layout == "trl":
        folder = out.parent if out.suffix in (".parquet", ".jsonl") else out
        stem = (out.stem if out.suffix in (".parquet", ".jsonl")
                else dataset_name or f"{DEFAULT_DATASET_NAME}_dpo")
        _write_parquet(folder / f"{stem}.parquet", records, summary)
        _write_jsonl(folder / f"{stem}.jsonl", records)
        summary.paths += [folder / f"{stem}.parquet", folder / f"{stem}.jsonl"]
    else:
        name = dataset_name
        if name is None and not (out.suffix in (".json", ".jsonl") and not out.is_dir()):
            name = f"{DEFAULT_DATASET_NAME}_dpo_{options.layout.split('-')[1]}"
        _write_llamafactory(records, out, options.layout, name, summary, ranking=True)
    summary.written = len(records)


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
    from sqlsynth.storage.formats import strict_json

    return strict_json(obj, indent=indent)  # RFC 8259: NaN/Infinity become null


def _atomic_write(path: Path, text: str) -> None:
    """Readers never see half a file (:mod:`sqlsynth.storage.atomic`)."""
    from sqlsynth.storage.atomic import write_bytes_atomic

    write_bytes_atomic(path, text.encode("utf-8"))


def _write_jsonl(path: Path, rows: list[Any]) -> None:
    _atomic_write(path, "".join(_dumps(r) + "\n" for r in rows))


def _arrow_table(rows: list[dict[str, Any]], summary: ExportSummary,
                 mixed: set[str] | None = None) -> Any:
    """One column per field (union over rows, first-seen order; absent values are null).

    A column whose values pyarrow cannot give one type (say numbers and text mixed) is stored
    as JSON text instead, a note says so, and its name is added to ``mixed``.
    """
    import pyarrow as pa

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
            if mixed is not None:
                mixed.add(name)
    return pa.table(arrays) if arrays else pa.table({})


def _write_parquet(path: Path, rows: list[dict[str, Any]], summary: ExportSummary) -> None:
    """Columns as :func:`_arrow_table` makes them, written through a temporary file."""
    import pyarrow.parquet as pq

    table = _arrow_table(rows, summary)
    from sqlsynth.storage.atomic import atomic_path

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _type_name(values: list[Any]) -> str:
    kinds = {type(v).__name__ for v in values if v is not None}
    labels = {"str": "string", "int": "integer", "float": "number", "bool": "boolean",
              "list": "list", "dict": "object"}
    if kinds == {"int", "float"}:
        return "number"
    return " or ".join(sorted(labels.get(k, k) for k in kinds)) or "null"


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "n>1M"


def _feature_yaml(name: str | None, arrow_type: Any, indent: str) -> list[str]:
    """A column's type in the card's ``dataset_info.features`` notation (datasets' YAML)."""
    import pyarrow as pa

    head = f"{indent}- name: {name}" if name is not None else None
    inner = indent + "  "
    simple = {pa.string(): "string", pa.large_string(): "string", pa.int64(): "int64",
              pa.float64(): "float64", pa.bool_(): "bool", pa.null(): "null"}
    lines = [head] if head else []
    if arrow_type in simple:
        return lines + [f"{inner}dtype: {simple[arrow_type]}"]
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        value = arrow_type.value_type
        if value in simple:
            return lines + [f"{inner}sequence: {simple[value]}"]
        return lines + [f"{inner}sequence:"] + _feature_yaml("element", value, inner + "  ")[1:]
    if pa.types.is_struct(arrow_type):
        out = lines + [f"{inner}struct:"]
        for child in arrow_type:
            out += _feature_yaml(child.name, child.type, inner)
        return out
    return lines + [f"{inner}dtype: {arrow_type}"]


def _provenance_lines(prov: Mapping[str, Any]) -> list[str]:
    """The card's "How it was made" section from a run folder's record."""
    lines = ["## How it was made", ""]
    facts = [("pipeline", prov.get("pipeline")), ("chat model", prov.get("model")),
             ("embedding model", prov.get("embedding_model")), ("seed", prov.get("seed")),
             ("databases", ", ".join(prov.get("databases") or [])),
             ("rows dropped during the run", prov.get("rejected_in_run")),
             ("reviewed by a person", ", ".join(f"{v} {k}ed" for k, v in
                                               (prov.get("review") or {}).items() if v))]
    lines += [f"- **{k}**: {v}" for k, v in facts if v not in (None, "")]
    steps = prov.get("steps") or []
    if steps:
        lines += ["", "| step | operator | rows in | rows out |", "|---|---|---|---|"]
        lines += [f"| {s['step']} | {s['name']} | {s['rows_in']} | {s['rows_out']} |"
                  for s in steps]
    for name, counts in (prov.get("labels") or {}).items():
        lines += ["", f"**{name}**: " + ", ".join(f"{k} {v}" for k, v in counts.items())]
    return lines + [""]


def _training_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The card's "Training signals" section: pass rates, preference pairs, contamination."""
    from sqlsynth.training.dpo import pair_counts
    from sqlsynth.training.rl import pass_rate

    rates = [r for r in (pass_rate(row) for row in rows) if r is not None]
    graded = [r for r in rows if isinstance(r.get("cot_candidates"), list)]
    checked = [r for r in rows if isinstance(r.get("contamination"), list)]
    if not (rates or graded or checked):
        return []
    lines = ["## Training signals", ""]
    if rates:
        band = sum(1 for r in rates if 0.1 <= r <= 0.9)
        lines.append(f"- **solver pass rate**: measured on {len(rates)} rows, {band} in the "
                     "learnable band 0.1-0.9 (`sqlsynth export --format rl`)")
    if graded:
        counts = pair_counts(rows)
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(counts["rejected_reasons"].items()))
        unpaired = ", ".join(f"{k}: {v}" for k, v in sorted(counts["unpaired"].items()))
        lines.append(f"- **preference pairs** (`--format dpo`): {counts['rows_paired']} rows give "
                     f"a pair (rejected answer: {reasons or '-'}); no pair: {unpaired or '-'}")
    if checked:
        flagged = [r for r in checked if r["contamination"]]
        names = sorted({str(m.get("benchmark")) for r in flagged for m in r["contamination"]
                        if isinstance(m, Mapping)})
        lines.append(f"- **benchmark contamination**: {len(flagged)} of {len(checked)} rows "
                     f"checked overlap a benchmark item ({', '.join(names) or 'none'}); see "
                     "each row's `contamination`")
    return lines + [""]


def _write_hf(folder: Path, rows: list[dict[str, Any]], dataset_name: str | None,
              summary: ExportSummary, provenance: Mapping[str, Any] | None = None,
              license_id: str = "unknown") -> None:
    """A folder both loaders read, and a card to publish it with.

    ``data/train.jsonl`` plus a README whose YAML header points ``datasets.load_dataset`` (and
    the Hub) at it; with ``datasets`` installed also ``dataset_dict.json`` and ``train/``
    (arrow), which ``datasets.load_from_disk`` reads. Column types come from one arrow table,
    so the card's features are the types both loaders give.
    """
    mixed: set[str] = set()
    try:
        table = _arrow_table(rows, summary, mixed)
    except ImportError:
        table = None
        summary.notes.append("pyarrow is not installed: the card lists no features and the "
                             f"folder does not load with load_from_disk ({install_hint('hf')})")
    data_rows = [{k: (_dumps(v) if k in mixed and v is not None else v) for k, v in r.items()}
                 for r in rows]
    data = folder / "data" / "train.jsonl"
    _write_jsonl(data, data_rows)
    summary.paths.append(data)
    disk = _save_to_disk(folder, table, summary) if table is not None else False
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    field_table = ["| field | type | description |", "|---|---|---|"]
    for name in names:
        present = [r[name] for r in rows if name in r]
        kind = _type_name(present)
        if len(present) < len(rows):
            kind += f" (in {len(present)} of {len(rows)} rows)"
        field_table.append(f"| `{name}` | {kind} | {FIELD_DESCRIPTIONS.get(name, '')} |")
    features: list[str] = []
    for column in table.schema if table is not None else []:
        features += _feature_yaml(column.name, column.type, "  ")
    title = dataset_name or folder.name or DEFAULT_DATASET_NAME
    num_bytes = data.stat().st_size
    load_lines = [
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("path/to/this/folder", split="train")  # or the Hub repo id',
    ]
    if disk:
        load_lines += ["from datasets import load_from_disk",
                       'ds = load_from_disk("path/to/this/folder")["train"]  # local copy']
    load_lines.append("```")
    card = "\n".join([
        "---",
        f"license: {_dumps(license_id)}",
        f"pretty_name: {_dumps(title)}",
        "task_categories:",
        "- table-question-answering",
        "- text-generation",
        "size_categories:",
        f"- {_size_category(len(rows))}",
        "tags:",
        "- text-to-sql",
        "- synthetic",
        "- sqlsynth",
        "configs:",
        "- config_name: default",
        "  data_files:",
        "  - split: train",
        "    path: data/train.jsonl",
        "dataset_info:",
        "  features:",
        *(features or ["  []"]),
        "  splits:",
        "  - name: train",
        f"    num_bytes: {num_bytes}",
        f"    num_examples: {len(rows)}",
        f"  dataset_size: {num_bytes}",
        "---",
        "",
        f"# {title}",
        "",
        f"Text-to-SQL training data written by sqlsynth: {len(rows)} rows in",
        "`data/train.jsonl`, one JSON object per line.",
        "",
        *load_lines,
        "",
        *(_provenance_lines(provenance) if provenance else []),
        *_training_lines(rows),
        "## Fields",
        "",
        *field_table,
        "",
        "## License",
        "",
        f"`{license_id}`" + (" — set it with `sqlsynth export --license ID`: the rows are "
                             "derived from your databases, whose terms apply."
                             if license_id == "unknown" else "."),
        "",
    ])
    readme = folder / "README.md"
    _atomic_write(readme, card)
    summary.paths.append(readme)


def _save_to_disk(folder: Path, table: Any, summary: ExportSummary) -> bool:
    """``dataset_dict.json`` + ``train/`` for ``load_from_disk``; a note when datasets is absent."""
    try:
        import datasets
    except ImportError:
        summary.notes.append("datasets is not installed: the folder loads with load_dataset but "
                             f"not load_from_disk ({install_hint('hf')})")
        return False
    import shutil

    shutil.rmtree(folder / "train", ignore_errors=True)
    was = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bar()
    try:
        datasets.DatasetDict({"train": datasets.Dataset(table)}).save_to_disk(str(folder))
    finally:
        if was:
            datasets.enable_progress_bar()
    summary.paths += [folder / "dataset_dict.json", folder / "train"]
    return True


#: files of an hf export the Hub serves (the arrow copy is for load_from_disk, local only)
HUB_FILES = ("README.md", "data/*")


def push_to_hub(folder: str | os.PathLike[str], repo_id: str, *, private: bool = False,
                token: str | None = None) -> str:
    """Upload an hf export (card and data) to a Hugging Face dataset repo; returns its URL.

    The token comes from ``token``, ``HF_TOKEN`` or a ``huggingface-cli login``; it is never
    printed or written.
    """
    path = Path(folder)
    if not (path / "README.md").is_file() or not (path / "data" / "train.jsonl").is_file():
        raise FileNotFoundError(f"{path} is not an hf export (no README.md and data/train.jsonl)")
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise MissingDependencyError("--push-to-hub", "huggingface_hub", "hf") from None
    api = HfApi(token=token)
    repo = api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(folder_path=str(path), repo_id=repo_id, repo_type="dataset",
                      allow_patterns=list(HUB_FILES),
                      commit_message="sqlsynth export: card and data")
    return str(getattr(repo, "url", None) or f"https://huggingface.co/datasets/{repo_id}")


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


def _dataset_info_entry(file_name: str, fmt: str, ranking: bool = False) -> dict[str, Any]:
    """The ``dataset_info.json`` entry; ``ranking`` for preference data (chosen/rejected)."""
    answer = {"chosen": "chosen", "rejected": "rejected"} if ranking else None
    if fmt == "llamafactory-alpaca":
        if answer:
            return {"file_name": file_name, "ranking": True,
                    "columns": {"prompt": "instruction", "query": "input", **answer}}
        return {"file_name": file_name,
                "columns": {"prompt": "instruction", "query": "input", "response": "output"}}
    return {"file_name": file_name, "formatting": "sharegpt",
            **({"ranking": True} if answer else {}),
            "columns": {"messages": "conversations", **(answer or {})},
            "tags": {"role_tag": "from", "content_tag": "value",
                     "user_tag": "human", "assistant_tag": "gpt"}}


def _write_llamafactory(records: list[dict[str, Any]], out: Path, fmt: str,
                        dataset_name: str | None, summary: ExportSummary,
                        ranking: bool = False) -> None:
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
    info[name] = _dataset_info_entry(data.name, fmt, ranking)
    _atomic_write(info_path, _dumps(info, indent=2) + "\n")
    summary.paths += [data, info_path]


__all__ = ["EXPORT_FORMATS", "ExportSummary", "export_rows", "push_to_hub"]
