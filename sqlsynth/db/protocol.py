"""What an operator needs of a database: the ``Database`` protocol.

Operators are typed against this protocol, not ``DatabaseManager`` itself, so a test double or
another executor (a remote one, say) can stand in; ``DatabaseManager`` implements it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from sqlsynth.db.result import ExecResult


@runtime_checkable
class Database(Protocol):
    dialect: str  # sqlglot dialect: "sqlite" | "mysql" | "postgres"

    def list_databases(self) -> list[str]: ...

    def database_exists(self, db_id: str) -> bool: ...

    def render_schema_with_examples(self, db_id: str) -> str: ...

    async def aexecute(self, db_id: str, sql: str, **kw: Any) -> ExecResult: ...

    async def aexplain(self, db_id: str, sql: str) -> ExecResult: ...

    async def aexecute_many(self, pairs: Sequence[tuple[str, str]],
                            **kw: Any) -> list[ExecResult]: ...
