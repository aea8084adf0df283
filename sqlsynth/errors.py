"""Which exceptions are the user's to fix (shown as one line) rather than bugs (a traceback)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The ``sqlsynth`` process exit status: one meaning per code, so scripts can branch."""

    OK = 0  # success
    ERROR = 1  # unexpected internal error
    USAGE = 2  # bad flags / bad config / bad input file / bad URL or port
    NO_RESULT = 3  # a pipeline produced 0 final rows; `ask` found no SQL that runs
    DATABASE_UNAVAILABLE = 4  # database unreachable, login refused, or account refused
    LLM_UNAVAILABLE = 5  # the LLM endpoint is unusable before any answer (preflight failed...)
    INCOMPLETE = 75  # run stopped incomplete: rows wait on the LLM endpoint; rerun to continue
    INTERRUPTED = 130  # Ctrl-C

USER_ERROR_NAMES = frozenset(
    {"LLMUnavailableError", "InputFormatError", "UnknownDatabaseError", "ConfigError",
     "DatabaseUnavailableError"}
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
