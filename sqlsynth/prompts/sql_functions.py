"""Small per-engine lists of SQL functions, each with a one-line description.

The SQL generator mentions up to two of them per prompt so the synthetic queries use the
functions a real user of that engine would use, not only bare columns and COUNT(*).
"""

from __future__ import annotations

SQLITE_FUNCTIONS: dict[str, str] = {
    "strftime(format, value)": "formats a date/time, e.g. strftime('%Y', d) gives the year",
    "julianday(value)": "day number of a date; differences give elapsed days",
    "date(value, modifier)": "date arithmetic, e.g. date(d, '+7 days')",
    "substr(text, start, length)": "part of a string (1-based start)",
    "instr(text, part)": "position of a substring, 0 when absent",
    "length(text)": "number of characters",
    "replace(text, old, new)": "replaces every occurrence of a substring",
    "upper(text) / lower(text)": "changes letter case",
    "coalesce(a, b, ...)": "first non-NULL argument",
    "ifnull(a, b)": "b when a is NULL",
    "nullif(a, b)": "NULL when a equals b (avoids division by zero)",
    "iif(cond, a, b)": "a when cond is true, else b",
    "round(x, digits)": "rounds a number",
    "abs(x)": "absolute value",
    "cast(x AS REAL)": "converts a value, e.g. to avoid integer division",
    "group_concat(x, sep)": "joins the values of a group into one string",
    "total(x)": "sum that returns 0.0 instead of NULL for an empty group",
}

MYSQL_FUNCTIONS: dict[str, str] = {
    "DATE_FORMAT(d, fmt)": "formats a date, e.g. DATE_FORMAT(d, '%Y-%m')",
    "DATEDIFF(a, b)": "days between two dates",
    "TIMESTAMPDIFF(unit, a, b)": "difference between two datetimes in a unit",
    "DATE_ADD(d, INTERVAL n unit)": "date arithmetic",
    "YEAR(d) / MONTH(d)": "parts of a date",
    "CONCAT(a, b, ...)": "joins strings",
    "CONCAT_WS(sep, a, b, ...)": "joins strings with a separator",
    "SUBSTRING_INDEX(s, delim, n)": "part of a string before the n-th delimiter",
    "LOCATE(part, s)": "position of a substring, 0 when absent",
    "CHAR_LENGTH(s)": "number of characters",
    "GROUP_CONCAT(x SEPARATOR sep)": "joins the values of a group into one string",
    "IFNULL(a, b)": "b when a is NULL",
    "COALESCE(a, b, ...)": "first non-NULL argument",
    "NULLIF(a, b)": "NULL when a equals b (avoids division by zero)",
    "IF(cond, a, b)": "a when cond is true, else b",
    "ROUND(x, digits)": "rounds a number",
    "GREATEST(a, b, ...)": "largest argument",
}

POSTGRES_FUNCTIONS: dict[str, str] = {
    "DATE_TRUNC(unit, ts)": "truncates a timestamp, e.g. to the month",
    "EXTRACT(field FROM ts)": "a part of a date, e.g. EXTRACT(YEAR FROM d)",
    "AGE(a, b)": "interval between two timestamps",
    "TO_CHAR(value, fmt)": "formats a date or number as text",
    "d + INTERVAL '7 days'": "date arithmetic",
    "STRING_AGG(x, sep)": "joins the values of a group into one string",
    "SPLIT_PART(s, delim, n)": "n-th field of a delimited string",
    "POSITION(part IN s)": "position of a substring, 0 when absent",
    "LENGTH(s)": "number of characters",
    "INITCAP(s)": "capitalises each word",
    "COALESCE(a, b, ...)": "first non-NULL argument",
    "NULLIF(a, b)": "NULL when a equals b (avoids division by zero)",
    "ROUND(x::numeric, digits)": "rounds a number",
    "GREATEST(a, b, ...)": "largest argument",
    "x::type": "cast, e.g. count(*)::float",
    "PERCENTILE_CONT(f) WITHIN GROUP (ORDER BY x)": "continuous percentile, e.g. median",
}

FUNCTIONS_BY_DB_TYPE: dict[str, dict[str, str]] = {
    "sqlite": SQLITE_FUNCTIONS,
    "mysql": MYSQL_FUNCTIONS,
    "postgres": POSTGRES_FUNCTIONS,
}


def functions_for(db_type: str) -> dict[str, str]:
    """The function list of an engine (``DatabaseManager.db_type``); SQLite's when unknown."""
    key = db_type.lower()
    if key in ("postgresql", "pg"):
        key = "postgres"
    if key == "mariadb":
        key = "mysql"
    return FUNCTIONS_BY_DB_TYPE.get(key, SQLITE_FUNCTIONS)
