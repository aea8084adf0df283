"""Agreement of ``sqlsynth.sql`` with Spider's own evaluation script (hardness and exact match).

Spider's ``evaluation.py`` + ``process_sql.py`` are not shipped with sqlsynth: the user points
``--spider-eval DIR`` at a folder holding them. Without it the script says so and exits 0.

The corpus is generated over the bundled example SQLite databases, in Spider's supported SQL
subset: 1-3 column selects, aggregates, WHERE with AND/OR/LIKE/IN/BETWEEN/NOT, GROUP BY/HAVING,
ORDER BY with and without LIMIT, 2-3 table joins along the declared foreign keys, nested
IN/NOT IN/comparison subqueries, INTERSECT/UNION/EXCEPT and FROM subqueries, plus the SQL of
``refine_input.jsonl`` and ``questions.jsonl``. Each query also comes with rewrites Spider
should consider equal (values, AND order, SELECT order, aliases, join order, DISTINCT) and
variants it should not (extra condition, other column/aggregate/direction/set operation, no
LIMIT/ORDER BY, AND->OR).

Spider's verdicts are the reference: for every query, ``eval_hardness(get_sql(...))`` versus
``spider_hardness``; for every pair, ``Evaluator().eval_exact_match`` after Spider's
``rebuild_sql_val``/``rebuild_sql_col`` with a foreign-key map built from the SQLite schema (in
tables.json form) versus ``exact_set_match``. Queries on which Spider's parser fails are counted
apart (for pairs: an unparseable gold is skipped, an unparseable prediction is scored as Spider
scores it, against an empty query).

Spider's tokenizer calls ``nltk.word_tokenize``; when nltk (with its punkt data) is missing, a
regex tokenizer with the same output on this corpus stands in.

Run: .venv/bin/python bench/spider_agreement.py --spider-eval /path/to/spider [--verbose]
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import random
import re
import sqlite3
import sys
import types
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlsynth.db.schema import Column, ForeignKey, Schema, Table
from sqlsynth.examples import example_db_root, example_file
from sqlsynth.sql import SQLParseError, exact_set_match, spider_hardness

_TOKEN = re.compile(r"__val_\d+_\d+__|[A-Za-z_][\w.]*|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\S")


def _regex_word_tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _word_tokenizer() -> Any:
    """nltk's word tokenizer when usable here, else the regex stand-in."""
    try:
        import nltk

        try:
            nltk.word_tokenize("select a from t")
            return nltk.word_tokenize
        except LookupError:  # punkt data missing: the word-level tokenizer needs none
            return nltk.tokenize.NLTKWordTokenizer().tokenize
    except ImportError:
        return _regex_word_tokenize


def load_spider(folder: Path) -> tuple[Any, Any, str]:
    """Import Spider's process_sql and evaluation from ``folder``."""
    tokenizer = _word_tokenizer()
    if "nltk" not in sys.modules:
        stub = types.ModuleType("nltk")
        stub.word_tokenize = tokenizer  # type: ignore[attr-defined]
        sys.modules["nltk"] = stub
    sys.path.insert(0, str(folder))
    process_sql = importlib.import_module("process_sql")
    process_sql.word_tokenize = tokenizer
    evaluation = importlib.import_module("evaluation")
    name = getattr(tokenizer, "__qualname__", str(tokenizer))
    return process_sql, evaluation, name


