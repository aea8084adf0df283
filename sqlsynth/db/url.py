"""Database URLs -> (db_type, config) for `DatabaseManager`."""

from __future__ import annotations

_SCHEMES = {
    "sqlite": "sqlite",
    "mysql": "mysql",
    "mariadb": "mysql",
    "postgresql": "postgres",
    "postgres": "postgres",
    "pg": "postgres",
}


def masked_url(url: str) -> str:
    """``url`` with the password of ``scheme://user:password@host`` shown as ``***``."""
    from sqlsynth.errors import redact_secrets

    return redact_secrets(str(url))


def parse_database_url(url: str) -> tuple[str, dict]:
    """`sqlite:///dir_or_file`, `mysql://user:pw@host:port/[db]`, `postgresql://...`.

    A database name in a server URL restricts discovery to it (as the config key `database`);
    `?databases=a,b` restricts to several.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        # sqlalchemy quotes the whole URL, password included
        raise ValueError(f"invalid database URL {masked_url(url)!r}: "
                         f"{str(exc).replace(url, masked_url(url))}") from None
    scheme = parsed.drivername.split("+", 1)[0].lower()
    db_type = _SCHEMES.get(scheme)
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
