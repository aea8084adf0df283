"""Which exceptions are the user's to fix (shown as one line) rather than bugs (a traceback)."""

from __future__ import annotations

USER_ERROR_NAMES = frozenset(
    {"LLMUnavailableError", "InputFormatError", "UnknownDatabaseError", "ConfigError",
     "DatabaseUnavailableError", "PrivilegedAccountError"}
)


def is_user_error(exc: BaseException) -> bool:
    """Bad input, unreachable endpoints and missing files: the message says what to fix."""
    user_types = (FileNotFoundError, FileExistsError, NotADirectoryError, PermissionError, ValueError)
    if isinstance(exc, user_types):
        return True
    return any(cls.__name__ in USER_ERROR_NAMES for cls in type(exc).__mro__)


class InputFormatError(ValueError):
    """A record of an input file cannot be used: names the file, the line and the field.

    Shared by every reader (pipeline input, step files, evaluation gold/predictions), so the
    message always points at exactly what to fix instead of failing later inside an operator.
    """

    def __init__(
        self, path: object, message: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message
        where = self.path if line is None else f"{self.path}:{line}"
        about = f" field {field!r}:" if field else ""
        super().__init__(f"{where}:{about} {message}")

    @property
    def message(self) -> str:
        return self.reason


class DatabaseUnavailableError(ConnectionError):
    """A database server cannot be reached or refuses the login.

    Raised instead of the driver's own exception so that a wrong host, port, password or
    database name is one line on the terminal (which server, as which user, the driver's
    reason) rather than a traceback; the password is never part of the message.
    """

    def __init__(self, engine: str, host: object, port: object, user: object,
                 database: str | None, reason: BaseException) -> None:
        first_line = (str(reason).strip().splitlines() or [type(reason).__name__])[0]
        target = f"{engine} at {host}:{port} as {user!s}"
        if database:
            target += f", database {database!r}"
        super().__init__(f"cannot connect to {target}: {first_line}")


class PrivilegedAccountError(DatabaseUnavailableError):
    """The database account could reach outside the database (server files, programs, server
    settings), so model-written SQL is not run as it; the message says why and gives the
    statements that create a read-only account (never a password)."""

    def __init__(self, message: str) -> None:
        ConnectionError.__init__(self, message)
