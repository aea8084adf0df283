"""SQLite: a folder (or a single file) of database files, opened read-only.

db_id rule: a file directly inside root_path is named by its stem; a file inside a subfolder
is named by that folder when the folder holds exactly one database file (Spider/BIRD layout
`root/<db_id>/<db_id>.sqlite`), otherwise by its stem. Two files with the same db_id are an error.

Read-only walls: `mode=ro` URI, `PRAGMA query_only=ON`, extension loading off, and an
authorizer that allows only reads, a few introspection pragmas and non-dangerous functions.
Memory walls: no string or blob may grow past the result-size cap (SQLITE_LIMIT_LENGTH);
each text value is counted against the cap as it is decoded, before its row is built; and
the worker's SQLite heap is capped (`prepare_worker`), so a row of many large values fails
while SQLite builds it.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlsynth.db.engines.base import Engine, RowBudget, fetch_into
from sqlsynth.db.guard import FORBIDDEN_FUNCTIONS
from sqlsynth.db.memory import MiB, set_sqlite_heap_limit, sqlite_heap_limit
from sqlsynth.db.result import ExecStatus
from sqlsynth.db.schema import Column, ForeignKey, Table, quote_ident, sql_string

SUFFIXES = (".sqlite", ".sqlite3", ".db")
_MAGIC = b"SQLite format 3\x00"
_READ_PRAGMAS = frozenset(
    {
        "table_info",
        "table_xinfo",
        "foreign_key_list",
        "index_list",
        "index_info",
        "index_xinfo",
        "table_list",
        "database_list",
        "collation_list",
        "function_list",
    }
)
_PROGRESS_STEPS = 1000
_MIN_VALUE_LIMIT = 1 << 20  # strings/blobs up to this size are always allowed mid-query
_HEAP_VALUE_BOUND = 64 * MiB  # the longest value the heap limit leaves room for, four times


def discover(root: Path) -> dict[str, Path]:
    """Map db_id -> database file under `root` (see the module docstring for the rule)."""
    root = Path(root)
    if root.is_file():
        if not _looks_like_sqlite(root):
            # e.g. a CSV or a text file given as --db: one clear line, not an empty run
            raise ValueError(f"{root}: not an SQLite database file (it does not start with "
                             "the SQLite header)")
        return {root.stem: root.resolve()}
    if not root.is_dir():
        raise FileNotFoundError(f"SQLite root_path does not exist: {root}")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in SUFFIXES and p.is_file() and _looks_like_sqlite(p)
    )
    per_folder: dict[Path, int] = {}
    for p in files:
        per_folder[p.parent] = per_folder.get(p.parent, 0) + 1
    found: dict[str, Path] = {}
    for p in files:
        in_own_folder = p.parent != root and per_folder[p.parent] == 1
        db_id = p.parent.name if in_own_folder else p.stem
        if db_id in found:
            raise ValueError(f"two SQLite files map to db_id {db_id!r}: {found[db_id]} and {p}")
        found[db_id] = p.resolve()
    return found


def _looks_like_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return head == _MAGIC or head == b""  # an empty file is an empty database


def _authorizer(action: int, arg1: str | None, arg2: str | None, _db: Any, _src: Any) -> int:
    if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION:
        name = (arg2 or "").lower()
        return sqlite3.SQLITE_DENY if name in FORBIDDEN_FUNCTIONS else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_PRAGMA:
        name = (arg1 or "").lower()
        return sqlite3.SQLITE_OK if name in _READ_PRAGMAS else sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_DENY


def parse_column_comments(ddl: str) -> tuple[dict[str, str], str | None]:
    """`-- comment` / `/* comment */` texts in a CREATE TABLE statement, by lower-cased column.

    A comment belongs to the first identifier on its line (`name TEXT, -- the name`); a
    comment on a line without a column definition before the first column is the table comment.
    """
    comments: dict[str, str] = {}
    table_comment: str | None = None
    in_body = False
    for code, comment in _split_lines(ddl):
        head_line = not in_body
        if not in_body:
            if "(" not in code:
                if comment and table_comment is None:
                    table_comment = comment
                continue
            in_body = True
            code = code.split("(", 1)[1]
        first = _first_identifier(code.strip().lstrip(",").strip())
        if not comment:
            continue
        if first and first.upper() not in _CONSTRAINT_WORDS:
            comments.setdefault(first.lower(), comment)
        elif head_line and table_comment is None:
            table_comment = comment
    return comments, table_comment


_CONSTRAINT_WORDS = frozenset({"PRIMARY", "FOREIGN", "CONSTRAINT", "UNIQUE", "CHECK"})


def _split_lines(sql: str) -> list[tuple[str, str | None]]:
    """Lines as (code, comment) pairs, aware of quotes so `'--'` in a literal is not a comment.

    Both comment styles count: `-- to the end of the line` and `/* block */` (a block comment
    belongs to the line it starts on; its inner whitespace is collapsed).
    """
    out: list[tuple[str, str | None]] = []
    code: list[str] = []
    comment: str | None = None
    quote: str | None = None
    i, n = 0, len(sql)
    closers = {"'": "'", '"': '"', "`": "`", "[": "]"}

    def end_line() -> None:
        nonlocal code, comment
        out.append(("".join(code), comment))
        code, comment = [], None

    while i < n:
        ch = sql[i]
        if quote:
            code.append(ch)
            if ch == closers[quote]:
                quote = None
        elif ch in closers:
            quote = ch
            code.append(ch)
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            comment = comment or sql[i + 2 : end].strip() or None
            end_line()
            i = end + 1
            continue
        elif ch == "/" and sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end
            comment = comment or " ".join(sql[i + 2 : end].split()) or None
            code.append(" ")
            i = end + 2
            continue
        elif ch == "\n":
            end_line()
        else:
            code.append(ch)
        i += 1
    if code or comment:
        end_line()
    return out


def _first_identifier(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    closers = {'"': '"', "`": "`", "[": "]"}
    if text[0] in closers:
        end = text.find(closers[text[0]], 1)
        return text[1:end] if end > 0 else None
    word = []
    for ch in text:
        if ch.isalnum() or ch == "_" or ord(ch) > 127:
            word.append(ch)
        else:
            break
    return "".join(word) or None


class SQLiteEngine(Engine):
    db_type = "sqlite"
    dialect = "sqlite"
    engine_name = "SQLite"

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        root = config.get("root_path") or config.get("path")
        if not root:
            raise ValueError("SQLite config needs 'root_path' (a folder or a database file)")
        self.root = Path(root)
        self.paths = discover(self.root)

    def list_databases(self) -> list[str]:
        return sorted(self.paths)

    def path_of(self, db_id: str) -> Path:
        return self.paths[db_id]

    def server_version(self) -> str:
        return sqlite3.sqlite_version

    def connect(self, db_id: str) -> sqlite3.Connection:
        uri = self.paths[db_id].as_uri() + "?mode=ro"
        conn = sqlite3.connect(
            uri, uri=True, check_same_thread=False, isolation_level=None, timeout=0.0,
            factory=_Connection,
        )
        conn.execute("PRAGMA query_only = ON")
        if hasattr(conn, "enable_load_extension"):
            conn.enable_load_extension(False)
        conn.set_authorizer(_authorizer)
        conn._sqlsynth_meter = _TextMeter()
        conn.text_factory = conn._sqlsynth_meter.decode
        conn._sqlsynth_busy = 0  # busy timeout in ms now set (a locked file waits this long)
        return conn

    def prepare_worker(self, memory_limit: int | None) -> None:
        set_sqlite_heap_limit(sqlite_heap_limit(memory_limit, _HEAP_VALUE_BOUND))

    def _set_busy_timeout(self, conn: sqlite3.Connection, timeout: float) -> None:
        """Wait for a locked file at most the query's own time limit."""
        ms = max(1, int(timeout * 1000))
        if getattr(conn, "_sqlsynth_busy", None) != ms:
            conn.set_authorizer(None)  # trusted pragma; the authorizer refuses it
            try:
                conn.execute(f"PRAGMA busy_timeout = {ms}")
            finally:
                conn.set_authorizer(_authorizer)
            conn._sqlsynth_busy = ms

    def reset(self, conn: sqlite3.Connection) -> bool:
        """The authorizer leaves a statement no way to change session state (no PRAGMA
        writes, ATTACH, temporary objects or functions); a connection left inside a
        transaction or with changes counted is closed all the same."""
        return not conn.in_transaction and conn.total_changes == 0

    def close_connection(self, conn: sqlite3.Connection) -> None:
        conn.close()

    def _run(self, conn, sql, limits, deadline, explain):
        def progress() -> int:
            return 1 if time.monotonic() > deadline else 0

        self._set_busy_timeout(conn, max(0.001, deadline - time.monotonic()))
        if self.engine_side_timeout:
            conn.set_progress_handler(progress, _PROGRESS_STEPS)
        # randomblob(1e9), zeroblob(1e9), printf('%.*c', 1e9, 'x') would each allocate a
        # gigabyte before the result-size cap sees it: bound every string/blob SQLite builds.
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, max(limits.max_bytes, _MIN_VALUE_LIMIT))
        meter = getattr(conn, "_sqlsynth_meter", None)
        if meter is not None:
            meter.start(limits.max_bytes)
        cur = conn.cursor()
        try:
            cur.execute(f"EXPLAIN QUERY PLAN {sql}" if explain else sql)
            columns = tuple(d[0] for d in cur.description or ())
            budget = RowBudget(limits, deadline)
            fetch_into(cur, budget)
            return columns, budget
        except TextTooLarge:
            budget = RowBudget(limits, deadline)
            budget.too_large = True
            return tuple(d[0] for d in cur.description or ()), budget
        finally:
            cur.close()
            conn.set_progress_handler(None, 0)
            if meter is not None:
                meter.start(None)

    def interrupt(self, conn) -> None:
        conn.interrupt()

    def classify_error(self, exc: Exception, *, timed_out: bool) -> ExecStatus:
        msg = str(exc).lower()
        code = getattr(exc, "sqlite_errorcode", None)
        if "interrupted" in msg and timed_out:
            return ExecStatus.TIMEOUT
        if code == sqlite3.SQLITE_TOOBIG or "string or blob too big" in msg:
            return ExecStatus.TOO_LARGE
        if (
            code in (sqlite3.SQLITE_AUTH, sqlite3.SQLITE_READONLY)
            or "not authorized" in msg
            or "readonly" in msg
            or "one statement at a time" in msg
        ):
            return ExecStatus.FORBIDDEN
        if "syntax error" in msg or "incomplete input" in msg or "unrecognized token" in msg:
            return ExecStatus.SYNTAX_ERROR
        return ExecStatus.RUNTIME_ERROR

    # -- introspection ---------------------------------------------------------------------
    def introspect(self, conn, db_id: str) -> list[Table]:
        rows = conn.execute(
            "SELECT name, sql, type FROM sqlite_master WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
        ).fetchall()
        tables = []
        for name, ddl, kind in rows:  # views are listed (and queried) like tables
            # the pragma takes the table's name itself (a string), not a quoted identifier
            info = conn.execute(f"PRAGMA table_info({sql_string(name)})").fetchall()
            comments, table_comment = parse_column_comments(ddl or "")
            if kind == "view":
                table_comment = f"view: {table_comment}" if table_comment else "view"
            columns = [
                Column(
                    name=c[1],
                    type=(c[2] or "").upper(),
                    nullable=not c[3] and not c[5],
                    comment=comments.get(c[1].lower()),
                )
                for c in info
            ]
            pk = [c[1] for c in sorted((c for c in info if c[5]), key=lambda c: c[5])]
            tables.append(
                Table(name=name, columns=columns, primary_key=pk, comment=table_comment, ddl=ddl)
            )
        by_name = {t.name.lower(): t for t in tables}
        for table in tables:
            groups: dict[int, list] = {}
            pragma = f"PRAGMA foreign_key_list({sql_string(table.name)})"
            for fk in conn.execute(pragma).fetchall():
                groups.setdefault(fk[0], []).append(fk)
            for parts in groups.values():
                parts.sort(key=lambda r: r[1])
                ref = parts[0][2]
                ref_cols = [p[4] for p in parts]
                if any(c is None for c in ref_cols):  # REFERENCES t without columns -> its PK
                    target = by_name.get(ref.lower())
                    ref_cols = list(target.primary_key) if target else ref_cols
                table.foreign_keys.append(
                    ForeignKey(columns=[p[3] for p in parts], ref_table=ref, ref_columns=ref_cols)
                )
        return tables

    def column_samples_sql(self, table: str, column: str, scan: int) -> str:
        t, c = quote_ident(table, "sqlite", always=True), quote_ident(column, "sqlite", always=True)
        return f"SELECT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT {int(scan)}"

    def table_rows_sql(self, table: str, n: int) -> str:
        return f"SELECT * FROM {quote_ident(table, 'sqlite', always=True)} LIMIT {int(n)}"


class _Connection(sqlite3.Connection):
    """A connection that can carry the engine's per-session notes (busy timeout set)."""


def _decode_text(raw: bytes) -> str:
    """Databases in the wild hold invalid UTF-8; keep the row instead of failing the query."""
    return raw.decode("utf-8", errors="replace")


class TextTooLarge(Exception):
    """The text values of one result passed the byte cap while being decoded."""


class _TextMeter:
    """The connection's text factory: counts every text value of a statement's result as
    SQLite hands it over, so a row of many long strings stops before it is built."""

    def __init__(self) -> None:
        self.limit: int | None = None
        self.total = 0

    def start(self, limit: int | None) -> None:
        self.limit, self.total = limit, 0

    def decode(self, raw: bytes) -> str:
        if self.limit is not None:
            self.total += len(raw)
            if self.total > self.limit:
                raise TextTooLarge
        return _decode_text(raw)
