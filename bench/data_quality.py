"""Defect-injection benchmark: how many defective rows reach the final file, and at what cost.

A scripted model with a known ground truth answers every request of the synthesis pipeline.
The truth is a pool of question-SQL pairs over the bundled databases (the hand-written ones in
``sqlsynth/examples/questions.jsonl`` plus one pair per table/column/query shape, each checked
to return a real answer). The model writes those pairs' SQL and questions, and injects each
defect kind at a known rate:

- ``wrong_question``: the question of another pair (with another answer); the judge is strict
- ``lenient_judge``: a wrong question (as above) that the judge waves through
- ``drift``: reasoning answers whose SQL returns another result (half of the time as majority)
- ``empty_value``: the SQL filters on a value the database does not store (empty result)
- ``near_dup``: the SQL of an earlier pair again, with aliases renamed and layout changed
- ``garbage``: a question that is none (asks back, holds SQL, a fragment, a placeholder, a
  copy of the SQL) or evidence that restates the SQL; the judge approves these (weak judges do)
- ``cot_same_result``: reasoning whose SQL returns the row's result on this database but means
  something else (an extra filter every stored row passes: ``col <= <its largest value>``)
- ``cot_contradicts``: reasoning whose text names another table and value than its SQL uses
- ``solver_noise``: the solver's skill. ``--solver-model per-question`` (default): each question
  gets a success rate ``p = u ** (e / (1 - e))`` (``u`` uniform in [0, 1), ``e`` the solver error),
  so rates spread from 0 to 100 % around a mean of ``1 - e`` and a hard question stays hard for
  every answer; ``independent``: every answer is wrong at rate ``e`` (hides hard questions)

``--pipeline refine`` runs the refinement pipeline instead: its input is the first pairs of
each database, and each rewrite the model writes is the next unused pair's SQL or, when
injected, a near-duplicate of the original or an unstored value.

Each kind is injected alone at ``--rate`` (``lenient_judge`` alone: wrong questions at the rate,
all waved through), then all kinds together. A final row is defective when its question is
garbage, its question's true SQL returns another result than its SQL, its reasoning's SQL
returns another result than its SQL, or it repeats a pair already in the file. Printed, for
today's behaviour (the new steps off, the old CoT replacement policy) and the new default:
per kind injected / reaching the final file / survival; overall final rows, defective final
rows, recall of clean rows (slots with nothing injected that end as clean final rows) and LLM
requests (chat + embeddings) per clean final row; per difficulty level, precision (clean share
of the final rows carrying the label) and recall (clean slots kept, by the level their
question's success rate gives); the share of defective rows per quality-field value.
Prints figures; asserts nothing.

    python bench/data_quality.py --num 40 --rate 0.2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("SQLSYNTH_PROGRESS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlglot
from sqlglot import exp

from sqlsynth.config import RunConfig
from sqlsynth.db import DatabaseManager
from sqlsynth.db.compare import query_orders_output, results_match
from sqlsynth.examples import example_db_root, example_file
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline, Text2SQLRefine_APIPipeline
from sqlsynth.sql import extract_sql
from sqlsynth.storage import read_rows
from sqlsynth.storage.final import write_final
from sqlsynth.testing import ScriptedOpenAIServer

KINDS = ("wrong_question", "lenient_judge", "drift", "empty_value", "near_dup", "garbage",
         "cot_same_result", "cot_contradicts", "solver_noise")
#: execution-difficulty labels by the share of right solver answers (the pipeline's thresholds)
LEVELS = ("easy", "medium", "hard", "extra")
#: kinds that make a slot's row defective when they reach the file (solver noise does not)
ROW_KINDS = KINDS[:-1]

_FENCED = re.compile(r"```sql\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_QUESTION = re.compile(r"Question:\n(.*?)\n\n", re.DOTALL)


def _digest(*parts: Any) -> float:
    """A number in [0, 1) that is a pure function of ``parts``: injections are reproducible."""
    h = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return int(h[:12], 16) / 16**12


@dataclass
class Pair:
    db: str
    question: str
    sql: str
    index: int = 0


def _words(name: str) -> str:
    return name.replace("_", " ")


def build_pairs(dbm: DatabaseManager, max_rows: int) -> dict[str, list[Pair]]:
    """True question-SQL pairs per database, each returning a non-degenerate answer, and no two
    of one database sharing a query shape (so none is a duplicate of another by meaning)."""
    candidates: dict[str, list[Pair]] = {}
    for line in Path(example_file("questions.jsonl")).read_text().splitlines():
        item = json.loads(line)
        candidates.setdefault(item["db_id"], []).append(
            Pair(item["db_id"], item["question"], item["SQL"]))
    for db in dbm.list_databases():
        schema = dbm.get_schema(db)
        for table in schema.tables:
            t = table.name
            for column in table.columns:
                c = column.name
                kind = str(column.type or "").upper()
                numeric = any(k in kind for k in ("INT", "REAL", "NUM", "DEC", "FLOAT"))
                if numeric and not c.endswith("_id"):
                    candidates.setdefault(db, []).extend([
                        Pair(db, f"What is the largest {_words(c)} among all {_words(t)}?",
                             f'SELECT MAX("{c}") FROM "{t}"'),
                        Pair(db, f"What is the average {_words(c)} over all {_words(t)}?",
                             f'SELECT AVG("{c}") FROM "{t}"'),
                    ])
                elif not numeric:
                    top = dbm.execute(db, f'SELECT "{c}" FROM "{t}" WHERE "{c}" IS NOT NULL '
                                          f'GROUP BY "{c}" ORDER BY COUNT(*) DESC, "{c}" LIMIT 1')
                    if top.ok and top.rows and isinstance(top.rows[0][0], str) \
                            and "'" not in top.rows[0][0]:
                        value = top.rows[0][0]
                        candidates.setdefault(db, []).append(Pair(
                            db, f"How many {_words(t)} have {value} as their {_words(c)}?",
                            f"SELECT COUNT(*) FROM \"{t}\" WHERE \"{c}\" = '{value}'"))
                    candidates.setdefault(db, []).extend([
                        Pair(db, f"How many {_words(t)} are there for each {_words(c)}?",
                             f'SELECT "{c}", COUNT(*) FROM "{t}" GROUP BY "{c}"'),
                        Pair(db, f"What are the first five distinct {_words(c)} values of "
                                 f"{_words(t)} in alphabetical order?",
                             f'SELECT DISTINCT "{c}" FROM "{t}" ORDER BY "{c}" LIMIT 5'),
                    ])
    pools: dict[str, list[Pair]] = {}
    texts: set[str] = set()  # the model traces rows by SQL text: one text, one database
    for db, pairs in candidates.items():
        kept = []
        for pair in pairs:
            if pair.sql in texts:
                continue
            texts.add(pair.sql)
            res = dbm.execute(db, pair.sql)
            if not res.ok or not res.rows or res.truncated or len(res.rows) > max_rows:
                continue
            if all(v is None for r in res.rows for v in r):
                continue
            pair.index = len(kept)
            kept.append(pair)
        pools[db] = kept
    return pools


def alias_variant(sql: str) -> str:
    """The same query with table aliases renamed (or added) and another layout."""
    tree = sqlglot.parse_one(sql, read="sqlite")
    tables = list(tree.find_all(exp.Table))
    renames = {}
    for i, table in enumerate(tables):
        old = table.alias or table.name
        new = f"src{i}"
        renames[old.lower()] = new
        table.set("alias", exp.TableAlias(this=exp.to_identifier(new)))
    for column in tree.find_all(exp.Column):
        qualifier = (column.table or "").lower()
        if qualifier in renames:
            column.set("table", exp.to_identifier(renames[qualifier]))
        elif not qualifier and len(tables) == 1:
            column.set("table", exp.to_identifier("src0"))
    return tree.sql(dialect="sqlite", pretty=True)


def narrate(sql: str) -> str:
    """Reasoning text a model writes before its SQL: the tables, columns and values it uses."""
    tree = sqlglot.parse_one(sql, read="sqlite")
    tables = list(dict.fromkeys(t.name for t in tree.find_all(exp.Table)))
    columns = list(dict.fromkeys(c.name for c in tree.find_all(exp.Column)))
    values = [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string]
    text = f"The data is in the {', '.join(tables)} table{'s' if len(tables) > 1 else ''}."
    if columns:
        text += f" The columns needed are {', '.join(columns)}."
    if values:
        text += f" Keep the rows with {', '.join(repr(v) for v in values)}."
    return text


def same_result_variant(dbm: DatabaseManager, db: str, sql: str) -> str | None:
    """``sql`` with an extra filter that every stored row passes (``col <= <largest value>`` on
    a numeric column of its first table): the same result here, another query in meaning."""
    tree = sqlglot.parse_one(sql, read="sqlite")
    select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    table = select.find(exp.Table) if select else None
    if select is None or table is None:
        return None
    schema = {t.name: t for t in dbm.get_schema(db).tables}
    spec = schema.get(table.name)
    for column in (spec.columns if spec else []):
        kind = str(column.type or "").upper()
        if not any(k in kind for k in ("INT", "REAL", "NUM", "DEC", "FLOAT")):
            continue
        top = dbm.execute(db, f'SELECT MAX("{column.name}"), COUNT(*) - COUNT("{column.name}") '
                              f'FROM "{table.name}"')
        if not top.ok or top.rows[0][0] is None or top.rows[0][1]:
            continue
        qualifier = table.alias or table.name
        variant = select.copy().where(f'"{qualifier}"."{column.name}" <= {top.rows[0][0]}')
        text = variant.sql(dialect="sqlite")
        if _match(dbm, db, sql, text):
            return text
    return None


GARBAGE = (
    "Is there a specific question you would like to ask?",
    "Could you please provide more details about what you want to know?",
    "Write the SQL query that answers this.",
    "What is the {column} of the {table}?",
    "Show the number of",
    "{sql_lower}?",
    "EVIDENCE",
    "Which <value> appears most often?",
)


@dataclass
class Registry:
    """What the scripted model wrote, so final rows can be traced back to the truth."""

    sql: dict[str, dict[str, Any]] = field(default_factory=dict)
    questions: dict[str, Pair | None] = field(default_factory=dict)
    slots: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_index: dict[str, int] = field(default_factory=dict)
    by_seed: dict[Any, str] = field(default_factory=dict)
    #: injected reasoning defects: SQL of the same result but another meaning, contradicting text
    bad_cot_sql: set[str] = field(default_factory=set)
    bad_cot_text: set[str] = field(default_factory=set)


class DefectModel:
    """The scripted model: a responder for ``ScriptedOpenAIServer``."""

    def __init__(self, pools: dict[str, list[Pair]], rates: dict[str, float], dbm: DatabaseManager,
                 cot_samples: int, solver_model: str = "per-question") -> None:
        self.pools = pools
        self.solver_model = solver_model
        self.rates = {k: rates.get(k, 0.0) for k in KINDS}
        self.dbm = dbm
        self.cot_samples = cot_samples
        self.reg = Registry()
        self.tables = {db: [t.name for t in dbm.get_schema(db).tables] for db in pools}

    def inject(self, kind: str, *key: Any) -> bool:
        return _digest(kind, *key) < self.rates[kind]

    # ---------------------------------------------------------------- request dispatch

    def __call__(self, body: dict[str, Any]) -> list[str]:
        prompt = next((m["content"] for m in reversed(body.get("messages") or [])
                       if m.get("role") == "user"), "")
        n = int(body.get("n") or 1)
        if "<question>" in prompt:
            return [self.question(prompt)] * n
        if "VERDICT" in prompt:
            return [self.judge(prompt)] * n
        if "Hint, a correct query" in prompt:
            return self.reasoning(prompt, n)
        if prompt.startswith("Task: write a"):
            return [self.solve(prompt, i, body.get("seed")) for i in range(n)]
        if "Original query:" in prompt:
            return [self.vary(prompt, body.get("seed"))] * n
        return [self.write_sql(prompt, body.get("seed"))] * n

    def _db_of(self, prompt: str) -> str:
        """The database whose tables the prompt's schema declares (most shared names)."""
        declared = {m.lower() for m in re.findall(
            r"(?:CREATE TABLE|^table)\s+[\"`]?(\w+)", prompt, re.IGNORECASE | re.MULTILINE)}

        def overlap(db: str) -> float:
            names = {t.lower() for t in self.tables[db]}
            return len(names & declared) / len(names | declared)

        return max(self.tables, key=overlap)

    def _other(self, pair: Pair, salt: Any) -> Pair:
        """Another pair of the same database whose answer differs from ``pair``'s."""
        pool = self.pools[pair.db]
        start = int(_digest("other", pair.sql, salt) * len(pool))
        gold = self.dbm.execute(pair.db, pair.sql)
        for step in range(1, len(pool)):
            other = pool[(start + step) % len(pool)]
            if other.sql == pair.sql:
                continue
            res = self.dbm.execute(pair.db, other.sql)
            if not results_match(gold, res, ordered=False):
                return other
        raise RuntimeError(f"no pair with another answer in {pair.db}")

    # ---------------------------------------------------------------- the steps' answers

    def write_sql(self, prompt: str, seed: Any) -> str:
        db = self._db_of(prompt)
        with self.reg.lock:
            if (db, seed) in self.reg.by_seed:
                return f"```sql\n{self.reg.by_seed[(db, seed)]}\n```"
            i = self.reg.next_index.get(db, 0)
            self.reg.next_index[db] = i + 1
        pool = self.pools[db]
        sql = self._slot(db, pool[i % len(pool)], pool[(i - 1) % len(pool)] if i else None,
                         ("gen", i))
        with self.reg.lock:
            self.reg.by_seed[(db, seed)] = sql
        return f"```sql\n{sql}\n```"

    def _slot(self, db: str, pair: Pair, earlier: Pair | None, key: Any) -> str:
        """The SQL a slot writes for ``pair``: a near-duplicate of ``earlier``, an unstored
        value, or the pair's own SQL; registered as one slot."""
        kinds: set[str] = set()
        sql = pair.sql
        if earlier is not None and self.inject("near_dup", db, key):
            pair, kinds = earlier, {"near_dup"}
            sql = alias_variant(pair.sql)
        elif self.inject("empty_value", db, key):
            unstored = self._unstored(pair)
            if unstored:
                sql, kinds = unstored, {"empty_value"}
        return self.register(sql, pair, kinds)

    def register(self, sql: str, pair: Pair, kinds: set[str]) -> str:
        with self.reg.lock:
            if sql not in self.reg.sql:
                self.reg.sql[sql] = {"pair": pair, "kinds": kinds, "slot": len(self.reg.slots)}
                self.reg.slots.append({"sql": sql, "kinds": kinds, "pair": pair})
        return sql

    def vary(self, prompt: str, seed: Any) -> str:
        """A refine rewrite: a new pair's query (the next one unused in the database) or, when
        injected, a near-duplicate of the original or an unstored value."""
        original = _FENCED.findall(prompt)[-1].strip()
        info = self.reg.sql.get(original)
        db = info["pair"].db if info else self._db_of(prompt)
        with self.reg.lock:
            if (db, seed) in self.reg.by_seed:
                return f"```sql\n{self.reg.by_seed[(db, seed)]}\n```"
            i = self.reg.next_index.get(db, 0)
            self.reg.next_index[db] = i + 1
        pool = self.pools[db]
        sql = self._slot(db, pool[i % len(pool)], info["pair"] if info else None, ("vary", i))
        with self.reg.lock:
            self.reg.by_seed[(db, seed)] = sql
        return f"```sql\n{sql}\n```"

    def _unstored(self, pair: Pair) -> str | None:
        """The pair's SQL with its first string literal replaced by a value not stored."""
        found = re.search(r"'([^']+)'", pair.sql)
        if not found:
            return None
        value = found.group(1)
        for other in (value.lower(), value.title(), value.upper(), value + "s"):
            if other == value:
                continue
            sql = pair.sql[:found.start()] + f"'{other}'" + pair.sql[found.end():]
            res = self.dbm.execute(pair.db, sql)
            if res.ok and not res.rows or res.ok and all(v in (None, 0) for r in res.rows
                                                         for v in r):
                return sql
        return None

    def question(self, prompt: str) -> str:
        sql = _FENCED.findall(prompt)[-1].strip()
        info = self.reg.sql.get(sql)
        if info is None:
            return "<question>How many rows are there?</question>\n<evidence>none</evidence>"
        pair: Pair = info["pair"]
        evidence = f"The question is about the {pair.db.replace('_', ' ')} data."
        text: str = pair.question
        asked: Pair | None = pair
        if self.inject("garbage", sql):
            options = (*GARBAGE, "")  # "": evidence that restates the SQL in lower case
            pick = options[int(_digest("which", sql) * len(options))]
            if pick == "EVIDENCE":
                evidence = f"Use this: {pair.sql}"
            elif pick:
                text = pick.format(column="value", table="records",
                                   sql_lower=pair.sql.lower())
                asked = None
            else:
                evidence = f"The answer comes from {pair.sql.lower()}"
            info["kinds"] = info["kinds"] | {"garbage"}
        elif self.inject("wrong_question", sql):
            asked = self._other(pair, "question")
            text = asked.question
            info["kinds"] = info["kinds"] | {"wrong_question"}
        with self.reg.lock:
            self.reg.questions[text] = asked
            self.reg.slots[info["slot"]]["kinds"] = info["kinds"]
        return f"<question>{text}</question>\n<evidence>{evidence}</evidence>"

    def judge(self, prompt: str) -> str:
        sql = _FENCED.findall(prompt)[-1].strip()
        question = _QUESTION.search(prompt)
        asked = self.reg.questions.get(question.group(1).strip()) if question else None
        info = self.reg.sql.get(sql)
        if info is None or asked is None or "garbage" in info["kinds"]:
            return "It looks fine.\nVERDICT: YES"  # weak judges approve non-questions
        if asked.sql == info["pair"].sql:
            return "The query answers the question.\nVERDICT: YES"
        if self.inject("lenient_judge", sql):
            info["kinds"] = info["kinds"] | {"lenient_judge"}
            with self.reg.lock:
                self.reg.slots[info["slot"]]["kinds"] = info["kinds"]
            return "Close enough.\nVERDICT: YES"
        return "The query answers another question.\nVERDICT: NO"

    def reasoning(self, prompt: str, n: int) -> list[str]:
        sql = _FENCED.findall(prompt)[-1].strip()
        info = self.reg.sql.get(sql)
        answers = [f"{narrate(sql)}\n```sql\n{sql}\n```"] * n
        if info is None:
            return answers
        if self.inject("cot_same_result", sql):
            same = same_result_variant(self.dbm, info["pair"].db, sql)
            if same:
                with self.reg.lock:
                    self.reg.bad_cot_sql.add(same)
                    self._mark(info, "cot_same_result")
                bad = f"{narrate(same)}\n```sql\n{same}\n```"
                return [bad] * (n // 2 + 1) + answers[:n - n // 2 - 1]
        if self.inject("cot_contradicts", sql):
            text = self._contradicting(info["pair"].db, sql)
            if text:
                with self.reg.lock:
                    self.reg.bad_cot_text.add(text)
                    self._mark(info, "cot_contradicts")
                return [f"{text}\n```sql\n{sql}\n```"] * n
        if not self.inject("drift", sql):
            return answers
        majority = _digest("majority", sql) < 0.5
        drifted = n if majority and n < 3 else (n // 2 + 1 if majority else 1)
        other = self._other(info["pair"], "drift")
        wrong = f"SELECT * FROM ({other.sql}) AS drift{info['slot']}"  # one text per row
        with self.reg.lock:
            self.reg.sql[wrong] = {**info, "pair": other, "drifted_from": sql}
            info["kinds"] = info["kinds"] | {"drift"}
            self.reg.slots[info["slot"]]["kinds"] = info["kinds"]
        for i in range(drifted):
            answers[n - 1 - i] = f"Reasoning that goes astray.\n```sql\n{wrong}\n```"
        if majority:  # the drifted answers come first so a tie would go their way too
            answers = answers[::-1]
        return answers

    def _mark(self, info: dict[str, Any], kind: str) -> None:
        info["kinds"] = info["kinds"] | {kind}
        self.reg.slots[info["slot"]]["kinds"] = info["kinds"]

    def _contradicting(self, db: str, sql: str) -> str | None:
        """Reasoning text that names a table the SQL does not read and a value it does not
        filter on (the SQL block stays right)."""
        used = {t.name.lower() for t in sqlglot.parse_one(sql, read="sqlite").find_all(exp.Table)}
        others = [t for t in self.tables[db] if t.lower() not in used]
        if not others:
            return None
        other = others[int(_digest("contradict", sql) * len(others))]
        return (f"The answer is in the {other} table: keep the rows whose status is "
                f"'ZZ-{int(_digest('v', sql) * 1000)}' and count them.")

    def skill(self, asked: Pair) -> float:
        """The solver's success rate on ``asked`` (per-question model)."""
        error = self.rates["solver_noise"]
        if error <= 0:
            return 1.0
        if error >= 1:
            return 0.0
        return _digest("skill", asked.db, asked.sql) ** (error / (1 - error))

    def solve(self, prompt: str, i: int, seed: Any) -> str:
        question = _QUESTION.search(prompt)
        asked = self.reg.questions.get(question.group(1).strip()) if question else None
        if asked is None:
            pool = self.pools[self._db_of(prompt)]
            return f"```sql\n{pool[int(_digest('garbage', prompt, i) * len(pool))].sql}\n```"
        wrong = self.inject("solver_noise", prompt, i, seed) if self.solver_model == "independent" \
            else _digest("solver_noise", prompt, i, seed) >= self.skill(asked)
        if wrong:
            return f"```sql\n{self._other(asked, ('solver', i)).sql}\n```"
        return f"Reasoning done.\n```sql\n{asked.sql}\n```"


# -------------------------------------------------------------------- scoring


def _match(dbm: DatabaseManager, db: str, gold_sql: str, sql: str | None) -> bool:
    if not sql:
        return False
    gold = dbm.execute(db, gold_sql)
    res = dbm.execute(db, sql)
    return gold.ok and results_match(gold, res, ordered=query_orders_output(gold_sql, "sqlite"))


def _trace(row: dict[str, Any], model: DefectModel) -> tuple[dict[str, Any], set[str]]:
    """The slot a final row came from (through a drifted SQL back to the written one)."""
    info = model.reg.sql.get(str(row.get("SQL") or "").strip(), {})
    origin = model.reg.sql.get(info.get("drifted_from", ""), info)
    return origin, set(origin.get("kinds", set()))


def defect_of(row: dict[str, Any], model: DefectModel, dbm: DatabaseManager) -> set[str]:
    """The injected kinds that make a final row defective by the ground truth (empty: clean);
    ``other`` when it is defective for no injected reason."""
    info = model.reg.sql.get(str(row.get("SQL") or "").strip(), {})
    origin, kinds = _trace(row, model)
    pair: Pair | None = origin.get("pair")
    asked = model.reg.questions.get(str(row.get("question") or "").strip())
    if pair is None or asked is None or "garbage" in kinds:
        return {"garbage"} if "garbage" in kinds else {"other"}
    db = str(row["db_id"])
    causes: set[str] = set()
    if "drifted_from" in info:
        causes.add("drift")  # the vote replaced the SQL the question was written for
    if not _match(dbm, db, asked.sql, row["SQL"]):
        if asked.sql != pair.sql:
            causes |= {"wrong_question"} | ({"lenient_judge"} & kinds)
        if "empty_value" in kinds:
            causes.add("empty_value")
        causes = causes or {"other"}
    cot = str(row.get("cot_reasoning") or "")
    if not _match(dbm, db, row["SQL"], extract_sql(cot)):
        causes.add("drift" if "drift" in kinds else "other")
    if extract_sql(cot) in model.reg.bad_cot_sql:
        causes.add("cot_same_result")
    if any(text in cot for text in model.reg.bad_cot_text):
        causes.add("cot_contradicts")
    return causes


def level_of(share: float) -> str:
    """The execution-difficulty label of a share of right answers (0.2 / 0.5 / 0.9)."""
    for bound, label in ((0.2, "extra"), (0.5, "hard"), (0.9, "medium")):
        if share <= bound:
            return label
    return "easy"


QUALITY_FIELDS = ("verification_level", "roundtrip_agreement", "cot_vote",
                  "sql_execution_difficulty")


def score(final: list[dict[str, Any]], model: DefectModel, dbm: DatabaseManager,
          requests: int, verbose: bool = False) -> dict[str, Any]:
    causes = [defect_of(row, model, dbm) for row in final]
    # a pair in the file twice: every copy but one is a duplicate (the injected copy first)
    groups: dict[tuple[str, str], list[int]] = {}
    for i, row in enumerate(final):
        pair = _trace(row, model)[0].get("pair")
        groups.setdefault((str(row["db_id"]), pair.sql if pair else row["SQL"]), []).append(i)
    for members in groups.values():
        members.sort(key=lambda i: ("near_dup" not in _trace(final[i], model)[1]))
        for i in members[:-1]:
            causes[i] = causes[i] | {"near_dup"}
    reaching = dict.fromkeys([*KINDS, "other"], 0)
    kept_pairs: set[str] = set()  # pairs with a clean final row (whichever copy survived)
    for row, cause in zip(final, causes):
        origin, kinds = _trace(row, model)
        for kind in cause:
            reaching[kind] += 1
        if cause and verbose:
            print(f"  defective ({sorted(cause)}; injected {sorted(kinds)}): {row['SQL'][:70]!r}")
        elif not cause and origin.get("pair") is not None:
            kept_pairs.add(origin["pair"].sql)
    injected = dict.fromkeys(KINDS, 0)
    clean = [slot for slot in model.reg.slots if not slot["kinds"]]
    levels: dict[str, dict[str, int]] = {lv: dict.fromkeys(
        ("rows", "clean_rows", "slots", "slots_kept"), 0) for lv in LEVELS}
    for row, cause in zip(final, causes):
        label = str(row.get("sql_execution_difficulty") or "")
        if label in levels:
            levels[label]["rows"] += 1
            levels[label]["clean_rows"] += not cause
    for slot in clean:
        true_level = level_of(model.skill(slot["pair"]) if model.solver_model == "per-question"
                              else 1 - model.rates["solver_noise"])
        levels[true_level]["slots"] += 1
        levels[true_level]["slots_kept"] += slot["pair"].sql in kept_pairs
    calibration: dict[tuple[str, str], list[int]] = {}
    for row, cause in zip(final, causes):
        for name in QUALITY_FIELDS:
            cell = calibration.setdefault((name, str(row.get(name))), [0, 0])
            cell[0] += 1
            cell[1] += bool(cause)
    clean_slots_kept = sum(1 for slot in clean if slot["pair"].sql in kept_pairs)
    clean_slots = len(clean)
    if verbose:
        for slot in clean:
            if slot["pair"].sql not in kept_pairs:
                print(f"  clean slot lost: {slot['sql'][:90]!r}")
    for slot in model.reg.slots:
        for kind in slot["kinds"]:
            injected[kind] += 1
    defective = sum(1 for c in causes if c)
    clean_final = len(final) - defective
    return {
        "final": len(final), "defective": defective, "injected": injected, "reaching": reaching,
        "recall": clean_slots_kept / clean_slots if clean_slots else float("nan"),
        "requests": requests, "levels": levels, "calibration": calibration,
        "requests_per_clean": requests / clean_final if clean_final else float("inf"),
    }


TODAY = {"question_checks": False, "roundtrip": False, "cot_policy": "replace",
         "synthesis_reject_results": [], "refine_reject_results": [], "dedup_by_meaning": False}
NEW: dict[str, Any] = {"roundtrip_policy": os.environ.get("BENCH_POLICY", "evidence")}


def run_once(rates: dict[str, float], behaviour: dict[str, Any], args: argparse.Namespace,
             pools: dict[str, list[Pair]], dbm: DatabaseManager) -> dict[str, Any]:
    model = DefectModel(pools, rates, dbm, args.cot_samples, args.solver_model)
    with tempfile.TemporaryDirectory() as out, ScriptedOpenAIServer(model) as server:
        extra: dict[str, Any] = {}
        if args.pipeline == "refine":
            # the input: the first pairs of each database, as {db_id, SQL}; each original gets
            # ``--variations`` rewrites (the pairs after them, or an injected defect)
            originals = args.num // (1 + args.variations)
            source = Path(out) / "input.jsonl"
            lines = []
            for db, pool in pools.items():
                model.reg.next_index[db] = originals
                for pair in pool[:originals]:
                    model.register(pair.sql, pair, set())
                    lines.append(json.dumps({"db_id": db, "SQL": pair.sql}))
            source.write_text("\n".join(lines) + "\n")
            extra = {"input": str(source), "num_variations": args.variations}
        cfg = RunConfig(out=out, base_url=server.base_url, model="scripted",
                        embedding_model="scripted-emb", generate_num=args.num,
                        question_candidates=3, cot_samples=args.cot_samples,
                        execution_generations=args.solver_answers, concurrency=8, llm_cache=False,
                        **behaviour, **extra)
        kind = Text2SQLRefine_APIPipeline if args.pipeline == "refine" \
            else Text2SQLGeneration_APIPipeline
        pipeline = kind(config=cfg)
        pipeline.forward()
        final = read_rows(write_final(Path(out), cfg.file_name_prefix, "jsonl"))
        return score(final, model, dbm, len(server.requests), args.verbose)


def _print(title: str, results: dict[str, dict[str, Any]], kinds: tuple[str, ...]) -> None:
    print(f"\n## {title}")
    print("| defect kind | injected | reaching final (today / new) | survival (today / new) |")
    print("|---|---|---|---|")
    today, new = results["today"], results["new"]
    for kind in kinds:
        if kind == "solver_noise":
            print(f"| {kind} | {args_rate:.0%} of solver answers wrong | - | - |")
            continue
        inj_new = new["injected"][kind]
        rt = today["reaching"][kind] / today["injected"][kind] if today["injected"][kind] else 0
        rn = new["reaching"][kind] / inj_new if inj_new else 0
        print(f"| {kind} | {today['injected'][kind]} / {inj_new} | {today['reaching'][kind]} / "
              f"{new['reaching'][kind]} | {rt:.0%} / {rn:.0%} |")
    print("\n| behaviour | final rows | defective final rows | recall of clean rows | "
          "LLM requests | requests per clean final row |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        share = r["defective"] / r["final"] if r["final"] else 0
        print(f"| {name} | {r['final']} | {r['defective']} ({share:.1%}) | {r['recall']:.1%} | "
              f"{r['requests']} | {r['requests_per_clean']:.2f} |")
    print("\n| behaviour | " + " | ".join(f"{lv} precision / recall" for lv in LEVELS) + " |")
    print("|---|" + "---|" * len(LEVELS))
    for name, r in results.items():
        cells = []
        for lv in LEVELS:
            c = r["levels"][lv]
            precision = f"{c['clean_rows'] / c['rows']:.0%} ({c['rows']})" if c["rows"] else "-"
            recall = f"{c['slots_kept'] / c['slots']:.0%} ({c['slots']})" if c["slots"] else "-"
            cells.append(f"{precision} / {recall}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    new = results["new"]["calibration"]
    print("\n| quality field = value (new) | rows | defective |")
    print("|---|---|---|")
    for (name, value), (rows, bad) in sorted(new.items()):
        print(f"| {name} = {value} | {rows} | {bad} ({bad / rows:.0%}) |")


args_rate = 0.2


def main() -> None:
    global args_rate
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num", type=int, default=40, help="SQL slots per database")
    parser.add_argument("--pipeline", choices=["generate", "refine"], default="generate")
    parser.add_argument("--variations", type=int, default=3,
                        help="refine: rewrites per input row")
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--solver-error", type=float, default=None,
                        help="share of wrong solver answers (default: --rate)")
    parser.add_argument("--cot-samples", type=int, default=3)
    parser.add_argument("--solver-model", choices=["per-question", "independent"],
                        default="per-question", help="how solver errors are drawn")
    parser.add_argument("--solver-answers", type=int, default=10)
    parser.add_argument("--only", choices=[*KINDS, "all"], help="one scenario only")
    parser.add_argument("--verbose", action="store_true", help="list every defective final row")
    args = parser.parse_args()
    args_rate = args.rate if args.solver_error is None else args.solver_error
    dbm = DatabaseManager(db_type="sqlite", config={"root_path": str(example_db_root())})
    pools = build_pairs(dbm, max_rows=1000)
    print(f"ground truth: {sum(map(len, pools.values()))} pairs "
          f"({', '.join(f'{db}: {len(p)}' for db, p in pools.items())}); "
          f"{args.pipeline}; {args.num} slots per database; rate {args.rate:.0%}")
    scenarios: list[tuple[str, dict[str, float], tuple[str, ...]]] = []
    for kind in KINDS:
        rates = {kind: args.rate}
        if kind == "lenient_judge":
            rates = {"wrong_question": args.rate, "lenient_judge": 1.0}
        scenarios.append((f"{kind} alone", rates, (kind,)))
    together = dict.fromkeys(KINDS, args.rate)
    if args.solver_error is not None:
        together["solver_noise"] = args.solver_error
    scenarios.append(("all kinds together", together, KINDS))
    for title, rates, kinds in scenarios:
        if args.only and not (title.startswith(args.only + " ") or
                              (args.only == "all" and title.startswith("all"))):
            continue
        results = {name: run_once(rates, behaviour, args, pools, dbm)
                   for name, behaviour in (("today", TODAY), ("new", NEW))}
        _print(title, results, kinds)
    dbm.close()


if __name__ == "__main__":
    main()
