"""Prompts of the content-aware engine, one function per LLM call.

Each system prompt opens with a distinct first line (the `*_MARKER` constants) so logs, caches
and scripted test servers can tell the stages apart. Outputs are asked for in one fenced block
(JSON or SQL) because free text is not parseable reliably.
"""

from __future__ import annotations

import json

KEYWORD_MARKER = "You link the words of a question to the contents of a database."
VARIANT_MARKER = "You guess how a value mentioned in a question is spelled inside a database column."
GENERATE_MARKER = "You write one SQL query that answers a question over a database."
REVISE_MARKER = "You repair a SQL query that failed or returned no rows."

_KEYWORD_SYSTEM = f"""{KEYWORD_MARKER}
Find two kinds of words in the question:
- content keywords: phrases that name a value stored in a cell (a place, a person, a product,
  a period, a category...). They are often worded differently from what is stored.
- schema keywords: phrases that name a table or a column, or a quantity computed from columns.
For every content keyword choose the ONE table that most likely holds it and up to 4 of that
table's columns that might contain it, best first. Use only tables and columns from the schema.
Copy each content keyword exactly as it is written in the question.

Answer with a single ```json block and nothing else, shaped like:
```json
{{"content_keywords": [{{"keyword": "...", "table": "...", "columns": ["..."]}}],
  "schema_keywords": ["..."]}}
```"""

_KEYWORD_EXAMPLE_USER = """Schema:
shops(id INTEGER; name TEXT e.g. 'Corner Books', 'Mega Mart'; region TEXT e.g. 'NW', 'SE')
sales(shop_id INTEGER; period TEXT e.g. '2021H1', '2021H2'; amount REAL e.g. 120.5)

Sample rows:
shops: (1, 'Corner Books', 'NW') | (2, 'Mega Mart', 'SE')
sales: (1, '2021H1', 120.5) | (2, '2021H2', 80.0)

Question: What did shops in the north-west sell in the first half of 2021?"""

_KEYWORD_EXAMPLE_ANSWER = """```json
{"content_keywords": [
  {"keyword": "north-west", "table": "shops", "columns": ["region", "name"]},
  {"keyword": "first half of 2021", "table": "sales", "columns": ["period"]}],
 "schema_keywords": ["shops", "sell", "amount"]}
```"""


def keyword_messages(
    question: str, evidence: str, schema_text: str, samples_text: str
) -> list[dict]:
    """Stage 1: content and schema keywords, with one table and candidate columns each."""
    user = f"Schema:\n{schema_text}\n\nSample rows:\n{samples_text}\n\nQuestion: {question}"
    if evidence:
        user += f"\nHint: {evidence}"
    return [
        {"role": "system", "content": _KEYWORD_SYSTEM},
        {"role": "user", "content": _KEYWORD_EXAMPLE_USER},
        {"role": "assistant", "content": _KEYWORD_EXAMPLE_ANSWER},
        {"role": "user", "content": user},
    ]


_VARIANT_SYSTEM = f"""{VARIANT_MARKER}
You see a keyword from a question and example values of the columns that may store it.
List up to {{k}} strings the keyword could be stored as, most likely first, imitating the
examples' format: codes and abbreviations, other spellings or casing, units, date and period
formats, the singular/plural. Include the keyword itself only if it fits the format.

Answer with a single ```json block and nothing else, shaped like:
```json
{{{{"values": ["...", "..."]}}}}
```"""

_VARIANT_EXAMPLE_USER = """Keyword: first half of 2021
Table: sales
Column period, examples: '2020H2', '2021H2', '2022H1'"""

_VARIANT_EXAMPLE_ANSWER = """```json
{"values": ["2021H1", "2021-H1", "H1 2021", "2021 H1"]}
```"""


