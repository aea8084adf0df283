"""Reading gold and predicted SQL for evaluation.

Accepted files:
* JSON lines (``.jsonl``) or a JSON array (``.json``, e.g. Spider's ``dev.json``): objects
  with ``db_id``, the SQL in ``SQL``, ``sql`` or ``query``, and optional ``question``, ``id``.
  A prediction's SQL may be a list of candidates (majority voting @k); a gold record may
  carry a BIRD ``difficulty`` and, for Spider 2.0, ``gold_csv``/``condition_cols``/
  ``ignore_order``; a prediction may name a result CSV (``pred_csv``) instead of SQL.
* Spider's classic text formats: gold ``.sql``/``.txt`` lines ``SQL<TAB>db_id``; predictions
  one SQL per line (anything after a tab is ignored). Blank lines are skipped, as Spider does.

Gold and predictions are paired by ``id`` when every record of both files has one, else by
position, and then both files must hold the same number of records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlsynth.errors import InputFormatError

SQL_FIELDS = ("SQL", "sql", "query")


def _bad(path: str | Path, line: int | None, field: str | None, message: str) -> InputFormatError:
    return InputFormatError(path, message, line=line, field=field)


@dataclass(frozen=True)
class EvalItem:
    """One gold/prediction pair; ``pred_sql`` is None when the prediction is missing."""

    db_id: str
    gold_sql: str
    pred_sql: str | None
    question: str | None = None
    id: str | None = None
    difficulty: str | None = None
    candidates: tuple[str, ...] | None = None
    gold_meta: dict[str, Any] | None = None
    pred_meta: dict[str, Any] | None = None


#: Gold/prediction fields kept for the conventions that read them (BIRD, Spider 2.0).
META_FIELDS = ("gold_csv", "condition_cols", "ignore_order", "pred_csv", "instance_id")


@dataclass(frozen=True)
class _Record:
    line: int
    sql: str | None
    db_id: str | None = None
    question: str | None = None
    id: str | None = None
    difficulty: str | None = None
    candidates: tuple[str, ...] | None = None
    meta: dict[str, Any] | None = None


BIRD_SEPARATOR = "\t----- bird -----\t"


def _bird_predictions(path: Path, text: str) -> list[_Record] | None:
    """BIRD's prediction file: one JSON object ``{id: "SQL\t----- bird -----\tdb_id"}``
    (a value that is not a string stands for a missing prediction, as in BIRD's scripts), or
    ``{id: [candidates]}`` (OmniSQL's format, majority voting)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not data or any(k in data for k in (*SQL_FIELDS, "db_id")):
        return None
    out = []
    for n, (key, value) in enumerate(data.items(), start=1):
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out.append(_Record(n, value[0], id=str(key), candidates=tuple(value)))
            continue
        if not isinstance(value, str):
            out.append(_Record(n, None, id=str(key)))
            continue
        sql = value.partition(BIRD_SEPARATOR)[0]  # BIRD takes the database from the gold
        out.append(_Record(n, sql.strip(), id=str(key)))
    return out


def _records_from_json(path: Path, *, need_db: bool) -> list[_Record]:
    text = path.read_text(encoding="utf-8")
    objects: list[tuple[int, Any]] = []
    if not need_db and text.lstrip().startswith("{"):
        bird = _bird_predictions(path, text)
        if bird is not None:
            return bird
    if path.suffix.lower() == ".json" and text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise _bad(path, err.lineno, None, f"invalid JSON: {err.msg}") from err
        objects = [(i + 1, obj) for i, obj in enumerate(data)]
    else:
        for lineno, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                objects.append((lineno, json.loads(raw)))
            except json.JSONDecodeError as err:
                raise _bad(path, lineno, None, f"invalid JSON: {err.msg}") from err
    return [_record(path, lineno, obj, need_db=need_db) for lineno, obj in objects]


def _record(path: Path, lineno: int, obj: Any, *, need_db: bool) -> _Record:
    if not isinstance(obj, dict):
        raise _bad(path, lineno, None, f"expected an object, got {type(obj).__name__}")
    key = next((k for k in SQL_FIELDS if k in obj), None)
    if key is None and not any(k in obj for k in ("gold_csv", "pred_csv", "instance_id")):
        raise _bad(path, lineno, "SQL", f"missing; expected one of {SQL_FIELDS}")
    sql = obj[key] if key is not None else None
    candidates = None
    if isinstance(sql, list) and not need_db:
        if not sql or not all(isinstance(c, str) for c in sql):
            raise _bad(path, lineno, key, "a list of candidates must hold SQL strings")
        candidates = tuple(sql)
        sql = sql[0]
    if sql is not None and not isinstance(sql, str):
        raise _bad(path, lineno, key, f"expected a string, got {type(sql).__name__}")
    db_id = obj.get("db_id")
    if db_id is None and isinstance(obj.get("db"), str):
        db_id = obj["db"]  # Spider 2.0's metadata names the database 'db'
    if need_db and (not isinstance(db_id, str) or not db_id):
        raise _bad(path, lineno, "db_id", "missing or empty")
    if db_id is not None and not isinstance(db_id, str):
        raise _bad(path, lineno, "db_id", "expected a string")
    question = obj.get("question")
    if question is not None and not isinstance(question, str):
        raise _bad(path, lineno, "question", "expected a string")
    rid = obj.get("id", obj.get("instance_id"))  # Spider 2.0 names records by instance_id
    if rid is not None and not isinstance(rid, (str, int)):
        raise _bad(path, lineno, "id", "expected a string or an integer")
    difficulty = obj.get("difficulty")
    if difficulty is not None and not isinstance(difficulty, str):
        raise _bad(path, lineno, "difficulty", "expected a string")
    meta = {k: obj[k] for k in META_FIELDS if k in obj} or None
    return _Record(lineno, sql, db_id, question, None if rid is None else str(rid),
                   difficulty, candidates, meta)


def _records_from_text(path: Path, *, gold: bool) -> list[_Record]:
    records = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split("\t")
        if gold:
            if len(parts) < 2 or not parts[-1].strip() or not parts[0].strip():
                raise _bad(path, lineno, "db_id",
                                       "expected 'SQL<TAB>db_id' on every gold line")
            records.append(_Record(lineno, parts[0].strip(), parts[-1].strip()))
        else:
            records.append(_Record(lineno, parts[0].strip()))
    return records


def read_records(path: str | Path, *, gold: bool) -> list[_Record]:
    p = Path(path)
    if not p.is_file():
        raise _bad(p, None, None, "file not found")
    if p.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        return _records_from_json(p, need_db=gold)
    return _records_from_text(p, gold=gold)


def load_pairs(pred_path: str | Path, gold_path: str | Path) -> list[EvalItem]:
    """Read and pair predictions with gold records (see the module docstring)."""
    gold = read_records(gold_path, gold=True)
    pred = read_records(pred_path, gold=False)
    for rec in gold:
        if not (rec.sql or "").strip() and not (rec.meta and ("gold_csv" in rec.meta or
                                                              "instance_id" in rec.meta)):
            raise _bad(gold_path, rec.line, "SQL", "empty gold SQL")
    if gold and pred and all(r.id is not None for r in gold) and \
            all(r.id is not None for r in pred):
        return _pair_by_id(pred, gold, Path(pred_path), Path(gold_path))
    if len(pred) != len(gold):
        last = pred[-1].line if pred else None
        raise _bad(pred_path, last, None,
                               f"{len(pred)} predictions for {len(gold)} gold records in "
                               f"{gold_path} (pairing by position needs equal counts)")
    items = []
    for p, g in zip(pred, gold):
        _check_db(p, g, pred_path)
        items.append(_item(g, p))
    return items


def _item(g: _Record, p: _Record | None) -> EvalItem:
    return EvalItem(g.db_id or "", g.sql or "", (p.sql or None) if p else None,
                    g.question or (p.question if p else None), g.id or (p.id if p else None),
                    difficulty=g.difficulty, candidates=p.candidates if p else None,
                    gold_meta=g.meta, pred_meta=p.meta if p else None)


def _check_db(p: _Record, g: _Record, pred_path: str | Path) -> None:
    if p.db_id is not None and p.db_id != g.db_id:
        raise _bad(pred_path, p.line, "db_id",
                               f"{p.db_id!r} differs from the gold record's {g.db_id!r}")


def _pair_by_id(pred: list[_Record], gold: list[_Record], pred_path: Path,
                gold_path: Path) -> list[EvalItem]:
    by_id: dict[str, _Record] = {}
    for rec in pred:
        if rec.id in by_id:
            raise _bad(pred_path, rec.line, "id", f"duplicate id {rec.id!r}")
        by_id[rec.id] = rec  # type: ignore[index]
    seen: set[str] = set()
    items = []
    for g in gold:
        if g.id in seen:
            raise _bad(gold_path, g.line, "id", f"duplicate id {g.id!r}")
        seen.add(g.id)  # type: ignore[arg-type]
        p = by_id.get(g.id)  # type: ignore[arg-type]
        if p is not None:
            _check_db(p, g, pred_path)
        items.append(_item(g, p))
    extra = [r for r in pred if r.id not in seen]
    if extra:
        raise _bad(pred_path, extra[0].line, "id",
                               f"id {extra[0].id!r} has no gold record in {gold_path}")
    return items
