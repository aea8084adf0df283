"""Refuse SQL text whose tokens could be read differently by sqlglot and by the engine.

The guard decides on sqlglot's syntax tree and sends the engine its own rendering of that tree,
so the engine never sees the model's text. This scan is the wall behind that one: it refuses
text whose *tokenization* is ambiguous, so that a mistake in either parser is not enough, and
so that the original text (when a caller keeps it) cannot mean something else on the server.

What is ambiguous, and why:

* Non-ASCII whitespace, control and format characters outside string literals. Python (and
  so sqlglot) treats U+00A0, U+3000, U+2028, U+0085, ... as whitespace; MySQL and PostgreSQL
  treat them as identifier characters, so ``--<U+00A0>`` is a comment to one and not the other.
* ``--`` not followed by ASCII whitespace: MySQL reads ``1--1`` as ``1 - -1``.
* ``#`` (a comment on MySQL, an operator on PostgreSQL), ``/*`` inside a block comment
  (PostgreSQL nests block comments, MySQL and SQLite do not), unterminated block comments,
  MySQL executable comments and hints (``/*! */``, ``/*M! */``, ``/*+ */``).
* Backslashes anywhere on MySQL and PostgreSQL: whether ``'\\'`` ends the string depends on
  ``NO_BACKSLASH_ESCAPES`` / ``standard_conforming_strings``; outside strings ``\\N`` is NULL
  on MySQL.
* A quote glued to a word or ``&``: string prefixes and introducers (``E''``, ``N''``,
  ``X''``, ``B''``, ``U&''``, ``_utf8''``) whose escaping and charset rules differ.
* ``$`` (PostgreSQL dollar quoting, and ``$`` inside identifiers), ``?`` and ``@name`` (bind
  parameters), ``{ }`` (ODBC escapes on MySQL), ``:=`` (assignment), a single ``@`` on MySQL
  (user variables).

Legitimate model SQL almost never needs any of these; when it does, it is refused with a reason
naming the construct.
"""

from __future__ import annotations

import re
import unicodedata

_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
# Plain ASCII that needs no attention in code (everything else is looked at one by one).
_PLAIN_CODE = r"A-Za-z0-9_ \t\n,.*+=<>!|%^~;&\]\-/:\r"


