"""Which exceptions are the user's to fix (shown as one line) rather than bugs (a traceback)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit status of every ``sqlsynth`` command (agreed across the project)."""

    OK = 0  # success
    ERROR = 1  # unexpected internal error
    USAGE = 2  # bad flags / bad config / bad input file / bad URL or port
    NO_RESULT = 3  # a pipeline produced 0 final rows; `ask` found no SQL that runs
    DATABASE_UNAVAILABLE = 4  # database unreachable, login refused, or privileged account
    LLM_UNAVAILABLE = 5  # the LLM endpoint is dead/unusable before any answer
    INCOMPLETE = 75  # run stopped incomplete: rows wait on the LLM endpoint; rerun to continue
    INTERRUPTED = 130  # Ctrl-C


USER_ERROR_NAMES = frozenset(
    {"LLMError", "LLMUnavailableError", "InputFormatError", "UnknownDatabaseError", "ConfigError",
     "DatabaseUnavailableError", "IncompleteRunError", "MissingDependencyError",
     "PrivilegedAccountError"}
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


class IncompleteRunError(RuntimeError):
    """Rows are waiting on the LLM endpoint: the run stopped before finishing its steps.

    Not a failure of the data: every answer that arrived is cached, the unfinished steps are
    not marked done, and rerunning the same command sends exactly the calls still missing.
    """

    def __init__(self, waiting: int, *, steps: dict[str, int] | None = None,
                 last_error: str = "") -> None:
        self.waiting = waiting
        self.steps = dict(steps or {})
        self.last_error = last_error
        noun = "row is" if waiting == 1 else "rows are"
        super().__init__(f"{waiting} {noun} waiting on the LLM endpoint; rerun the same "
                         "command to continue")


class MissingDependencyError(ImportError):
    """An optional feature's package is not installed; the message names the extra."""

    def __init__(self, what: str, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        from sqlsynth.extras import install_hint

        super().__init__(f"{what} needs the optional package {package!r} (extra {extra!r}): "
                         f"{install_hint(extra)}")


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit status that says what kind of problem ``exc`` is (see ``ExitCode``)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(exc, IncompleteRunError):
        return ExitCode.INCOMPLETE
    if "LLMConfigError" in names:
        return ExitCode.USAGE
    if "LLMError" in names:  # unavailable, or a request that kept failing: the endpoint's
        return ExitCode.LLM_UNAVAILABLE
    if "DatabaseUnavailableError" in names:
        return ExitCode.DATABASE_UNAVAILABLE
    if isinstance(exc, MissingDependencyError) or is_user_error(exc):
        return ExitCode.USAGE
    return ExitCode.ERROR


class PipelineCompileError(ValueError):
    """A pipeline's steps do not connect: names the step and the column, before any work."""


class PrivilegedAccountError(DatabaseUnavailableError):
    """The database account could reach outside the database (server files, programs, server
    settings), so model-written SQL is not run as it; the message says why and gives the
    statements that create a read-only account (never a password)."""

    def __init__(self, message: str) -> None:
        ConnectionError.__init__(self, message)
