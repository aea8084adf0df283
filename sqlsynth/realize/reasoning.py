"""Canonical reasoning: the step-by-step chain of thought of a query, read off its tree.

The steps follow the order in which one writes the query (the CoT prompt asks a model for the
same): the tables and how they join, the filters with their values, the grouping, the output
columns, the ordering, and last the query itself in a ```sql block, which
``Text2SQLCoTVotingGenerator`` extracts and checks by execution like any model's answer.
Fragments are shown as SQL in the query's dialect, so the reasoning never contradicts it.

>>> from sqlsynth.db.schema import Column, Schema, Table
>>> schema = Schema("m", [Table("singer", [Column("name", "TEXT"), Column("age", "INT")])])
>>> print(canonical_reasoning("SELECT name FROM singer WHERE age > 30", schema))
1. The data comes from the table singer.
2. Keep only the rows where age > 30 (the value 30 as stored).
3. Return name.
<BLANKLINE>
```sql
SELECT name FROM singer WHERE age > 30
```
"""

from __future__ import annotations

from sqlglot import exp

from sqlsynth.db.schema import Schema
from sqlsynth.realize.errors import NotRealizable
from sqlsynth.sql.parse import SQLParseError, parse_single

_SET_OPERATIONS = {
    "union": "UNION: rows of either part, each distinct row once",
    "union_all": "UNION ALL: the rows of both parts, duplicates kept",
    "intersect": "INTERSECT: only rows that both parts return",
    "except": "EXCEPT: rows of the first part that the second part does not return",
}


def canonical_reasoning(sql: str, schema: Schema, dialect: str = "sqlite") -> str:
    """Numbered reasoning steps for ``sql``, ending in the query in a ```sql block (the query
    exactly as given, without a trailing semicolon). ``NotRealizable`` when it cannot be
    parsed as one query."""
    try:
        tree = parse_single(sql, dialect)
    except SQLParseError as err:
        raise NotRealizable(f"unparseable SQL: {err}") from err
    if not isinstance(tree, exp.Query):
        raise NotRealizable(f"statement {tree.key.upper()}")
    steps = _Steps(schema, dialect)
    steps.query(tree)
    body = "\n".join(f"{i}. {s}" for i, s in enumerate(steps.lines, 1))
    final = sql.strip().rstrip(";").rstrip()
    return f"{body}\n\n```sql\n{final}\n```"


class _Steps:
    def __init__(self, schema: Schema, dialect: str) -> None:
        self.schema = schema
        self.dialect = dialect
        self.lines: list[str] = []

    def sql(self, node: exp.Expression) -> str:
        return node.sql(self.dialect)

    def query(self, node: exp.Expression, part: str = "") -> None:
        if isinstance(node, exp.Subquery):
            node = node.this
        with_ = node.args.get("with_") or node.args.get("with")
        if with_ is not None:
            for cte in with_.expressions:
                self.lines.append(f"First define {cte.alias} as: {self.sql(cte.this)}.")
        if isinstance(node, exp.SetOperation):
            kind = node.key
            if kind == "union" and not node.args.get("distinct", True):
                kind = "union_all"
            self.query(node.this, "For the first part: ")
            self.query(node.expression, "For the second part: ")
            self.lines.append(f"Combine the two parts with {_SET_OPERATIONS[kind]}.")
            self.order_limit(node)
            return
        if isinstance(node, exp.Select):
            self.select(node, part)
            return
        raise NotRealizable(f"query {node.key.upper()}")

    def select(self, select: exp.Select, part: str) -> None:
        from_ = select.args.get("from_") or select.args.get("from")
        if from_ is not None:
            self.lines.append(f"{part}The data comes from {self.source(from_.this)}.")
            part = ""
        for join in select.args.get("joins") or []:
            kind = " ".join(w for w in (join.side, join.kind) if w).upper()
            on, using = join.args.get("on"), join.args.get("using")
            how = f"{kind + ' ' if kind else ''}JOIN"
            if on is not None:
                keys = f" on {self.sql(on)}"
            elif using:
                keys = f" using {', '.join(self.sql(u) for u in using)}"
            else:
                keys = ", every combination of rows"
            extra = " (rows without a match are kept, with missing values)" if join.side else ""
            self.lines.append(f"Add {self.source(join.this)} with {how}{keys}{extra}.")
        where = select.args.get("where")
        if where is not None:
            self.lines.append(f"{part}Keep only the rows where {self.condition(where.this)}.")
            part = ""
        group = select.args.get("group")
        if group is not None:
            keys = ", ".join(self.sql(g) for g in group.expressions)
            self.lines.append(f"Group the rows by {keys}.")
        having = select.args.get("having")
        if having is not None:
            self.lines.append(f"Keep only the groups where {self.condition(having.this)}.")
        outputs = ", ".join(self.sql(p) for p in select.expressions)
        distinct = " without duplicate rows (DISTINCT)" if select.args.get("distinct") else ""
        self.lines.append(f"{part}Return {outputs}{distinct}.")
        self.order_limit(select)

    def source(self, node: exp.Expression) -> str:
        if isinstance(node, exp.Table):
            name = self.sql(node.this)
            table = self.schema.table(node.name)
            text = f"the table {name}"
            if node.alias:
                text += f" (as {node.alias})"
            if table is not None and table.comment:
                text += f", which holds {' '.join(table.comment.split())}"
            return text
        if isinstance(node, exp.Subquery):
            alias = f" named {node.alias}" if node.alias else ""
            return f"the subquery{alias} ({self.sql(node.this)})"
        return self.sql(node)

    def condition(self, node: exp.Expression) -> str:
        values = []
        for literal in node.find_all(exp.Literal):
            values.append(self.sql(literal) if literal.is_string else str(literal.this))
        text = self.sql(node)
        if values:
            shown = ", ".join(dict.fromkeys(values))
            text += f" (the value{'s' if len(set(values)) > 1 else ''} {shown} as stored)"
        return text

    def order_limit(self, query: exp.Expression) -> None:
        order = query.args.get("order")
        if order is not None:
            keys = ", then ".join(
                f"{self.sql(o.this)} {'descending' if o.args.get('desc') else 'ascending'}"
                for o in order.expressions)
            self.lines.append(f"Sort by {keys}.")
        limit = query.args.get("limit")
        if limit is not None:
            self.lines.append(f"Keep only the first {self.sql(limit.expression)} row(s).")
        offset = query.args.get("offset")
        if offset is not None:
            self.lines.append(f"Skip the first {self.sql(offset.expression)} row(s).")
