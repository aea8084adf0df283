"""Where a run's databases are, as one value: parsed, masked and identified here only.

A run names its databases with a path (a SQLite file or folder) or a server URL
(``mysql://user:password@host:port/db``). Three things are done with it, all here, all
through SQLAlchemy's URL (``sqlalchemy.engine.make_url``):

* :func:`parse_database_url` - the engine kind and connection settings ``DatabaseManager``
  opens; :func:`db_type_of` - the one table of engine names and their aliases;
* :func:`masked_url` - the URL as messages show it, the password as ``***``;
* :func:`database_identity` - what a run folder records to say which databases made it (its
  claim and its run record): a URL without its password, a path made absolute. No file
  sqlsynth writes holds a database password.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: URL scheme or ``db_type`` -> the engine that serves it
DB_TYPES = {
    "sqlite": "sqlite",
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgresql": "postgres",
    "postgres": "postgres",
    "pg": "postgres",
}

#: what stands for a hidden password (the viewer asks for ``--db`` when it sees it)
HIDDEN = "***"


def db_type_of(name: str) -> str | None:
    """The engine (``sqlite``, ``mysql``, ``postgres``) a scheme or alias names, or None."""
    return DB_TYPES.get(str(name).split("+", 1)[0].lower())


def is_url(target: str | Path) -> bool:
    """Whether ``target`` is a server URL rather than a SQLite path."""
    return "://" in str(target)


def _parse(url: str) -> Any:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:
        # sqlalchemy quotes the whole URL, password included
        shown = masked_url(url)
        raise ValueError(f"invalid database URL {shown!r}: "
                         f"{str(exc).replace(url, shown)}") from None


def masked_url(url: str | Path) -> str:
    """``url`` with its password shown as ``***`` (unchanged when it has none)."""
    text = str(url)
    if not is_url(text):
        return text
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(text)
    except Exception:  # noqa: BLE001 - not a URL sqlalchemy reads: mask by its shape
        from sqlsynth.redaction import redact_secrets

        return redact_secrets(text)
    if parsed.password is None:
        return text
    return parsed.render_as_string(hide_password=True)


def database_identity(target: str | Path) -> str:
    """Which databases ``target`` names, as a run folder records it: a URL without its
    password (user, host, port, database and parameters kept), a path made absolute."""
    text = str(target)
    if not text:
        return text
    if is_url(text):
        return masked_url(text)
    return str(Path(text).resolve())


def parse_database_url(url: str) -> tuple[str, dict]:
    """`sqlite:///dir_or_file`, `mysql://user:pw@host:port/[db]`, `postgresql://...`.

    A database name in a server URL restricts discovery to it (as the config key `database`);
    `?databases=a,b` restricts to several.
    """
    parsed = _parse(url)
    scheme = parsed.drivername.split("+", 1)[0].lower()
    db_type = db_type_of(scheme)
    if db_type is None:
        raise ValueError(f"unsupported database URL scheme {scheme!r} in {masked_url(url)!r}")
    if db_type == "sqlite":
        if not parsed.database:
            raise ValueError(f"SQLite URL needs a path: {masked_url(url)!r} (e.g. sqlite:///data/dbs)")
        return "sqlite", {"root_path": parsed.database}
    config: dict = {"host": parsed.host or "localhost"}
    if parsed.port:
        config["port"] = parsed.port
    if parsed.username:
        config["user"] = parsed.username
    if parsed.password is not None:
        from sqlsynth.redaction import register_secret

        register_secret(parsed.password)
        config["password"] = parsed.password
    if parsed.database:
        config["database"] = parsed.database
    query = dict(parsed.query)
    if "databases" in query:
        raw = query.pop("databases")
        raw = ",".join(raw) if isinstance(raw, tuple) else raw
        config["databases"] = [n.strip() for n in raw.split(",") if n.strip()]
    for key in ("unix_socket", "charset", "connect_timeout"):
        if key in query:
            config[key] = query.pop(key)
    if query:
        raise ValueError(f"unknown URL parameters {sorted(query)} in {masked_url(url)!r}")
    return db_type, config
