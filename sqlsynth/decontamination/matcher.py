"""Each row against the benchmarks: question overlap, SQL meaning, and the schema the SQL runs on.

Kinds of overlap a match records (``kind`` lists every one that holds):

- ``question``: the question's n-gram overlap (``sqlsynth.decontamination.questions``) with a
  benchmark question is at least ``question_threshold``.
- ``sql_exact`` / ``sql_template``: the SQL is the benchmark item's up to layout, aliases and
  quoting (``sql_meaning_key``); ``sql_exact`` when its literals are the same too,
  ``sql_template`` when only they differ.
- ``schema``: with an SQL match, the row's database has the benchmark database's tables and
  columns (``table.column`` Jaccard at least ``schema_threshold``, or the same ``db_id`` when
  the row's schema is unknown) - the item itself, asked on its own database.

A row matches when the question overlaps, or the SQL matches and (``sql_needs_schema``, the
default) the schema does too: a stock query such as ``SELECT count(*) FROM singer`` written for
another database is not a leaked item. The score is the question's overlap, 1.0 for an SQL
match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from sqlglot import exp

from sqlsynth.decontamination.benchmark import Benchmark
from sqlsynth.decontamination.questions import QuestionIndex
from sqlsynth.sql import sql_meaning_key
from sqlsynth.sql.parse import SQLParseError, parse_single
from sqlsynth.sql.template import is_quoted_value

CONTAMINATION = "contamination"
MODES = ("flag", "drop")


@dataclass(frozen=True)
class DecontaminationOptions:
    question_threshold: float = 0.7
    """question overlap (0-1) from which a question counts as the benchmark's"""
    ngram: int = 1
    """questions are compared by word n-grams up to this n (1: words, robust to rephrasing)"""
    schema_threshold: float = 0.5
    """``table.column`` Jaccard from which the row's database counts as the item's"""
    sql_needs_schema: bool = True
    """an SQL match counts only on the benchmark item's schema"""
    dialect: str = "sqlite"


