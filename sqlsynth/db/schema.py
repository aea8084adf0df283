"""Engine-neutral description of a database, and the three text renderings used in prompts."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

MAX_TEXT_CHARS = 80  # longer sample strings are cut: prompts need a hint, not the document


@dataclass
class Column:
    name: str
    type: str
    comment: str | None = None
    nullable: bool = True
    samples: list = field(default_factory=list)


@dataclass
class ForeignKey:
    columns: list[str]
    ref_table: str
    ref_columns: list[str]


@dataclass
class Table:
    name: str
    columns: list[Column]
    primary_key: list[str] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    comment: str | None = None
    ddl: str | None = None  # the engine's own CREATE statement when it keeps one (SQLite)

    def column(self, name: str) -> Column | None:
        low = name.lower()
        return next((c for c in self.columns if c.name.lower() == low), None)


@dataclass
class Schema:
    db_id: str
    tables: list[Table]
    dialect: str = "sqlite"

    def table(self, name: str) -> Table | None:
        low = name.lower()
        return next((t for t in self.tables if t.name.lower() == low), None)

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self.tables]


_PLAIN_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = frozenset(
    [
        "select",
        "from",
        "where",
        "group",
        "order",
        "by",
        "having",
        "limit",
        "table",
        "index",
        "key",
        "primary",
        "foreign",
        "references",
        "create",
        "drop",
        "insert",
        "update",
        "delete",
        "join",
        "on",
        "as",
        "and",
        "or",
        "not",
        "null",
        "default",
        "check",
        "unique",
        "values",
        "into",
        "union",
        "all",
        "distinct",
        "case",
        "when",
        "then",
        "else",
        "end",
        "in",
        "is",
        "like",
        "between",
        "exists",
        "with",
        "desc",
        "asc",
        "column",
        "constraint",
        "user",
        "range",
        "rank",
    ]
)


def quote_ident(name: str, dialect: str, *, always: bool = False) -> str:
    """Quote an identifier only when it needs it, so prompts stay readable; `always` for
    SQL that sqlsynth itself runs, where no reserved-word list can be trusted to be complete."""
    plain = not always and _PLAIN_IDENT.match(name) and name.lower() not in _RESERVED
    if plain and (dialect != "postgres" or name == name.lower()):  # PostgreSQL folds case
        return name
    if dialect == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    """A standard SQL string literal (quotes doubled; no backslash escapes)."""
    return "'" + text.replace("'", "''") + "'"


def render_literal(value: object, dialect: str = "sqlite", max_chars: int = MAX_TEXT_CHARS) -> str:
    """A value as a SQL literal; long text and binary values are shortened."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        shown = raw[: max_chars // 2].hex()
        return f"X'{shown}'" + ("..." if len(raw) > max_chars // 2 else "")
    if isinstance(value, _dt.datetime):
        return "'" + value.isoformat(sep=" ") + "'"
    if isinstance(value, (_dt.date, _dt.time)):
        return "'" + value.isoformat() + "'"
    text = str(value)
    cut = len(text) > max_chars
    text = text[:max_chars].replace("'", "''").replace("\n", " ")
    return "'" + text + ("...'" if cut else "'")


def render_create_statements(schema: Schema) -> str:
    """CREATE TABLE statements; the engine's own DDL when stored, otherwise generated."""
    return "\n\n".join(
        t.ddl.strip().rstrip(";") + ";" if t.ddl else _create(t, schema.dialect)
        for t in schema.tables
    )


def _create(table: Table, dialect: str) -> str:
    q = lambda n: quote_ident(n, dialect)
    lines = []
    for col in table.columns:
        line = f"  {q(col.name)} {col.type}".rstrip()
        if not col.nullable:
            line += " NOT NULL"
        lines.append([line, col.comment])
    if table.primary_key:
        lines.append([f"  PRIMARY KEY ({', '.join(q(c) for c in table.primary_key)})", None])
    for fk in table.foreign_keys:
        cols = ", ".join(q(c) for c in fk.columns)
        refs = ", ".join(q(c) for c in fk.ref_columns)
        lines.append([f"  FOREIGN KEY ({cols}) REFERENCES {q(fk.ref_table)} ({refs})", None])
    body = []
    for i, (line, comment) in enumerate(lines):
        sep = "," if i < len(lines) - 1 else ""
        body.append(f"{line}{sep}" + (f" -- {_one_line(comment)}" if comment else ""))
    head = f"CREATE TABLE {q(table.name)} ("
    if table.comment:
        head = f"-- {_one_line(table.comment)}\n{head}"
    return head + "\n" + "\n".join(body) + "\n);"


def render_inserts(
    table: Table, columns: Sequence[str], rows: Sequence[Sequence], dialect: str
) -> str:
    """INSERT statements for sample rows of one table."""
    q = lambda n: quote_ident(n, dialect)
    cols = ", ".join(q(c) for c in columns)
    return "\n".join(
        f"INSERT INTO {q(table.name)} ({cols}) VALUES "
        f"({', '.join(render_literal(v, dialect) for v in row)});"
        for row in rows
    )


def render_schema_with_examples(schema: Schema, engine_name: str = "") -> str:
    """Compact schema for LLM prompts: one line per column with markers and example values.

    Format::

        table singer -- table comment
          singer_id INTEGER PK; e.g. 1, 2, 3
          country TEXT -- country of birth; e.g. 'France', 'Peru'
          stadium_id INTEGER FK -> stadium.stadium_id; e.g. 4, 7
    """
    d = schema.dialect
    out = []
    if engine_name:
        out.append(f"-- database {schema.db_id} ({engine_name})")
    for table in schema.tables:
        head = f"table {quote_ident(table.name, d)}"
        if table.comment:
            head += f" -- {_one_line(table.comment)}"
        out.append(head)
        single_fk = {fk.columns[0].lower(): fk for fk in table.foreign_keys if len(fk.columns) == 1}
        pk_lower = {c.lower() for c in table.primary_key}
        for col in table.columns:
            line = f"  {quote_ident(col.name, d)} {col.type}".rstrip()
            if col.name.lower() in pk_lower:
                line += " PK"
            fk = single_fk.get(col.name.lower())
            if fk is not None:
                line += f" FK -> {quote_ident(fk.ref_table, d)}.{quote_ident(fk.ref_columns[0], d)}"
            if col.comment:
                line += f" -- {_one_line(col.comment)}"
            if col.samples:
                line += "; e.g. " + ", ".join(render_literal(v, d, 40) for v in col.samples)
            out.append(line)
        if len(table.primary_key) > 1:
            out.append(f"  PRIMARY KEY ({', '.join(quote_ident(c, d) for c in table.primary_key)})")
        for fk in table.foreign_keys:
            if len(fk.columns) > 1:
                cols = ", ".join(quote_ident(c, d) for c in fk.columns)
                refs = ", ".join(quote_ident(c, d) for c in fk.ref_columns)
                out.append(f"  FOREIGN KEY ({cols}) -> {quote_ident(fk.ref_table, d)}({refs})")
    return "\n".join(out)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
