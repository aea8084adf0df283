"""Execution match as test-suite-sql-eval's ``exec_eval.eval_exec_match`` decides it.

What counts as the same answer there (taoyds/test-suite-sql-eval, ``exec_eval.py``):
* both queries first get ``> =``/``< =``/``! =`` closed up and, unless DISTINCT is kept, every
  ``DISTINCT`` keyword deleted (also inside ``count(DISTINCT x)``, which then counts all rows)
  and everything after the first statement dropped (``q; LIMIT 1`` runs as ``q;``);
  ``YEAR(CURDATE())`` reads as 2020;
* rows are ordered only when the gold text contains ``order by`` (lower-cased substring);
* two results are equal when some permutation of the prediction's columns makes them equal as
  lists (ordered) or as bags of rows (unordered); two empty results are equal whatever their
  width; a cheap pre-check compares rows with their values sorted by ``str(value)+str(type)``
  (so ``1`` and ``1.0`` in different positions can fail it, as in the script);
* the prediction must give an equal result on every ``*.sqlite`` file in the gold database's
  folder (the "test suite" of neighbour databases); a failing prediction scores no match, a
  failing gold is an error of the gold;
* values are fetched with undecodable text bytes dropped.
The script's evaluation.py also rewrites the word ``value`` to ``1`` in every prediction
before anything else (a leftover of value-less predictions); that is applied here too.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlsynth.eval.conventions.sqlite_exec import Run, ignore_decode_errors, run_sql

_YEAR_NOW = re.compile(r"YEAR\s*\(\s*CURDATE\s*\(\s*\)\s*\)\s*", re.IGNORECASE)
#: Pieces of SQL text: comments, quoted strings/names, words, anything else (one character).
_PIECES = re.compile(r"(?:--|# )[^\n]*\n?|[^\S\n]+|\n|/\*.*?(?:\*/|$)|'(?:''|\\.|[^'\\])*'?|\"(?:\"\"|[^\"])*\"?"
                     r"|`(?:``|[^`])*`?|\[[^\]]*\]?|[\w$#@]+|.", re.DOTALL)


def rewrite_value_placeholder(pred: str) -> str:
    """evaluation.py's ``p_str.replace("value", "1")``."""
    return pred.replace("value", "1")


def close_comparisons(sql: str) -> str:
    return sql.replace("> =", ">=").replace("< =", "<=").replace("! =", "!=")


def remove_distinct(sql: str) -> str:
    """The script's ``remove_distinct``: the *first statement* of the text (up to and with
    its first ``;`` outside quotes and comments, as sqlparse splits statements), without its
    DISTINCT keywords (quoted text and comments untouched). So ``q; LIMIT 1`` runs as ``q;``
    unless DISTINCT is kept."""
    kept = []
    ended = False
    for piece in _PIECES.findall(sql):
        if ended and (piece == "\n" or not (piece.isspace() or piece.startswith(("--", "# ")))):
            break  # blanks and line comments up to the line's end stay with the statement
        if piece.lower() != "distinct":
            kept.append(piece)
        ended = ended or piece == ";"
    return "".join(kept)


def _unordered_row(row: tuple) -> tuple:
    return tuple(sorted(row, key=lambda v: str(v) + str(type(v))))


def _passes_precheck(gold: list[tuple], pred: list[tuple], ordered: bool) -> bool:
    a = [_unordered_row(r) for r in gold]
    b = [_unordered_row(r) for r in pred]
    return a == b if ordered else set(a) == set(b)


def _candidate_permutations(gold: list[tuple], pred: list[tuple]) -> Iterator[tuple[int, ...]]:
    """Column orders of ``pred`` that could line up with ``gold``: each gold column keeps only
    the prediction columns whose values all occur in it (a sound pruning, so the verdict is the
    script's; the script prunes on a random sample of rows, which only changes speed)."""
    width = len(pred[0])
    gold_columns = [{row[i] for row in gold} for i in range(width)]
    options = [[j for j in range(width) if all(row[j] in gold_columns[i] for row in pred)]
               for i in range(width)]

    def extend(prefix: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
        if len(prefix) == width:
            yield prefix
            return
        for j in options[len(prefix)]:
            if j not in prefix:
                yield from extend((*prefix, j))

    return extend(())


def results_equal(gold: list[tuple], pred: list[tuple], *, ordered: bool) -> bool:
    """test-suite's ``result_eq(gold, pred, order_matters)``."""
    if not gold and not pred:
        return True
    if len(gold) != len(pred) or len(gold[0]) != len(pred[0]):
        return False
    if not _passes_precheck(gold, pred, ordered):
        return False
    for perm in _candidate_permutations(gold, pred):
        moved = pred if len(perm) == 1 else [tuple(row[j] for j in perm) for row in pred]
        if ordered:
            if gold == moved:
                return True
        elif set(gold) == set(moved) and Counter(gold) == Counter(moved):
            return True
    return False


def suite_databases(db_file: Path) -> list[Path]:
    """Every file in the database's folder whose name contains ``.sqlite`` (the script's
    test suite: the database itself plus its neighbours)."""
    folder = db_file.parent
    if not folder.is_dir():
        return [db_file]
    return sorted(p for p in folder.iterdir() if ".sqlite" in p.name and p.is_file())


def _run(path: Path, sql: str, timeout: float | None) -> Run:
    return run_sql(path, _YEAR_NOW.sub("2020", sql), timeout=timeout,
                   text_factory=ignore_decode_errors)


def exec_match(db_file: Path, gold: str, pred: str, *, keep_distinct: bool = False,
               timeout: float | None = None, databases: Iterable[Path] | None = None
               ) -> tuple[bool, str | None, str | None]:
    """(match, prediction error, gold error) over the test suite of ``db_file``."""
    gold, pred = close_comparisons(gold), close_comparisons(pred)
    if not keep_distinct:
        gold, pred = remove_distinct(gold), remove_distinct(pred)
    ordered = "order by" in gold.lower()
    for path in (list(databases) if databases is not None else suite_databases(db_file)):
        g = _run(path, gold, timeout)
        if not g.ok:
            return False, None, f"gold fails on {path.name}: {g.error}"
        p = _run(path, pred, timeout)
        if not p.ok:
            return False, ("timeout" if p.timed_out else p.error), None
        if not results_equal(g.rows or [], p.rows or [], ordered=ordered):
            return False, None, None
    return True, None, None


__all__: list[Any] = ["close_comparisons", "exec_match", "remove_distinct", "results_equal",
                      "rewrite_value_placeholder", "suite_databases"]
