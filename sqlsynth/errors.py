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