# ----- databases ---------------------------------------------------------------------------
@dataclass
class DbInfo:
    db_id: str
    path: Path
    columns: dict[str, list[tuple[str, str]]]  # table -> [(column, declared type)]
    fks: list[tuple[str, str, str, str]]  # (table, column, ref_table, ref_column)

    def text_cols(self, table: str) -> list[str]:
        return [c for c, t in self.columns[table] if "CHAR" in t or "TEXT" in t]

    def num_cols(self, table: str) -> list[str]:
        return [c for c, t in self.columns[table] if "INT" in t or "REAL" in t or "NUM" in t]

    def schema(self) -> Schema:
        tables = []
        for name, cols in self.columns.items():
            fks = [ForeignKey([c], rt, [rc]) for t, c, rt, rc in self.fks if t == name]
            tables.append(Table(name, [Column(c, t) for c, t in cols], foreign_keys=fks))
        return Schema(db_id=self.db_id, tables=tables)

    def tables_json_entry(self) -> dict[str, Any]:
        """This database in Spider's tables.json form (what build_foreign_key_map reads)."""
        names = list(self.columns)
        cols: list[list[Any]] = [[-1, "*"]]
        for i, name in enumerate(names):
            cols.extend([i, c] for c, _ in self.columns[name])
        index = {(names[c[0]].lower(), str(c[1]).lower()): k for k, c in enumerate(cols)
                 if c[0] >= 0}
        fks = [[index[(t.lower(), c.lower())], index[(rt.lower(), rc.lower())]]
               for t, c, rt, rc in self.fks]
        return {"db_id": self.db_id, "table_names_original": names,
                "column_names_original": cols, "foreign_keys": fks}


def read_db(path: Path) -> DbInfo:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        columns = {t: [(r[1], (r[2] or "").upper()) for r in
                       conn.execute(f'PRAGMA table_info("{t}")')] for t in tables}
        fks = [(t, r[3], r[2], r[4]) for t in tables
               for r in conn.execute(f'PRAGMA foreign_key_list("{t}")')]
    finally:
        conn.close()
    return DbInfo(path.stem, path, columns, fks)


# ----- corpus ------------------------------------------------------------------------------
@dataclass
class Item:
    db_id: str
    sql: str
    same: list[str] = field(default_factory=list)  # rewrites Spider should call equal
    different: list[str] = field(default_factory=list)  # variants Spider should call different


