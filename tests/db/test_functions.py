"""The per-dialect allowlist of side-effect-free functions (sqlsynth.db.functions).

The lists are checked three ways: against the engines (every SQLite name exists in this
SQLite or is newer than it; every PostgreSQL and MariaDB name exists on the throwaway servers
or is syntax / a newer version's), against sqlglot (common calls pass the guard), and against
the attacks (side-effecting, unknown and user-defined names are refused by name).
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from sqlsynth.db.functions import (
    ALLOWED_FUNCTIONS,
    SIDE_EFFECT_FUNCTIONS,
    allowed_function_names,
    is_allowed_function,
    normalize_function_name,
)
from sqlsynth.db.guard import check_read_only
from sqlsynth.db.result import ExecStatus

# Added to SQLite after 3.40 (the oldest SQLite the tests run on); table-valued JSON1 ones.
SQLITE_NEWER = {
    "concat", "concat_ws", "json_error_position", "json_pretty", "octet_length", "string_agg",
    "timediff", "unhex", "unistr", "jsonb", "jsonb_array", "jsonb_extract", "jsonb_group_array",
    "jsonb_group_object", "jsonb_insert", "jsonb_object", "jsonb_patch", "jsonb_remove",
    "jsonb_replace", "jsonb_set",
}
SQLITE_TABLE_VALUED = {"json_each", "json_tree"}
# PostgreSQL: SQL-standard syntax that is not a pg_proc entry, and names added after PG 13.
POSTGRES_SYNTAX = {
    "coalesce", "nullif", "greatest", "least", "extract", "trim", "current_date", "current_time",
    "current_timestamp", "localtime", "localtimestamp", "current_user", "current_role",
    "session_user", "user", "current_catalog", "xmlconcat", "xmlelement", "xmlforest",
    "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "position", "overlay", "substring",
}
POSTGRES_NEWER = {
    "any_value", "date_add", "date_subtract", "regexp_count", "regexp_instr", "regexp_like",
    "regexp_substr", "trim_array", "unistr", "json_object", "date_bin", "bit_xor",
}
# MariaDB lacks some MySQL 8 names (the tests' server is MariaDB); keywords that are syntax.
MYSQL_ONLY = {
    "regexp_like", "json_value", "json_table", "json_overlaps", "is_uuid", "is_ipv4", "is_ipv6",
    "inet6_aton", "inet6_ntoa", "json_pretty", "json_merge_patch", "json_merge_preserve",
    "natural_sort_key", "format", "regexp_substr", "regexp_instr", "weight_string",
    "uncompressed_length", "compress", "uncompress", "sha2", "convert_tz",
}
MYSQL_SYNTAX = {
    "cast", "convert", "binary", "extract", "position", "interval", "current_date",
    "current_time", "current_timestamp", "localtime", "localtimestamp", "utc_date", "utc_time",
    "utc_timestamp", "if", "char", "insert", "left", "right", "repeat", "replace", "database",
    "schema", "user", "current_user", "date", "time", "timestamp", "year", "mod", "div",
    "trim", "substring", "substr", "count", "default", "values", "row_number", "rank",
    "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
    "last_value", "nth_value", "sysdate", "now", "curdate", "curtime", "timestampadd",
    "timestampdiff", "date_add", "date_sub", "adddate", "subdate", "std", "stddev", "variance",
    "group_concat", "json_arrayagg", "json_objectagg", "bit_and", "bit_or", "bit_xor",
    "stddev_pop", "stddev_samp", "var_pop", "var_samp", "avg", "max", "min", "sum",
}


@pytest.mark.parametrize("dialect", sorted(ALLOWED_FUNCTIONS))
def test_lists_are_lower_case_names_and_never_side_effecting(dialect):
    names = ALLOWED_FUNCTIONS[dialect]
    assert len(names) > 80
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", n) for n in names), sorted(names)
    assert not names & SIDE_EFFECT_FUNCTIONS, sorted(names & SIDE_EFFECT_FUNCTIONS)
    for family in ("sleep", "_lock", "lo_", "dblink", "pg_read", "load_", "nextval", "setval"):
        assert not [n for n in names if family in n and n != "is_used_lock"], family


def test_names_are_normalized_and_user_names_are_added():
    assert normalize_function_name(' "PG_Sleep" ') == "pg_sleep"
    assert normalize_function_name("`LOAD_FILE`") == "load_file"
    assert is_allowed_function("COUNT", "mysql")
    assert not is_allowed_function("my_udf", "postgres")
    assert is_allowed_function("My_Udf", "postgres", extra=["my_udf"])
    assert "my_udf" not in allowed_function_names("postgres")
    with pytest.raises(ValueError):
        allowed_function_names("oracle")


def test_every_sqlite_name_exists_in_this_sqlite():
    conn = sqlite3.connect(":memory:")
    try:
        present = {row[0] for row in conn.execute("SELECT name FROM pragma_function_list")}
        for name in SQLITE_TABLE_VALUED:
            conn.execute(f"SELECT * FROM {name}('[1]')").fetchall()
    finally:
        conn.close()
    missing = ALLOWED_FUNCTIONS["sqlite"] - present - SQLITE_TABLE_VALUED
    assert missing <= SQLITE_NEWER, sorted(missing - SQLITE_NEWER)


@pytest.mark.servers
def test_every_postgres_name_exists_on_the_server(postgres_server):
    import psycopg

    with psycopg.connect(**_pg_kwargs(postgres_server.config())) as conn:
        rows = conn.execute("SELECT DISTINCT proname FROM pg_proc").fetchall()
    present = {r[0] for r in rows}
    missing = ALLOWED_FUNCTIONS["postgres"] - present - POSTGRES_SYNTAX
    assert missing <= POSTGRES_NEWER, sorted(missing - POSTGRES_NEWER)


@pytest.mark.servers
def test_every_mysql_name_is_a_builtin_on_the_server(mariadb_server):
    """Called with no arguments, a built-in fails on its argument count (1582) or runs (all are
    pure); a name that is not a built-in is looked up as a stored function (1305)."""
    import pymysql

    conn = pymysql.connect(**_my_kwargs(mariadb_server.config()))
    unknown = set()
    try:
        with conn.cursor() as cur:
            with pytest.raises(pymysql.MySQLError) as info:  # the probe can tell
                cur.execute("SELECT sqlsynth_no_such_function()")
            assert info.value.args[0] == 1305
            for name in sorted(ALLOWED_FUNCTIONS["mysql"] - MYSQL_SYNTAX):
                try:
                    cur.execute(f"SELECT {name}()")
                    cur.fetchall()
                except pymysql.MySQLError as exc:
                    if exc.args and exc.args[0] == 1305:
                        unknown.add(name)
    finally:
        conn.close()
    assert unknown <= MYSQL_ONLY, sorted(unknown - MYSQL_ONLY)


def _pg_kwargs(config: dict) -> dict:
    keys = {"host": "host", "port": "port", "user": "user", "password": "password"}
    out = {k: config[v] for k, v in keys.items() if config.get(v) is not None}
    out["dbname"] = config.get("database") or config.get("dbname") or "postgres"
    return out


def _my_kwargs(config: dict) -> dict:
    keys = ("host", "port", "user", "password")
    return {k: config[k] for k in keys if config.get(k) is not None}


COMMON_CALLS = {
    "sqlite": [
        "count(*)", "count(DISTINCT a)", "sum(a)", "avg(a)", "min(a)", "max(a)", "total(a)",
        "group_concat(a, ',')", "abs(a)", "round(a, 2)", "length(s)", "lower(s)", "upper(s)",
        "substr(s, 1, 2)", "trim(s)", "ltrim(s)", "rtrim(s)", "replace(s, 'a', 'b')",
        "instr(s, 'a')", "coalesce(a, 0)", "ifnull(a, 0)", "nullif(a, 0)", "iif(a > 1, 1, 0)",
        "cast(a AS TEXT)", "typeof(a)", "date(d)", "datetime(d, '+1 day')", "julianday(d)",
        "strftime('%Y', d)", "printf('%d', a)", "hex(s)", "random()", "json_extract(j, '$.a')",
        "row_number() OVER (ORDER BY a)", "lag(a) OVER (ORDER BY a)",
    ],
    "mysql": [
        "COUNT(*)", "SUM(a)", "AVG(a)", "ROUND(a, 2)", "CONCAT(s, 'x')", "CONCAT_WS('-', s, t)",
        "LENGTH(s)", "CHAR_LENGTH(s)", "SUBSTRING(s, 1, 2)", "SUBSTRING_INDEX(s, '.', 1)",
        "LOCATE('a', s)", "UPPER(s)", "LOWER(s)", "LPAD(s, 5, '0')", "IFNULL(a, 0)",
        "IF(a > 1, 1, 0)", "COALESCE(a, 0)", "NOW()", "CURDATE()", "DATE(d)", "YEAR(d)",
        "MONTH(d)", "DAY(d)", "DATEDIFF(d, e)", "DATE_ADD(d, INTERVAL 1 DAY)",
        "DATE_FORMAT(d, '%Y')", "TIMESTAMPDIFF(DAY, d, e)", "STR_TO_DATE(s, '%Y-%m-%d')",
        "CAST(a AS CHAR)", "GROUP_CONCAT(s SEPARATOR ',')", "FLOOR(a)", "CEIL(a)", "MD5(s)",
        "REPLACE(s, 'a', 'b')", "TRIM(s)", "LEFT(s, 2)", "RIGHT(s, 2)", "ABS(a)", "MOD(a, 2)",
    ],
    "postgres": [
        "count(*)", "sum(a)", "avg(a)", "round(a, 2)", "round(avg(a), 2)", "length(s)",
        "lower(s)", "upper(s)", "substring(s from 1 for 2)", "substr(s, 1, 2)", "position('a' in s)",
        "trim(s)", "coalesce(a, 0)", "nullif(a, 0)", "greatest(a, b)", "string_agg(s, ',')",
        "array_agg(a)", "extract(year from d)", "date_part('year', d)", "date_trunc('month', d)",
        "to_char(d, 'YYYY')", "now()", "current_date", "age(d)", "cast(a AS text)", "a::int",
        "concat(s, t)", "split_part(s, ',', 1)", "regexp_replace(s, 'a', 'b')", "abs(a)",
        "floor(a)", "ceil(a)", "md5(s)", "left(s, 2)", "right(s, 2)", "row_number() OVER ()",
        "rank() OVER (ORDER BY a)", "percentile_cont(0.5) WITHIN GROUP (ORDER BY a)",
    ],
}


@pytest.mark.parametrize(
    ("dialect", "call"),
    [(d, c) for d, calls in COMMON_CALLS.items() for c in calls],
)
def test_common_function_calls_pass_the_guard(dialect, call):
    decision = check_read_only(f"SELECT {call} FROM t", dialect)
    assert decision.allowed, decision.reason


@pytest.mark.parametrize("dialect", sorted(ALLOWED_FUNCTIONS))
@pytest.mark.parametrize(
    "name", ["my_udf", "evil", "calc_bonus", "get_secret", "sp_helper", "fn_touch_disk"]
)
def test_user_defined_and_unknown_functions_are_refused_by_name(dialect, name):
    for sql in (
        f"SELECT {name}(a) FROM t",
        f"SELECT a FROM t WHERE {name}(a) > 0",
        f"SELECT * FROM t ORDER BY {name.upper()}(a)",
        f"WITH x AS (SELECT {name}() AS v) SELECT v FROM x",
    ):
        decision = check_read_only(sql, dialect)
        assert decision.status is ExecStatus.FORBIDDEN, sql
        assert name in decision.reason.lower(), decision.reason


@pytest.mark.parametrize(
    ("dialect", "name"),
    [("sqlite", n) for n in ("load_extension", "readfile", "writefile", "fts3_tokenizer")]
    + [("mysql", n) for n in ("sleep", "benchmark", "get_lock", "load_file", "release_lock",
                               "master_pos_wait", "last_insert_id", "nextval")]
    + [("postgres", n) for n in ("pg_sleep", "set_config", "pg_read_file", "lo_import",
                                  "dblink", "pg_advisory_lock", "nextval", "setval",
                                  "pg_terminate_backend", "query_to_xml", "txid_current")],
)
def test_side_effecting_builtins_are_refused_by_name(dialect, name):
    decision = check_read_only(f"SELECT {name}(1)", dialect)
    assert decision.status is ExecStatus.FORBIDDEN
    assert f"{name}()" in decision.reason
    assert "acts outside the query" in decision.reason
