"""SQL to HTML with token classes, from sqlglot's tokenizer (no client-side library needed).

Every character of the input is kept and escaped; text between tokens (spaces, comments) is
passed through as it is, so the highlighted SQL reads exactly like the stored SQL.
"""

from __future__ import annotations

import html

from sqlglot.tokens import Tokenizer, TokenType

_LITERALS = {TokenType.STRING: "s", TokenType.NUMBER: "n", TokenType.NATIONAL_STRING: "s"}
MAX_HIGHLIGHT_CHARS = 100_000  # longer stored SQL is shown plain
_NAMES = {TokenType.VAR: "i", TokenType.IDENTIFIER: "i"}


def _class_of(token_type: TokenType) -> str | None:
    if token_type in _LITERALS:
        return _LITERALS[token_type]
    if token_type in _NAMES:
        return _NAMES[token_type]
    if token_type in Tokenizer.KEYWORDS.values() and token_type.name.isupper():
        return "k"
    return None


def highlight_sql(sql: str) -> str:
    """``sql`` as escaped HTML with ``<span class="k|s|n|i">`` around tokens."""
    if len(sql) > MAX_HIGHLIGHT_CHARS:
        return html.escape(sql)
    try:
        tokens = Tokenizer().tokenize(sql)
    except Exception:  # noqa: BLE001 - unreadable SQL is shown plain, never an error page
        return html.escape(sql)
    out, pos = [], 0
    for token in tokens:
        start, end = token.start, token.end + 1
        if start < pos or end > len(sql):
            continue
        out.append(html.escape(sql[pos:start]))
        text = html.escape(sql[start:end])
        css = _class_of(token.token_type)
        if css == "k" and not "".join(sql[start:end].split()).replace("_", "").isalpha():
            css = None  # punctuation such as ( , ; is a "keyword" to the tokenizer
        out.append(f'<span class="{css}">{text}</span>' if css else text)
        pos = end
    out.append(html.escape(sql[pos:]))
    return "".join(out)
