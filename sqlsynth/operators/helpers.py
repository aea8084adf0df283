"""What the operators share: row checks, reject details, seeded LLM calls, SQL forms.

Every check returns a ``Reject`` naming what is wrong (or None), so the operators stay a
straight line of "check, then do". LLM failures split in two: ``LLMUnavailableError`` (no
request can succeed) propagates and stops the run with one message; any other failure concerns
one request, so the row it served is rejected with the reason (and, when the endpoint failed,
waits for the rerun: see ``sqlsynth.llm.failures``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

from sqlsynth.db.result import ExecResult, ExecStatus
from sqlsynth.llm.errors import LLMUnavailableError
from sqlsynth.operators.base import Reject, Row
from sqlsynth.sql import SQLParseError, parse_single

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database

_SEED_RANGE = 2**31 - 1

#: reject reason for each failed execution / EXPLAIN status
STATUS_REASONS: dict[ExecStatus, str] = {
    ExecStatus.SYNTAX_ERROR: "syntax_error",
    ExecStatus.RUNTIME_ERROR: "runtime_error",
    ExecStatus.TIMEOUT: "timeout",
    ExecStatus.FORBIDDEN: "forbidden",
    ExecStatus.UNKNOWN_DB: "unknown_db_id",
    ExecStatus.TOO_LARGE: "too_large",
}


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clip(text: str | None, limit: int = 300) -> str:
    """A one-line excerpt for a reject's detail."""
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def missing_field(row: Row, keys: Iterable[str]) -> Reject | None:
    for key in keys:
        if is_blank(row.get(key)):
            return Reject("missing_field", f"field {key!r} is missing or empty")
    return None


def unknown_db(database_manager: Database, db_id: Any) -> Reject | None:
    if not database_manager.database_exists(str(db_id)):
        return Reject("unknown_db_id", f"no database {db_id!r}")
    return None


def check_row(row: Row, keys: list[str], database_manager: Database, db_id_key: str) -> Reject | None:
    """Required fields present and non-blank, then a known database: the usual preamble."""
    return missing_field(row, keys) or unknown_db(database_manager, row[db_id_key])


def sql_and_db(row: Row, sql_key: str, db_id_key: str,
               database_manager: Database) -> tuple[str, str] | Reject:
    """The row's SQL and db_id, or why the row cannot be checked against a database."""
    sql = row.get(sql_key)
    if is_blank(sql) or not isinstance(sql, str):
        return Reject("empty_sql", f"field {sql_key!r} holds no SQL")
    db_id = str(row[db_id_key])
    return unknown_db(database_manager, db_id) or (sql, db_id)


def with_canonical_sql(row: Row, sql_key: str, sql: str, database_manager: Database) -> Row:
    """The row with its SQL in the form the database layer executed (the guard's rendering,
    see "Stored SQL" in docs/ARCHITECTURE.md), so what is stored is what was checked and run."""
    canonical = getattr(database_manager, "canonical_sql", None)
    text = canonical(sql) if callable(canonical) else None
    if not isinstance(text, str) or not text or text == sql:
        return row
    return {**row, sql_key: text}


def failed_execution(res: ExecResult) -> Reject:
    """The reject for a failed execution or EXPLAIN, with the engine's message."""
    reason = STATUS_REASONS.get(res.status, str(getattr(res.status, "value", res.status)))
    detail = clip(f"{res.error_class}: {res.error}" if res.error_class else res.error)
    return Reject(reason, detail)


def dialect_of(database_manager: Database) -> str:
    return str(getattr(database_manager, "dialect", "sqlite"))


def draw_llm_seed(rng: random.Random) -> int:
    """A request seed drawn from the row's generator, so reruns send identical requests."""
    return rng.randrange(_SEED_RANGE)


async def achat_or_reject(llm: Any, messages: list[dict], **kwargs: Any) -> list[str] | Reject:
    """``llm.achat(messages, **kwargs)``; a per-request failure becomes ``Reject("llm_error")``."""
    try:
        return list(await llm.achat(messages, **kwargs))
    except LLMUnavailableError:
        raise
    except Exception as exc:  # noqa: BLE001 - one request failed: reject the row, go on
        return Reject("llm_error", f"{type(exc).__name__}: {exc}")


def normalized_sql(sql: str, dialect: str) -> str:
    """Canonical formatting (keyword case, whitespace, quoting) keeping every literal."""
    try:
        return parse_single(sql, dialect).sql(dialect=dialect or None, comments=False)
    except SQLParseError:
        return _folded(sql)
    except Exception:  # noqa: BLE001 - sqlglot generation errors on exotic trees
        return _folded(sql)


def sql_dedup_key(row: Row, sql_key: str, db_id_key: str, dialect: str, *, by_meaning: bool,
                  literal_form: Callable[[str, str], str] | None = None) -> Hashable | None:
    """The runner's duplicate key of a row's SQL: (database, form of the SQL).

    With ``by_meaning`` the form is ``sql_meaning_key`` (literals, layout, quoting and aliases
    of one template are one query); otherwise ``literal_form`` (default ``normalized_sql``:
    layout and quoting only). None when the row has no SQL text (never a duplicate).
    """
    from sqlsynth.sql import sql_meaning_key

    sql = row.get(sql_key)
    if not isinstance(sql, str):
        return None
    form = sql_meaning_key if by_meaning else (literal_form or normalized_sql)
    return (row.get(db_id_key), form(sql, dialect))


def database_slots(database_manager: Database, count: int, what: str) -> list[Row]:
    """Seed rows ``{db_id, slot}`` of a source step: ``count`` slots per selected database.

    A run over no database would "succeed" with zero rows and no hint why, so that is an
    error naming where the databases were looked for.
    """
    db_ids = database_manager.list_databases()
    if not db_ids:
        config = getattr(database_manager, "config", None) or {}
        where = config.get("root_path") or getattr(database_manager, "db_type", "")
        raise ValueError(f"no databases to {what} in {where}")
    return [{"db_id": db_id, "slot": slot} for db_id in db_ids for slot in range(count)]


def _folded(sql: str) -> str:
    """Whitespace-folded text: the dedup form of SQL that sqlglot cannot handle."""
    return " ".join(sql.split()).rstrip(";").rstrip()


class SchemaTexts:
    """Per-database prompt texts from the database manager, rendered once per operator."""

    def __init__(self, database_manager: Database) -> None:
        self._db = database_manager
        self._memo: dict[tuple, str] = {}

    def get(self, method: str, db_id: str, **kwargs: Any) -> str:
        key = (method, db_id, tuple(sorted(kwargs.items())))
        if key not in self._memo:
            self._memo[key] = getattr(self._db, method)(db_id, **kwargs)
        return self._memo[key]
