"""Which exceptions are the user's to fix (shown as one line) rather than bugs (a traceback)."""

from __future__ import annotations

USER_ERROR_NAMES = frozenset(
    {"LLMUnavailableError", "InputFormatError", "UnknownDatabaseError", "ConfigError"}
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