class CorpusBuilder:
    """Systematic queries over one database; ``rng`` only picks among real columns."""

    def __init__(self, db: DbInfo, rng: random.Random) -> None:
        self.db, self.rng = db, rng
        self.items: list[Item] = []

    def add(self, sql: str, same: list[str] | None = None,
            different: list[str] | None = None) -> None:
        self.items.append(Item(self.db.db_id, sql, same or [], different or []))

    def pick(self, seq: list[str], k: int = 1) -> list[str]:
        return self.rng.sample(seq, k) if len(seq) >= k else []

    def build(self) -> list[Item]:
        for table in self.db.columns:
            self.single_table(table)
        for fk in self.db.fks:
            self.join2(fk)
        for a in self.db.fks:
            for b in self.db.fks:
                if a != b and a[2] == b[0] and a[0] != b[2]:
                    self.join3(a, b)
        for fk in self.db.fks:
            self.nested(fk)
        for table in self.db.columns:
            self.set_ops(table)
        return self.items

    def single_table(self, t: str) -> None:
        cols = [c for c, _ in self.db.columns[t]]
        texts, nums = self.db.text_cols(t), self.db.num_cols(t)
        c1, c2, c3 = (cols * 3)[:3] if len(cols) < 3 else self.pick(cols, 3)
        self.add(f"SELECT {c1} FROM {t}", [f"select {c1.upper()} from {t};"],
                 [f"SELECT {c2} FROM {t}", f"SELECT {c1}, {c2} FROM {t}"])
        self.add(f"SELECT {c1}, {c2} FROM {t}",
                 [f"SELECT {c2}, {c1} FROM {t}", f"SELECT T1.{c1}, T1.{c2} FROM {t} AS T1"],
                 [f"SELECT {c1} FROM {t}"])
        self.add(f"SELECT {c1}, {c2}, {c3} FROM {t}", [f"SELECT {c3}, {c1}, {c2} FROM {t}"])
        self.add(f"SELECT count(*) FROM {t}", [],
                 [f"SELECT count({c1}) FROM {t}", f"SELECT {c1} FROM {t}"])
        self.add(f"SELECT DISTINCT {c1} FROM {t}", [f"SELECT {c1} FROM {t}"])
        self.add(f"SELECT count(DISTINCT {c1}) FROM {t}", [f"SELECT count({c1}) FROM {t}"])
        if nums:
            n = self.pick(nums)[0]
            n2 = self.pick(nums)[0]
            self.add(f"SELECT max({n}), min({n}), avg({n}) FROM {t}",
                     [f"SELECT avg({n}), max({n}), min({n}) FROM {t}"],
                     [f"SELECT max({n}), min({n}), sum({n}) FROM {t}"])
            self.add(f"SELECT {c1} FROM {t} WHERE {n} > 10",
                     [f"SELECT {c1} FROM {t} WHERE {n} > 99"],
                     [f"SELECT {c1} FROM {t} WHERE {n} < 10",
                      f"SELECT {c1} FROM {t} WHERE {n} > 10 AND {c2} = 'x'"])
            self.add(f"SELECT {c1} FROM {t} WHERE {n} BETWEEN 1 AND 5",
                     [f"SELECT {c1} FROM {t} WHERE {n} BETWEEN 2 AND 9"],
                     [f"SELECT {c1} FROM {t} WHERE {n} > 1"])
            self.add(f"SELECT {c1} FROM {t} ORDER BY {n} DESC LIMIT 3",
                     [f"SELECT {c1} FROM {t} ORDER BY {n} DESC LIMIT 1"],
                     [f"SELECT {c1} FROM {t} ORDER BY {n} DESC", f"SELECT {c1} FROM {t}",
                      f"SELECT {c1} FROM {t} ORDER BY {n} ASC LIMIT 3"])
            self.add(f"SELECT {c1} FROM {t} ORDER BY {n}",
                     [f"SELECT {c1} FROM {t} ORDER BY {n} ASC"],
                     [f"SELECT {c1} FROM {t} ORDER BY {n} LIMIT 1"])
            self.add(f"SELECT {c1}, {n} - {n2} FROM {t}", [f"SELECT {n} - {n2}, {c1} FROM {t}"],
                     [f"SELECT {c1}, {n} + {n2} FROM {t}"])
            self.add(f"SELECT {c1} FROM {t} ORDER BY {n} + {n2} DESC")
            self.add(f"SELECT sum({n}) FROM {t} WHERE {n2} >= 2 AND {n} != 3",
                     [f"SELECT sum({n}) FROM {t} WHERE {n} != 7 AND {n2} >= 1"],
                     [f"SELECT avg({n}) FROM {t} WHERE {n2} >= 2 AND {n} != 3",
                      f"SELECT sum({n}) FROM {t} WHERE {n2} >= 2 OR {n} != 3"])
            self.add(f"SELECT {c1} FROM {t} WHERE {n} > (SELECT avg({n}) FROM {t})",
                     [f"SELECT {c1} FROM {t} WHERE {n} > (SELECT avg({n}) FROM {t})"],
                     [f"SELECT {c1} FROM {t} WHERE {n} > (SELECT max({n}) FROM {t})",
                      f"SELECT {c1} FROM {t} WHERE {n} < (SELECT avg({n}) FROM {t})"])
            self.add(f"SELECT {c1}, {c2} FROM {t} WHERE {n} = (SELECT max({n}) FROM {t})")
            # shapes near the edge of Spider's grammar (arithmetic on aggregates, several
            # ORDER BY keys with mixed directions, nested queries in HAVING, NOT BETWEEN)
            self.add(f"SELECT (max({n}) - min({n})) FROM {t}", [],
                     [f"SELECT (max({n}) + min({n})) FROM {t}"])
            self.add(f"SELECT max({n}) - min({n}) FROM {t}")
            self.add(f"SELECT sum({n} * {n2}), {c1} FROM {t} GROUP BY {c1}")
            self.add(f"SELECT {c1} FROM {t} ORDER BY {n} DESC, {c1}",
                     [], [f"SELECT {c1} FROM {t} ORDER BY {n}, {c1}",
                          f"SELECT {c1} FROM {t} ORDER BY {c1}, {n} DESC"])
            self.add(f"SELECT {c1} FROM {t} ORDER BY {n}, {c1} DESC",
                     [f"SELECT {c1} FROM {t} ORDER BY {n} DESC, {c1} DESC"])
            self.add(f"SELECT {c1} FROM {t} ORDER BY {n} ASC, {c1}",
                     [f"SELECT {c1} FROM {t} ORDER BY {n}, {c1}"],
                     [f"SELECT {c1} FROM {t} ORDER BY {n} DESC, {c1} ASC"])
            self.add(f"SELECT {c1} FROM {t} WHERE {n} NOT BETWEEN 1 AND 3",
                     [], [f"SELECT {c1} FROM {t} WHERE {n} BETWEEN 1 AND 3"])
            self.add(f"SELECT {c1}, count(*) FROM {t} GROUP BY {c1} "
                     f"HAVING count(*) > (SELECT avg({n}) FROM {t})")
            self.add(f"SELECT {c1} FROM {t} GROUP BY {c1} HAVING count(*) > 1 OR sum({n}) > 9")
            self.add(f"SELECT count(*) FROM {t} WHERE {n} IS NULL")
            self.add(f"SELECT {c1} FROM {t} WHERE NOT {n} > 3")
        if texts:
            s = self.pick(texts)[0]
            self.add(f"SELECT {c1} FROM {t} WHERE {s} LIKE '%a%'",
                     [f'SELECT {c1} FROM {t} WHERE {s} LIKE "%zz%"'],
                     [f"SELECT {c1} FROM {t} WHERE {s} NOT LIKE '%a%'",
                      f"SELECT {c1} FROM {t} WHERE {s} = 'a'"])
            self.add(f"SELECT {c1} FROM {t} WHERE {s} LIKE '%a%' OR {s} LIKE 'b%'")
            self.add(f"SELECT {c1}, {c2} FROM {t} WHERE {s} = 'x' OR {c1} = 'y' AND {c2} > 2")
            self.add(f"SELECT {c1} FROM {t} WHERE {s} IN ('a', 'b')")
            self.add(f"SELECT {c1} FROM {t} WHERE {s} NOT IN (SELECT {s} FROM {t} "
                     f"WHERE {c2} = 'q')")
            self.add(f"SELECT {s}, count(*) FROM {t} GROUP BY {s}",
                     [f"SELECT count(*), {s} FROM {t} GROUP BY {s}",
                      f"SELECT T1.{s}, count(*) FROM {t} AS T1 GROUP BY T1.{s}"],
                     [f"SELECT {s}, count(*) FROM {t} GROUP BY {c1}",
                      f"SELECT {s}, count(*) FROM {t}",
                      f"SELECT {s}, count(*) FROM {t} GROUP BY {s} HAVING count(*) > 1"])
            self.add(f"SELECT {s} FROM {t} GROUP BY {s} HAVING count(*) > 2",
                     [f"SELECT {s} FROM {t} GROUP BY {s} HAVING count(*) > 7"],
                     [f"SELECT {s} FROM {t} GROUP BY {s} HAVING count(*) < 2"])
            self.add(f"SELECT {s}, count(*) FROM {t} GROUP BY {s} ORDER BY count(*) DESC LIMIT 1",
                     [], [f"SELECT {s}, count(*) FROM {t} GROUP BY {s} ORDER BY count(*) DESC"])
            self.add(f"SELECT {s}, {c1} FROM {t} GROUP BY {s}, {c1}")
            if nums:
                n = self.pick(nums)[0]
                self.add(f"SELECT {s}, avg({n}) FROM {t} GROUP BY {s} "
                         f"HAVING avg({n}) > 3 AND count(*) > 1",
                         [(f"SELECT {s}, avg({n}) FROM {t} GROUP BY {s} "
                          f"HAVING count(*) > 5 AND avg({n}) > 9")])
                self.add(f"SELECT {s} FROM {t} WHERE {n} > 1 GROUP BY {s} "
                         f"ORDER BY sum({n}) DESC LIMIT 2")
                self.add(f"SELECT count(*) FROM (SELECT {s} FROM {t} GROUP BY {s} "
                         f"HAVING count(*) > 1)")
                self.add(f"SELECT {s} FROM {t} WHERE {n} NOT IN (SELECT {n} FROM {t} "
                         f"WHERE {s} = 'a') AND {s} LIKE '%b%'")
                self.add(f"SELECT count(*) FROM {t} WHERE {s} = 'a' AND NOT {n} > 1")

    def _alias_join(self, fk: tuple[str, str, str, str], a1: str = "T1", a2: str = "T2",
                    swap: bool = False) -> str:
        t, c, rt, rc = fk
        if swap:
            return f"{rt} AS {a2} JOIN {t} AS {a1} ON {a2}.{rc} = {a1}.{c}"
        return f"{t} AS {a1} JOIN {rt} AS {a2} ON {a1}.{c} = {a2}.{rc}"

    def join2(self, fk: tuple[str, str, str, str]) -> None:
        t, _c, rt, _rc = fk
        x = self.pick([c for c, _ in self.db.columns[t]])[0]
        y = self.pick([c for c, _ in self.db.columns[rt]])[0]
        frm, swapped = self._alias_join(fk), self._alias_join(fk, swap=True)
        other = self._alias_join(fk, "A", "B")
        self.add(f"SELECT T1.{x}, T2.{y} FROM {frm}",
                 [f"SELECT T1.{x}, T2.{y} FROM {swapped}",
                  f"SELECT A.{x}, B.{y} FROM {other}", f"SELECT T2.{y}, T1.{x} FROM {frm}"],
                 [f"SELECT T1.{x} FROM {frm}", f"SELECT T1.{x}, T2.{y} FROM {t} AS T1"])
        texts = self.db.text_cols(rt)
        if texts:
            s = self.pick(texts)[0]
            self.add(f"SELECT T1.{x} FROM {frm} WHERE T2.{s} = 'v'",
                     [f"SELECT T1.{x} FROM {swapped} WHERE T2.{s} = 'w'"],
                     [f"SELECT T1.{x} FROM {frm} WHERE T2.{s} != 'v'",
                      f"SELECT T1.{x} FROM {frm} WHERE T2.{s} = 'v' AND T1.{x} = 'u'"])
            self.add(f"SELECT T2.{s}, count(*) FROM {frm} GROUP BY T2.{s} "
                     f"ORDER BY count(*) DESC LIMIT 1",
                     [(f"SELECT T2.{s}, count(*) FROM {swapped} GROUP BY T2.{s} "
                      f"ORDER BY count(*) DESC LIMIT 5")],
                     [(f"SELECT T2.{s}, count(*) FROM {frm} GROUP BY T2.{s} "
                      f"ORDER BY count(*) ASC LIMIT 1")])
            self.add(f"SELECT T2.{s} FROM {frm} WHERE T1.{x} LIKE '%z%' OR T2.{s} = 'k'")
        nums = self.db.num_cols(t)
        if nums:
            n = self.pick(nums)[0]
            self.add(f"SELECT T2.{y}, sum(T1.{n}) FROM {frm} GROUP BY T2.{y} "
                     f"HAVING sum(T1.{n}) > 10")
            self.add(f"SELECT T2.{y}, avg(T1.{n}) FROM {frm} WHERE T1.{n} > 0 "
                     f"GROUP BY T2.{y} ORDER BY avg(T1.{n})")
        # unaliased joins (Spider allows bare table names) and the FK column from either side
        self.add(f"SELECT {t}.{x} FROM {t} JOIN {rt} ON {t}.{fk[1]} = {rt}.{fk[3]}",
                 [f"SELECT T1.{x} FROM {frm}"])
        self.add(f"SELECT T1.{fk[1]} FROM {frm}", [f"SELECT T2.{fk[3]} FROM {frm}"])
        self.add(f"SELECT T1.{x} FROM {t} AS T1 JOIN {rt} AS T2",
                 [f"SELECT T1.{x} FROM {frm}"], [f"SELECT T1.{x} FROM {t} AS T1"])
        self.add(f"SELECT T1.{x} FROM {frm} AND T1.{x} = T2.{y}",
                 [f"SELECT T1.{x} FROM {frm}"])
        self.add(f"SELECT T1.{x} FROM {t} AS T1 JOIN {rt} AS T2 WHERE T1.{fk[1]} = T2.{fk[3]}",
                 [], [f"SELECT T1.{x} FROM {frm}"])
        self.add(f"SELECT T1.{x} FROM {frm} WHERE T1.{x} = T2.{y} OR T2.{y} LIKE 'a%'")

    def join3(self, a: tuple[str, str, str, str], b: tuple[str, str, str, str]) -> None:
        t1, c1, t2, c2 = a
        _, d1, t3, d2 = b
        x = self.pick([c for c, _ in self.db.columns[t1]])[0]
        z = self.pick([c for c, _ in self.db.columns[t3]])[0]
        frm = (f"{t1} AS T1 JOIN {t2} AS T2 ON T1.{c1} = T2.{c2} "
               f"JOIN {t3} AS T3 ON T2.{d1} = T3.{d2}")
        swapped = (f"{t3} AS T3 JOIN {t2} AS T2 ON T3.{d2} = T2.{d1} "
                   f"JOIN {t1} AS T1 ON T2.{c2} = T1.{c1}")
        self.add(f"SELECT T1.{x}, T3.{z} FROM {frm}", [f"SELECT T1.{x}, T3.{z} FROM {swapped}"],
                 [f"SELECT T1.{x} FROM {frm}"])
        texts = self.db.text_cols(t3)
        if texts:
            s = self.pick(texts)[0]
            self.add(f"SELECT T1.{x} FROM {frm} WHERE T3.{s} = 'a'")
            self.add(f"SELECT T3.{s}, count(*) FROM {frm} GROUP BY T3.{s} "
                     f"ORDER BY count(*) DESC LIMIT 3")

    def nested(self, fk: tuple[str, str, str, str]) -> None:
        t, c, rt, rc = fk
        y = self.pick([col for col, _ in self.db.columns[rt]])[0]
        texts = self.db.text_cols(t)
        where = f" WHERE {texts[0]} = 'a'" if texts else ""
        self.add(f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT {c} FROM {t}{where})",
                 [(f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT {c} FROM {t}"
                  f"{where.replace(chr(39) + 'a', chr(39) + 'b')})")],
                 [f"SELECT {y} FROM {rt} WHERE {rc} NOT IN (SELECT {c} FROM {t}{where})",
                  f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT {c} FROM {t})"])
        self.add(f"SELECT count(*) FROM {rt} WHERE {rc} NOT IN (SELECT {c} FROM {t})")
        self.add(f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT {c} FROM {t} GROUP BY {c} "
                 f"HAVING count(*) > 2)")
        self.add(f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT DISTINCT {c} FROM {t})",
                 [f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT {c} FROM {t})"])
        self.add(f"SELECT {y} FROM {rt} EXCEPT SELECT T2.{y} FROM {self._alias_join(fk)}")
        # what Spider normalises depends on depth: foreign keys and LIMIT values inside a
        # condition subquery, values and DISTINCT inside a FROM subquery, and foreign keys in
        # a continuation (mapped with the top query's tables)
        join = self._alias_join(fk)
        self.add(f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT T1.{c} FROM {join})",
                 [], [f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT T2.{rc} FROM {join})"])
        self.add(f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT {c} FROM {t} ORDER BY {c} "
                 f"LIMIT 1)",
                 [(f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT {c} FROM {t} ORDER BY {c} "
                  f"LIMIT 1)")],
                 [(f"SELECT {y} FROM {rt} WHERE {rc} IN (SELECT {c} FROM {t} ORDER BY {c} "
                  f"LIMIT 2)")])
        self.add(f"SELECT count(*) FROM (SELECT {c} FROM {t} WHERE {c} > 1)",
                 [f"SELECT count(*) FROM (SELECT {c} FROM {t} WHERE {c} > 1.0)"],
                 [f"SELECT count(*) FROM (SELECT {c} FROM {t} WHERE {c} > 2)",
                  f"SELECT count(*) FROM (SELECT DISTINCT {c} FROM {t} WHERE {c} > 1)",
                  f"SELECT count(*) FROM (SELECT {c} FROM {t} WHERE {c} > '1')"])
        self.add(f"SELECT {rc} FROM {rt} INTERSECT SELECT T1.{c} FROM {join}", [],
                 [f"SELECT {rc} FROM {rt} INTERSECT SELECT T2.{rc} FROM {join}"])
        self.add(f"SELECT T1.{c} FROM {join} INTERSECT SELECT T1.{c} FROM {join} "
                 f"WHERE T2.{rc} > 1",
                 [(f"SELECT T2.{rc} FROM {join} INTERSECT SELECT T2.{rc} FROM {join} "
                  f"WHERE T1.{c} > 3")])

    def set_ops(self, t: str) -> None:
        cols = [c for c, _ in self.db.columns[t]]
        c1 = cols[1] if len(cols) > 1 else cols[0]
        nums = self.db.num_cols(t)
        n = nums[-1] if nums else cols[0]
        base = f"SELECT {c1} FROM {t} WHERE {n} > 1"
        second = f"SELECT {c1} FROM {t} WHERE {n} < 5"
        for op in ("INTERSECT", "UNION", "EXCEPT"):
            others = [o for o in ("INTERSECT", "UNION", "EXCEPT") if o != op]
            self.add(f"{base} {op} {second}",
                     [(f"SELECT {c1} FROM {t} WHERE {n} > 7 {op} SELECT {c1} FROM {t} "
                      f"WHERE {n} < 2")],
                     [f"{base} {others[0]} {second}", base,
                      f"{base} {op} SELECT {cols[0]} FROM {t} WHERE {n} < 5"])
        self.add(f"SELECT {c1} FROM {t} UNION SELECT {c1} FROM {t} WHERE {n} > 2 "
                 f"UNION SELECT {c1} FROM {t} WHERE {n} < 1")
        self.add(f"SELECT {c1} FROM {t} ORDER BY {n} DESC LIMIT 1 "
                 f"INTERSECT SELECT {c1} FROM {t} WHERE {n} = 2")