def _literals(sql: str, dialect: str) -> tuple[str, ...]:
    """The SQL's literal values, sorted: with equal meaning keys, equal literals make
    ``sql_exact`` rather than ``sql_template``."""
    try:
        tree = parse_single(sql, dialect)
    except SQLParseError:
        return tuple(sorted(re.findall(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b", sql)))
    values = [node.this for node in tree.find_all(exp.Literal)]
    values += [node.name for node in tree.find_all(exp.Column) if is_quoted_value(node)]
    return tuple(sorted(str(v) for v in values))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


class _Indexed:
    """One benchmark's question index and SQL keys."""

    def __init__(self, benchmark: Benchmark, options: DecontaminationOptions) -> None:
        self.benchmark = benchmark
        asked = [(i, item.question) for i, item in enumerate(benchmark.items) if item.question]
        self.question_items = [i for i, _ in asked]
        self.questions = QuestionIndex([q for _, q in asked], max_n=options.ngram)
        self.by_key: dict[str, list[int]] = {}
        for i, item in enumerate(benchmark.items):
            if item.sql:
                self.by_key.setdefault(sql_meaning_key(item.sql, "sqlite"), []).append(i)


class Decontaminator:
    """Finds a row's overlaps with the benchmarks (see the module docstring).

    Example:
        >>> from sqlsynth.decontamination import load_benchmark
        >>> checker = Decontaminator([load_benchmark("data/spider")])  # doctest: +SKIP
        >>> checker.matches({"question": "How many singers are there?",
        ...                  "SQL": "SELECT count(*) FROM singer"})  # doctest: +SKIP
        [{'benchmark': 'spider', 'item_id': 'dev.json#0', 'kind': ['question', ...], ...}]
    """

    def __init__(self, benchmarks: Iterable[Benchmark],
                 options: DecontaminationOptions | None = None) -> None:
        self.options = options or DecontaminationOptions()
        self._indexed = [_Indexed(b, self.options) for b in benchmarks]

    @property
    def benchmarks(self) -> list[Benchmark]:
        return [ix.benchmark for ix in self._indexed]

    def matches(self, row: Mapping[str, Any],
                schema: frozenset[str] | None = None) -> list[dict[str, Any]]:
        """The row's best match in each benchmark it overlaps (empty: clean).

        ``schema`` is the row's database as ``table.column`` names, when known.
        """
        opts = self.options
        question = row.get("question") if isinstance(row.get("question"), str) else None
        sql = row.get("SQL") if isinstance(row.get("SQL"), str) else None
        key = sql_meaning_key(sql, opts.dialect) if sql else None
        found = []
        for ix in self._indexed:
            candidates: dict[int, dict[str, Any]] = {}
            if question:
                for position, score in ix.questions.scores(question).items():
                    if score >= opts.question_threshold:
                        item = ix.question_items[position]
                        candidates[item] = {"question_score": round(min(score, 1.0), 4)}
            for item in ix.by_key.get(key, []) if key else []:
                entry = self._sql_match(ix.benchmark, item, sql, row, schema)
                if entry is not None:
                    candidates.setdefault(item, {}).update(entry)
            if candidates:
                best = max(candidates, key=lambda i: (_score(candidates[i]), -i))
                found.append(self._record(ix.benchmark, best, candidates[best]))
        return found

    def _sql_match(self, benchmark: Benchmark, index: int, sql: str | None,
                   row: Mapping[str, Any], schema: frozenset[str] | None
                   ) -> dict[str, Any] | None:
        item = benchmark.items[index]
        assert sql is not None and item.sql is not None
        same = _literals(sql, self.options.dialect) == _literals(item.sql, "sqlite")
        theirs = benchmark.schemas.get(item.db_id or "")
        if schema is not None and theirs is not None:
            schema_score: float | None = round(_jaccard(schema, theirs), 4)
            on_schema = schema_score >= self.options.schema_threshold
        else:
            schema_score = None
            on_schema = item.db_id is not None and item.db_id == row.get("db_id")
        if self.options.sql_needs_schema and not on_schema:
            return None
        return {"sql": "sql_exact" if same else "sql_template", "schema_score": schema_score,
                "on_schema": on_schema}

    @staticmethod
    def _record(benchmark: Benchmark, index: int, entry: dict[str, Any]) -> dict[str, Any]:
        item = benchmark.items[index]
        kind = (["question"] if "question_score" in entry else []) + (
            [entry["sql"]] if "sql" in entry else []) + (["schema"] if entry.get("on_schema")
                                                         else [])
        return {"benchmark": benchmark.name, "item_id": item.item_id, "db_id": item.db_id,
                "kind": kind, "score": _score(entry),
                "question_score": entry.get("question_score"),
                "schema_score": entry.get("schema_score"),
                "benchmark_question": item.question, "benchmark_sql": item.sql}


def _score(entry: Mapping[str, Any]) -> float:
    return 1.0 if "sql" in entry else float(entry.get("question_score") or 0.0)


def decontaminate(rows: Iterable[Mapping[str, Any]], checker: Decontaminator, mode: str = "flag",
                  schema_of: Callable[[str], frozenset[str] | None] | None = None,
                  ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows with a ``contamination`` field (``[]`` when clean; ``drop`` leaves matched rows out)
    and a report: thresholds, benchmarks, counts by kind and benchmark, every match."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    schemas: dict[str, frozenset[str] | None] = {}
    kept, matches = [], []
    by_kind: dict[str, int] = {}
    by_benchmark: dict[str, int] = {}
    total = flagged = 0
    for position, row in enumerate(rows):
        total += 1
        db_id = str(row.get("db_id") or "")
        if schema_of is not None and db_id not in schemas:
            schemas[db_id] = schema_of(db_id)
        found = checker.matches(row, schemas.get(db_id))
        if found:
            flagged += 1
            for match in found:
                by_benchmark[match["benchmark"]] = by_benchmark.get(match["benchmark"], 0) + 1
                for kind in match["kind"]:
                    by_kind[kind] = by_kind.get(kind, 0) + 1
                matches.append({"row": position, "id": row.get("id"), "db_id": row.get("db_id"),
                                "question": row.get("question"), "SQL": row.get("SQL"),
                                **match})
            if mode == "drop":
                continue
        kept.append({**row, CONTAMINATION: found})
    report = {
        "mode": mode, "options": asdict(checker.options),
        "benchmarks": [{"name": b.name, "items": len(b.items), "files": b.files}
                       for b in checker.benchmarks],
        "rows": total, "flagged": flagged, "dropped": flagged if mode == "drop" else 0,
        "by_kind": by_kind, "by_benchmark": by_benchmark, "matches": matches,
    }
    return kept, report


def schema_reader(manager: Any) -> Callable[[str], frozenset[str] | None]:
    """``schema_of(db_id)`` over a ``DatabaseManager``: its ``table.column`` names, or None."""

    def schema_of(db_id: str) -> frozenset[str] | None:
        try:
            schema = manager.get_schema(db_id)
        except Exception:  # noqa: BLE001 - an unknown or unreachable database: schema unknown
            return None
        return frozenset(f"{t.name.lower()}.{c.name.lower()}" for t in schema.tables
                         for c in t.columns)

    return schema_of


__all__ = ["CONTAMINATION", "MODES", "DecontaminationOptions", "Decontaminator",
           "decontaminate", "schema_reader"]