def variant_messages(keyword: str, table: str, column_samples: dict[str, list], k: int) -> list[dict]:
    """Stage 1: up to k ways the keyword's value may be stored, given column samples."""
    lines = [f"Keyword: {keyword}", f"Table: {table}"]
    for column, values in column_samples.items():
        shown = ", ".join(_show(v) for v in values) or "(no values)"
        lines.append(f"Column {column}, examples: {shown}")
    return [
        {"role": "system", "content": _VARIANT_SYSTEM.format(k=k)},
        {"role": "user", "content": _VARIANT_EXAMPLE_USER},
        {"role": "assistant", "content": _VARIANT_EXAMPLE_ANSWER},
        {"role": "user", "content": "\n".join(lines)},
    ]


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def render_knowledge(knowledge: list[dict]) -> str:
    """One line per confirmed mapping: the phrase, then the exact condition to use."""
    lines = []
    for item in knowledge:
        value = item["value"]
        literal = "'" + value.replace("'", "''") + "'" if isinstance(value, str) else str(value)
        line = f'- "{item["keyword"]}" means {item["table"]}.{item["column"]} = {literal}'
        if item.get("note"):
            line += f"  ({item['note']})"
        lines.append(line)
    return "\n".join(lines)


def render_hints(hints: list[dict]) -> str:
    lines = []
    for hint in hints:
        shown = ", ".join(_show(v) for v in hint["values"])
        lines.append(f'- "{hint["keyword"]}" may be one of {hint["table"]}.{hint["column"]}: {shown}')
    return "\n".join(lines)


_GENERATE_SYSTEM = f"""{GENERATE_MARKER}
Use only the tables and columns of the schema and the {{engine}} dialect. When confirmed stored
values are listed, use exactly those columns and values in the conditions instead of the
question's wording. Return the query in a single ```sql block."""


def _context(
    engine: str, schema_text: str, foreign_keys: str, knowledge: list[dict], hints: list[dict]
) -> str:
    parts = [f"Database engine: {engine}", f"Schema (with example values):\n{schema_text}"]
    if foreign_keys:
        parts.append(f"Foreign keys:\n{foreign_keys}")
    if knowledge:
        parts.append(f"Confirmed stored values:\n{render_knowledge(knowledge)}")
    if hints:
        parts.append(f"Similar stored values (not confirmed):\n{render_hints(hints)}")
    return "\n\n".join(parts)


def generate_messages(
    *,
    question: str,
    evidence: str,
    engine: str,
    schema_text: str,
    foreign_keys: str,
    knowledge: list[dict],
    hints: list[dict],
) -> list[dict]:
    """Stage 3: the first SQL from question, schema, foreign keys and chosen knowledge."""
    user = _context(engine, schema_text, foreign_keys, knowledge, hints)
    user += f"\n\nQuestion: {question}"
    if evidence:
        user += f"\nHint: {evidence}"
    return [
        {"role": "system", "content": _GENERATE_SYSTEM.format(engine=engine)},
        {"role": "user", "content": user},
    ]


_REVISE_SYSTEM = f"""{REVISE_MARKER}
You get the question, the schema, the confirmed stored values and the failed query with what
the database answered. Find the cause (a wrong table or column, a value not stored in that
form, a dialect mistake, a statement that is not a read-only SELECT) and write a corrected
{{engine}} query. Return it in a single ```sql block."""


def revise_messages(
    *,
    question: str,
    evidence: str,
    engine: str,
    schema_text: str,
    foreign_keys: str,
    knowledge: list[dict],
    hints: list[dict],
    sql: str,
    outcome: str,
    error: str | None,
    error_class: str | None,
) -> list[dict]:
    """Stage 3: one revision round with the execution feedback of the previous query."""
    user = _context(engine, schema_text, foreign_keys, knowledge, hints)
    user += f"\n\nQuestion: {question}"
    if evidence:
        user += f"\nHint: {evidence}"
    user += f"\n\nQuery:\n```sql\n{sql}\n```\nOutcome: {outcome}"
    if error:
        user += f"\nError ({error_class or 'error'}): {error}"
    return [
        {"role": "system", "content": _REVISE_SYSTEM.format(engine=engine)},
        {"role": "user", "content": user},
    ]


def fenced_json(obj: object) -> str:
    """A reply in the format the JSON stages expect (used by scripted tests and docs)."""
    return "```json\n" + json.dumps(obj) + "\n```"
