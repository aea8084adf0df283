"""``SQLExecutionFilter``: keep SQL that really runs within a time limit, and (in synthesis)
whose result is an answer at all."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from sqlsynth.db.result import ExecResult
from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.helpers import failed_execution, sql_and_db, with_canonical_sql
from sqlsynth.operators.quality import with_check

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database

#: degenerate result kind -> reject reason
DEGENERATE_RESULTS = {
    "empty": "empty_result",
    "all_null": "all_null_result",
    "truncated": "truncated_result",
}


def degenerate_kind(res: ExecResult, kinds: Iterable[str]) -> str | None:
    """The first of ``kinds`` (``empty``, ``all_null``, ``truncated``) that ``res`` is."""
    for kind in kinds:
        if kind == "empty" and not res.rows:
            return kind
        if kind == "all_null" and res.rows and all(v is None for r in res.rows for v in r):
            return kind
        if kind == "truncated" and res.truncated:
            return kind
    return None


class SQLExecutionFilter(Operator):
    """Keeps SQL that really runs within a time limit and, optionally, whose result is an answer.

    Executes the SQL through the database layer's safe executor (read-only, row and size caps)
    and keeps the row when it succeeds within ``timeout`` seconds. ``reject_results`` names
    degenerate results to drop as well, since a question whose answer is nothing is rarely what a
    user asked for: ``empty`` (no rows; often a filter on a value the database does not store),
    ``all_null`` (rows, but every value NULL) and ``truncated`` (cut at the row cap: too big to be
    an answer, and not comparable by execution later). ``drop_empty=True`` is the older spelling
    of ``("empty",)``. With ``results_checked_when`` set to a field name, the result checks apply
    only to rows where that field is set (refine: ``sql_variation_type``, so the model's rewrites
    are checked and the user's own rows are not).

    Input columns:
        - SQL (str): the query (``input_sql_key``, default ``SQL``).
        - db_id (str): its database (``input_db_id_key``, default ``db_id``).
    Output columns:
        - SQL (str): the kept row's SQL in the form that was checked and run
          (``DatabaseManager.canonical_sql``, the guard's rendering).
        - checks_passed (list[str]): with a result check on, ``"result_not_degenerate"`` is
          appended; without, rows pass unchanged.
    Reject reasons:
        - ``empty_sql``: ``SQL`` holds no SQL.
        - ``unknown_db_id``: no such database.
        - ``forbidden``, ``syntax_error``, ``runtime_error``, ``timeout``, ``too_large``: the
          execution failed with that status.
        - ``empty_result``, ``all_null_result``, ``truncated_result``: the result is of a kind
          named in ``reject_results``.
    Example:
        >>> op = SQLExecutionFilter(database_manager=db, timeout=5.0, reject_results=("empty",))
        >>> op.run(storage=storage.step(), input_sql_key="SQL", input_db_id_key="db_id")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
    }

    def __init__(self, database_manager: Database, timeout: float = 5.0, *,
                 drop_empty: bool = False, reject_results: Iterable[str] = (),
                 results_checked_when: str | None = None) -> None:
        super().__init__()
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        kinds = list(dict.fromkeys([*(["empty"] if drop_empty else []), *reject_results]))
        unknown = sorted(set(kinds) - set(DEGENERATE_RESULTS))
        if unknown:
            raise ValueError(f"unknown reject_results {unknown}; "
                             f"choose from {sorted(DEGENERATE_RESULTS)}")
        self.database_manager = database_manager
        self.timeout = float(timeout)
        self.reject_results = tuple(kinds)
        self.drop_empty = "empty" in kinds
        self.results_checked_when = results_checked_when

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"], self.keys["input_db_id_key"]]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        checked = sql_and_db(row, self.keys["input_sql_key"], self.keys["input_db_id_key"],
                             self.database_manager)
        if isinstance(checked, Reject):
            return checked
        sql, db_id = checked
        res = await self.database_manager.aexecute(db_id, sql, timeout=self.timeout)
        if not res.ok:
            return failed_execution(res)
        row = with_canonical_sql(row, self.keys["input_sql_key"], sql, self.database_manager)
        if self.results_checked_when and not row.get(self.results_checked_when):
            return [row]  # e.g. refine: the user's own rows are theirs to keep
        kind = degenerate_kind(res, self.reject_results)
        if kind is not None:
            return Reject(DEGENERATE_RESULTS[kind], _describe(res))
        if not self.reject_results:
            return [row]
        return [with_check(row, "result_not_degenerate")]


def _describe(res: ExecResult) -> str:
    if not res.rows:
        return f"no rows ({len(res.columns)} columns)"
    cut = ", cut at the row cap" if res.truncated else ""
    return f"{len(res.rows)} rows ({len(res.columns)} columns{cut})"