class LexicalRefusal(Exception):
    """The text is refused; `reason` says which construct, `syntax` whether it is malformed."""

    def __init__(self, reason: str, *, syntax: bool = False, too_deep: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.syntax = syntax
        self.too_deep = too_deep


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def _is_identifier_letter(ch: str) -> bool:
    """A non-ASCII character every engine and sqlglot read as part of a bare word."""
    if ord(ch) > 0xFFFF:  # MySQL identifiers stop at the BMP
        return False
    return unicodedata.category(ch)[0] in "LMN"


def _bad_in_literal(ch: str) -> bool:
    """Control characters (other than tab/newline/CR) and lone surrogates, inside quotes."""
    code = ord(ch)
    if code < 0x20:
        return ch not in "\t\n\r"
    return 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF


def _bad_in_comment(ch: str) -> bool:
    """Characters that may end (or not end) a comment depending on who reads it."""
    if ch in "\t\n\r":
        return False
    if _bad_in_literal(ch):
        return True
    if ord(ch) < 0x80:
        return False
    return unicodedata.category(ch) in ("Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn")


_HEX_BODY = re.compile(r"[0-9A-Fa-f]*")
_LITERAL_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class _Scanner:
    def __init__(self, sql: str, dialect: str, max_depth: int) -> None:
        self.sql = sql
        self.n = len(sql)
        self.dialect = dialect
        self.max_depth = max_depth
        self.backslash_ok = dialect == "sqlite"
        self.interesting = re.compile(f"[^{_PLAIN_CODE}]|--|/\\*|:=")

    def fail(self, reason: str, **kw: bool) -> None:
        raise LexicalRefusal(reason, **kw)

    def run(self) -> None:
        sql, n, i, depth = self.sql, self.n, 0, 0
        while i < n:
            m = self.interesting.search(sql, i)
            if m is None:
                return
            i = m.start()
            tok = m.group()
            ch = sql[i]
            if tok == "--":
                i = self.line_comment(i)
            elif tok == "/*":
                i = self.block_comment(i)
            elif tok == ":=":
                self.fail("':=' assignments are not allowed")
            elif ch in "'\"`" or (ch == "[" and self.dialect == "sqlite"):
                self.check_glued_quote(i)
                i = self.quoted(i)
            elif ch == "(":
                depth += 1
                if depth > self.max_depth:
                    self.fail(f"nesting deeper than {self.max_depth} parentheses", too_deep=True)
                i += 1
            elif ch == ")":
                depth = max(depth - 1, 0)
                i += 1
            elif ch == "[":
                i += 1  # PostgreSQL array subscripts; MySQL reports a syntax error itself
            elif ch == "@":
                i = self.at_sign(i)
            elif ch == "\\":
                self.fail("backslashes outside string literals are not allowed")
            elif ch == "#":
                self.fail("'#' is a comment on MySQL and an operator elsewhere: not allowed")
            elif ch == "$":
                self.fail("'$' (dollar quoting, positional parameters) is not allowed")
            elif ch == "?":
                self.fail("'?' bind parameters are not allowed")
            elif ch in "{}":
                self.fail("'{' and '}' (ODBC escape syntax) are not allowed")
            elif ord(ch) >= 0x80 and _is_identifier_letter(ch):
                i += 1
            else:
                self.fail(f"character {_describe(ch)} is not allowed outside string literals")

    def check_glued_quote(self, i: int) -> None:
        sql = self.sql
        prev = sql[i - 1] if i > 0 else ""
        if prev in "xX" and sql[i] == "'" and (i < 2 or sql[i - 2] not in _WORD_CHARS):
            end = sql.find("'", i + 1)
            if end > 0 and _HEX_BODY.fullmatch(sql, i + 1, end):
                return  # X'4142': a hex/blob literal, read alike everywhere
        if prev in _WORD_CHARS or prev == "&" or (prev and ord(prev) >= 0x80):
            self.fail(
                f"a quote directly after {prev!r} (string prefixes such as E'', N'', X'', "
                "U&'', _charset'') is not allowed"
            )

    def line_comment(self, i: int) -> int:
        sql = self.sql
        nxt = sql[i + 2] if i + 2 < self.n else "\n"
        if nxt not in " \t\n\r":
            self.fail("'--' must be followed by a space (MySQL reads '--x' as minus minus)")
        end = sql.find("\n", i)
        end = self.n if end < 0 else end
        body = sql[i + 2 : end]
        self.check_comment_body(body.replace("\r\n", "\n").rstrip("\r"), allow_newline=False)
        return end + 1

    def block_comment(self, i: int) -> int:
        sql = self.sql
        if sql.startswith(("/*!", "/*+", "/*M!", "/*m!"), i):
            self.fail("executable comments and optimizer hints (/*! */, /*M! */, /*+ */)")
        end = sql.find("*/", i + 2)
        if end < 0:
            self.fail("unterminated block comment", syntax=True)
        body = sql[i + 2 : end]
        if "/*" in body:
            self.fail("nested block comments are read differently by each engine")
        self.check_comment_body(body, allow_newline=True)
        return end + 2

    def check_comment_body(self, body: str, *, allow_newline: bool) -> None:
        for ch in body:
            if ch == "\n" and allow_newline:
                continue
            if ch == "\r" and not allow_newline:
                self.fail("a carriage return inside a '--' comment is not allowed")
            if _bad_in_comment(ch):
                self.fail(f"character {_describe(ch)} inside a comment is not allowed")

    def quoted(self, i: int) -> int:
        sql = self.sql
        opener = sql[i]
        closer = "]" if opener == "[" else opener
        if opener == "`" and self.dialect == "postgres":
            self.fail("backtick quotes are not PostgreSQL syntax")
        j = i + 1
        while True:
            end = sql.find(closer, j)
            if end < 0:
                what = "identifier" if opener in '`["' else "string literal"
                self.fail(f"unterminated {what}", syntax=True)
            if closer != "]" and sql.startswith(closer * 2, end):
                j = end + 2  # a doubled quote stands for itself
                continue
            break
        body = sql[i + 1 : end]
        if not self.backslash_ok and "\\" in body:
            self.fail(
                "backslashes inside quotes are not allowed on this engine (their meaning "
                "depends on NO_BACKSLASH_ESCAPES / standard_conforming_strings)"
            )
        bad = _LITERAL_BAD.search(body)
        if bad:
            self.fail(f"character {_describe(bad.group())} inside quotes is not allowed")
        return end + 1

    def at_sign(self, i: int) -> int:
        sql = self.sql
        if self.dialect == "sqlite":
            self.fail("'@name' bind parameters are not allowed")
        if self.dialect == "mysql":
            if not sql.startswith("@@", i) or not (sql[i + 2 : i + 3] in _WORD_CHARS):
                self.fail("user variables (@name) are not allowed")
            return i + 2
        return i + 1


def check_lexical(sql: str, dialect: str, *, max_depth: int) -> None:
    """Raise `LexicalRefusal` if `sql` holds a construct sqlglot and the engine may read
    differently (see the module docstring), or parentheses nested deeper than `max_depth`."""
    _Scanner(sql, dialect, max_depth).run()
