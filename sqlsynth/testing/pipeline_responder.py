"""A scripted 'model' that answers every pipeline prompt plausibly, for tests and benchmarks.

It recognises which step a request comes from by the prompt's wording and answers in that
step's format, with SQL built from the tables and columns it finds in the prompt's schema, so a
whole pipeline runs end to end against the scripted HTTP server with no real model. Answers are
a pure function of the request, so reruns and resumed runs see the same text.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from typing import Any

import sqlglot
from sqlglot import exp

_CREATE = re.compile(r"CREATE TABLE\s+[\"`]?(\w+)[\"`]?\s*\((.*?)\n\)", re.DOTALL | re.IGNORECASE)
_FENCED_SQL = re.compile(r"```sql\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_SQL_IN_QUESTION = re.compile(r"\bnumbered ([0-9a-f]+)\b")
_COMPACT_TABLE = re.compile(r"^table (\w+)\s*$", re.MULTILINE)
_SKIP_WORDS = {"PRIMARY", "FOREIGN", "UNIQUE", "CONSTRAINT", "CHECK", "KEY"}


def encode_sql(sql: str) -> str:
    """The query as a hex word: it rides in the question (so the solver step can reproduce
    it) without reading as SQL to the question checks."""
    return sql.encode().hex()


def decoded_sql(prompt: str) -> list[str]:
    """Every query a question in ``prompt`` carries (see ``encode_sql``)."""
    found = []
    for word in _SQL_IN_QUESTION.findall(prompt):
        try:
            found.append(bytes.fromhex(word).decode())
        except ValueError:
            continue
    return found


def _names_in(sql: str) -> str:
    """The tables and string values ``sql`` uses, as a reasoning text names them."""
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.SqlglotError:
        return "the tables it names"
    tables = dict.fromkeys(t.name for t in tree.find_all(exp.Table) if t.name)
    values = dict.fromkeys(str(lit.this) for lit in tree.find_all(exp.Literal) if lit.is_string)
    return ", ".join([*tables, *(f"the value {v}" for v in values)])


def _digest(*parts: Any) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)


def _system_text(body: dict[str, Any]) -> str:
    for message in body.get("messages") or []:
        if message.get("role") == "system":
            content = message.get("content")
            return content if isinstance(content, str) else str(content)
    return ""


def _user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else str(content)
    return ""


def _tables(prompt: str) -> list[tuple[str, list[str]]]:
    tables = []
    for name, body in _CREATE.findall(prompt):
        columns = []
        for line in body.splitlines():
            words = line.strip().split()
            if words and words[0].strip('"`,').upper() not in _SKIP_WORDS:
                columns.append(words[0].strip('"`,'))
        if columns:
            tables.append((name, columns))
    if tables:
        return tables
    # the compact rendering: "table name" then indented "column TYPE ..." lines
    for match in _COMPACT_TABLE.finditer(prompt):
        columns = []
        for line in prompt[match.end():].splitlines()[1:]:
            if not line.startswith("  "):
                break
            columns.append(line.split()[0])
        if columns:
            tables.append((match.group(1), columns))
    return tables


def synthetic_query(prompt: str, salt: Any) -> str:
    """A valid query over one of the prompt's tables; different salts give different shapes."""
    tables = _tables(prompt)
    if not tables:
        return "SELECT 1"
    pick = _digest(prompt[:2000], salt)
    name, columns = tables[pick % len(tables)]
    q = "`" if "MySQL" in prompt else '"'  # MySQL reads "x" as a string
    table, col = f"{q}{name}{q}", f"{q}{columns[(pick // 7) % len(columns)]}{q}"
    shape = (pick // 101) % 4
    if shape == 0:
        return f"SELECT COUNT(*) FROM {table}"
    if shape == 1:
        return f"SELECT DISTINCT {col} FROM {table} ORDER BY {col} LIMIT 5"
    if shape == 2:
        return f"SELECT {col}, COUNT(*) FROM {table} GROUP BY {col}"
    return f"SELECT MIN({col}), MAX({col}) FROM {table}"


class PipelineResponder:
    """Call with a chat request body; returns one answer per requested choice.

    ``solve_rate`` is the share of execution-classifier attempts that reproduce the gold query
    (the rest answer a different query), so difficulty labels vary realistically.
    """

    def __init__(self, solve_rate: float = 0.6, *, mean_latency: float = 0.0,
                 latency_seed: int = 0) -> None:
        self.solve_rate = solve_rate
        #: when set, each answer waits an exponentially distributed time with this mean: real
        #: endpoints have long-tailed latency, which is what hurts step-by-step execution
        self.mean_latency = mean_latency
        self._latency_rng = random.Random(latency_seed)

    def __call__(self, body: dict[str, Any]) -> list[str]:
        if self.mean_latency > 0:
            time.sleep(self._latency_rng.expovariate(1.0 / self.mean_latency))
        prompt = _user_text(body)
        n = int(body.get("n") or 1)
        seed = body.get("seed")
        engine_answer = self._engine_stage(_system_text(body), prompt)
        if engine_answer is not None:
            return [engine_answer] * n
        return [self.answer(prompt, (seed, i)) for i in range(n)]

    @staticmethod
    def _engine_stage(system: str, prompt: str) -> str | None:
        """Answers for the content-aware engine's stages (when it is the execution solver)."""
        from sqlsynth.engine import prompts as engine_prompts

        if system.startswith(engine_prompts.KEYWORD_MARKER):
            return engine_prompts.fenced_json({"content_keywords": []})
        if system.startswith(engine_prompts.VARIANT_MARKER):
            return engine_prompts.fenced_json({"values": []})
        if system.startswith((engine_prompts.GENERATE_MARKER, engine_prompts.REVISE_MARKER)):
            gold = decoded_sql(prompt)
            return f"```sql\n{gold[-1].strip() if gold else 'SELECT 1'}\n```"
        return None

    def answer(self, prompt: str, salt: Any) -> str:
        if "<question>" in prompt:
            return self._question(prompt, salt)
        if "VERDICT" in prompt:
            return "The query returns exactly what the question asks for.\nVERDICT: YES"
        if "Hint, a correct query" in prompt:
            sql = _FENCED_SQL.findall(prompt)[-1].strip()
            return (
                f"First find the tables that hold the requested data ({_names_in(sql)}), then "
                "apply the filters and the output columns the question names."
                f"\n```sql\n{sql}\n```"
            )
        if prompt.startswith("Task: write a"):
            gold = decoded_sql(prompt)
            if gold and (_digest(prompt, salt) % 100) < self.solve_rate * 100:
                return f"Reasoning done.\n```sql\n{gold[-1].strip()}\n```"
            return f"Reasoning done.\n```sql\n{synthetic_query(prompt, salt)}\n```"
        if "Original query:" in prompt:
            return f"```sql\n{synthetic_query(prompt, ('variation', salt))}\n```"
        return f"```sql\n{synthetic_query(prompt, salt)}\n```"

    @staticmethod
    def _question(prompt: str, salt: Any) -> str:
        sql = _FENCED_SQL.findall(prompt)[-1].strip()
        # The query rides along in the question so the solver step can reproduce it; the
        # wording varies with the candidate so choosing among candidates is exercised.
        opening = ("Which values does the request", "What does the request",
                   "What is the result of the request")[_digest(salt) % 3]
        ending = ("return", "give", "show")[_digest(salt) % 3]
        return (
            f"<question>{opening} numbered {encode_sql(sql)} {ending}?</question>\n"
            "<evidence>The request names tables and columns directly.</evidence>"
        )
