"""Errors raised while reading pipeline input or step files."""

from __future__ import annotations


class InputFormatError(ValueError):
    """A row file cannot be used as step input.

    Carries the file, the 1-based line (or item number for JSON arrays) and the field, so the
    message points at exactly what to fix instead of failing later inside an operator.
    """

    def __init__(
        self, path: str, message: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message
        where = self.path if line is None else f"{self.path}:{line}"
        about = f" field {field!r}:" if field else ""
        super().__init__(f"{where}:{about} {message}")