def example_items() -> list[Item]:
    items = []
    for name in ("refine_input.jsonl", "questions.jsonl"):
        for line in example_file(name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                items.append(Item(row["db_id"], row["SQL"]))
    return items


def build_corpus(dbs: dict[str, DbInfo], seed: int = 7) -> list[Item]:
    rng = random.Random(seed)
    items: list[Item] = []
    for db in dbs.values():
        items.extend(CorpusBuilder(db, rng).build())
    items.extend(it for it in example_items() if it.db_id in dbs)
    seen: set[tuple[str, str]] = set()
    unique = []
    for it in items:
        if (it.db_id, it.sql) not in seen:
            seen.add((it.db_id, it.sql))
            unique.append(it)
    return unique


# ----- comparison --------------------------------------------------------------------------
EMPTY_SPIDER_SQL: dict[str, Any] = {
    "except": None, "from": {"conds": [], "table_units": []}, "groupBy": [], "having": [],
    "intersect": None, "limit": None, "orderBy": [], "select": [False, []], "union": None,
    "where": [],
}


class SpiderRef:
    def __init__(self, process_sql: Any, evaluation: Any, dbs: dict[str, DbInfo]) -> None:
        self.ps, self.ev = process_sql, evaluation
        self.schemas = {d: process_sql.Schema(process_sql.get_schema(str(db.path)))
                        for d, db in dbs.items()}
        self.kmaps = {d: evaluation.build_foreign_key_map(db.tables_json_entry())
                      for d, db in dbs.items()}

    def parse(self, db_id: str, sql: str) -> dict[str, Any]:
        return self.ps.get_sql(self.schemas[db_id], sql)

    def hardness(self, db_id: str, sql: str) -> str:
        return self.ev.Evaluator().eval_hardness(self.parse(db_id, sql))

    def _rebuilt(self, db_id: str, parsed: dict[str, Any]) -> dict[str, Any]:
        schema, kmap = self.schemas[db_id], self.kmaps[db_id]
        valid = self.ev.build_valid_col_units(parsed["from"]["table_units"], schema)
        return self.ev.rebuild_sql_col(valid, self.ev.rebuild_sql_val(parsed), kmap)

    def exact(self, db_id: str, gold: str, pred: str) -> bool:
        g = self._rebuilt(db_id, self.parse(db_id, gold))
        try:
            p = self.parse(db_id, pred)
        except Exception:  # noqa: BLE001 - Spider scores any parser failure as an empty query
            p = copy.deepcopy(EMPTY_SPIDER_SQL)
        return bool(self.ev.Evaluator().eval_exact_match(self._rebuilt(db_id, p), g))


def _ours(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except SQLParseError as err:
        return f"error: {err}"


def run(spider_dir: Path, verbose: bool) -> int:
    process_sql, evaluation, tokenizer = load_spider(spider_dir)
    dbs = {p.stem: read_db(p) for p in sorted(example_db_root().glob("*/*.sqlite"))}
    items = build_corpus(dbs)
    ref = SpiderRef(process_sql, evaluation, dbs)
    schemas = {d: db.schema() for d, db in dbs.items()}
    print(f"Spider evaluation from {spider_dir} (tokenizer: {tokenizer})")

    queries: dict[tuple[str, str], None] = {}
    for it in items:
        for sql in (it.sql, *it.same, *it.different):
            queries.setdefault((it.db_id, sql), None)
    h_agree, h_crash, by_level = 0, 0, Counter()
    h_diff: list[str] = []
    for db_id, sql in queries:
        try:
            theirs = ref.hardness(db_id, sql)
        except Exception:  # noqa: BLE001 - Spider's parser fails on SQL outside its subset
            h_crash += 1
            if verbose:
                print(f"  [spider cannot parse] {sql}")
            continue
        mine = _ours(spider_hardness, sql)
        by_level[theirs] += 1
        if mine == theirs:
            h_agree += 1
        else:
            h_diff.append(f"  spider={theirs:6} ours={mine:6} [{db_id}] {sql}")
    judged = len(queries) - h_crash
    print(f"\nHardness: {len(queries)} queries, {h_crash} that Spider cannot parse; "
          f"agreement {h_agree}/{judged} = {h_agree / max(judged, 1):.1%}  "
          f"(Spider levels: {dict(sorted(by_level.items()))})")
    for line in h_diff:
        print(line)

    pairs = [(it.db_id, it.sql, p, kind) for it in items
             for kind, preds in (("self", [it.sql]), ("same", it.same),
                                 ("different", it.different)) for p in preds]
    e_agree, e_skip, outcome = 0, 0, Counter()
    e_diff: list[str] = []
    for db_id, gold, pred, kind in pairs:
        try:
            theirs = ref.exact(db_id, gold, pred)
        except Exception:  # noqa: BLE001 - gold outside Spider's subset
            e_skip += 1
            continue
        mine = _ours(exact_set_match, gold, pred, schema=schemas[db_id])
        outcome[(kind, theirs)] += 1
        if mine is theirs:
            e_agree += 1
        else:
            e_diff.append(f"  spider={theirs!s:5} ours={mine!s:5} ({kind}) [{db_id}]\n"
                          f"      gold: {gold}\n      pred: {pred}")
    judged = len(pairs) - e_skip
    print(f"\nExact match: {len(pairs)} pairs, {e_skip} skipped (Spider cannot parse the gold); "
          f"agreement {e_agree}/{judged} = {e_agree / max(judged, 1):.1%}")
    print("  Spider's verdicts by pair kind: " + ", ".join(
        f"{k}:{'match' if v else 'no match'}={n}" for (k, v), n in sorted(outcome.items())))
    for line in e_diff:
        print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spider-eval", type=Path, default=None,
                        help="folder holding Spider's evaluation.py and process_sql.py")
    parser.add_argument("--verbose", action="store_true",
                        help="also list the queries Spider's parser cannot handle")
    args = parser.parse_args(argv)
    folder = args.spider_eval
    if folder is None or not all((folder / f).is_file()
                                 for f in ("evaluation.py", "process_sql.py")):
        print("Spider's evaluation.py and process_sql.py are not available: pass "
              "--spider-eval DIR with both files (from the Spider benchmark's repository). "
              "Nothing measured.")
        return 0
    return run(folder.resolve(), args.verbose)


if __name__ == "__main__":
    sys.exit(main())
