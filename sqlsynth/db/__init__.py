"""Databases: discovery, schema, safe execution of untrusted SQL, result comparison.

Drivers (pymysql, psycopg) are imported only when an engine that needs them is used.
"""

from __future__ import annotations

from sqlsynth._lazy import lazy_exports

_EXPORTS = {
    "DatabaseManager": "sqlsynth.db.manager",
    "ExecResult": "sqlsynth.db.result",
    "ExecStatus": "sqlsynth.db.result",
    "results_match": "sqlsynth.db.compare",
    "result_signature": "sqlsynth.db.compare",
    "comparable": "sqlsynth.db.compare",
    "query_orders_output": "sqlsynth.db.compare",
    "normalize_value": "sqlsynth.db.compare",
    "Schema": "sqlsynth.db.schema",
    "Table": "sqlsynth.db.schema",
    "Column": "sqlsynth.db.schema",
    "ForeignKey": "sqlsynth.db.schema",
    "check_read_only": "sqlsynth.db.guard",
    "GuardDecision": "sqlsynth.db.guard",
    "canonical_sql": "sqlsynth.db.guard",
    "ALLOWED_FUNCTIONS": "sqlsynth.db.functions",
    "parse_database_url": "sqlsynth.db.url",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
