"""The one error of the realizer."""

from __future__ import annotations


class NotRealizable(ValueError):
    """The SQL uses a construct the realizer cannot put into words faithfully; the reason
    names it. The realizer never guesses: a question it cannot write correctly is not written.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
