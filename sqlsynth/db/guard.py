"""First wall against hostile SQL: accept exactly one read-only query, and hand the engine the
guard's own rendering of it.

The decision is made on sqlglot's syntax tree, and the statement the engine runs is that tree
rendered back in the engine's dialect (comments dropped), re-parsed to check it is the same
tree. So whatever the server's lexer and settings make of odd text, it only ever receives text
the guard produced from a tree it approved. Behind that:

* text whose tokenization is ambiguous between sqlglot and an engine is refused before
  parsing (`sqlsynth.db.lexical`), as are statements longer or deeper than the parse limits
  (`sqlsynth.sql.parse.check_size`), so parsing stays fast and never overflows the stack;
* functions are deny-by-default: every function name in the rendering must be on the
  dialect's allowlist of side-effect-free built-ins (`sqlsynth.db.functions`) or named by the
  user; qualified and quoted function names are refused;
* statements sqlglot cannot parse are refused (there is no tree to render); nothing raises.

The engines add further walls (read-only connections and transactions, SQLite's authorizer).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError, TokenError, UnsupportedError
from sqlglot.tokens import TokenType

from sqlsynth.db.faithful import faithful_generator, foreign_call, lost_part
from sqlsynth.db.functions import (
    SIDE_EFFECT_FUNCTIONS,
    allowed_function_names,
    normalize_function_name,
)
from sqlsynth.db.lexical import LexicalRefusal, check_lexical
from sqlsynth.db.result import ExecStatus
from sqlsynth.sql.parse import MAX_NESTING_DEPTH, MAX_SQL_CHARS, MAX_SQL_TOKENS, token_count

# Kept for the SQLite engine's authorizer (a second wall that refuses these by name) and for
# callers of the old deny-list API; the guard itself decides by the allowlist.
FORBIDDEN_FUNCTIONS = SIDE_EFFECT_FUNCTIONS
FORBIDDEN_FUNCTION_PREFIXES = (
    "pg_create_", "pg_drop_", "pg_replication_", "pg_copy_", "pg_backup_", "pg_start_backup",
    "pg_stop_backup", "pg_wal_", "pg_xlog_", "pg_switch_", "pg_file_", "pg_ls_", "pg_read_",
    "pg_stat_reset", "pg_stat_statements_reset", "pg_advisory", "pg_try_advisory", "pg_logical_",
    "pg_log_", "pg_promote", "pg_sequence_", "lo_", "dblink", "binary_upgrade_",
)


def is_forbidden_function(name: str) -> bool:
    """Whether a function (any case, schema-qualified or not) is a known side-effecting one.
    The guard refuses every function off the allowlist; this names the worst of them."""
    base = normalize_function_name(name.rsplit(".", 1)[-1])
    return base in SIDE_EFFECT_FUNCTIONS or base.startswith(FORBIDDEN_FUNCTION_PREFIXES)

_FORBIDDEN_NODE_NAMES = (
    "Insert",
    "Update",
    "Delete",
    "Merge",
    "Create",
    "Drop",
    "Alter",
    "AlterTable",
    "Command",
    "Pragma",
    "Set",
    "Attach",
    "Detach",
    "Into",
    "Lock",
    "Copy",
    "LoadData",
    "Transaction",
    "Commit",
    "Rollback",
    "Use",
    "Grant",
    "Revoke",
    "TruncateTable",
    "Analyze",
    "Cache",
    "Uncache",
    "Refresh",
    "Kill",
    "Summarize",
    "Export",
    "NextValueFor",
    "Describe",
    "Show",
    "Hint",
    "Placeholder",
    "Parameter",
    "PropertyEQ",
    "UserDefinedFunction",
    "Execute",
    "Declare",
    "Return",
    "Operator",
    "Columns",
)
FORBIDDEN_NODES = tuple(t for t in (getattr(exp, n, None) for n in _FORBIDDEN_NODE_NAMES) if t)

_QUERY_ROOTS = tuple(
    t
    for t in (
        getattr(exp, n, None)
        for n in ("Select", "Union", "Intersect", "Except", "Subquery", "SetOperation")
    )
    if t
)

# Statement keywords that never belong in a read-only query. Used only to say *why* text that
# sqlglot cannot parse is refused: with one of these it is `forbidden`, else a syntax error.
_KEYWORD_TEXT = """
    INSERT UPDATE DELETE REPLACE MERGE UPSERT CREATE DROP ALTER TRUNCATE RENAME ATTACH DETACH
    PRAGMA SET RESET GRANT REVOKE COPY CALL DO HANDLER LOAD LOCK UNLOCK OUTFILE DUMPFILE INTO
    VACUUM REINDEX ANALYZE ANALYSE OPTIMIZE REPAIR COMMIT ROLLBACK BEGIN START SAVEPOINT RELEASE
    EXECUTE EXEC PREPARE DEALLOCATE NOTIFY LISTEN DISCARD USE SHARE FLUSH KILL SHUTDOWN INSTALL
    UNINSTALL CLUSTER REFRESH SECURITY IMPORT EXPORT EXPLAIN DECLARE XA CHECKPOINT
"""
FORBIDDEN_KEYWORDS = frozenset(_KEYWORD_TEXT.split())

# Names sqlglot's generators pass to `func()` for syntax rather than for a function lookup.
_SYNTAX_CALLS = frozenset(
    {"cast", "try_cast", "extract", "row", "array", "values", "exists", "columns", "match"}
)



class _QuietWhileGuarding(logging.Filter):
    """Drops sqlglot's warnings ("falling back to Command", ...) raised by the guard's own
    parsing, in the guarding thread only: the guard reports its refusals itself."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "active", False)


_QUIET = _QuietWhileGuarding()
logging.getLogger("sqlglot").addFilter(_QUIET)


@dataclass(frozen=True)
class GuardDecision:
    """Verdict on one statement. When allowed, `sql` is the text the engine must run: the
    guard's rendering of the approved tree. When refused, `sql` is the input as given."""

    status: ExecStatus | None
    sql: str
    reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.status is None


def _deny(sql: str, reason: str, status: ExecStatus = ExecStatus.FORBIDDEN) -> GuardDecision:
    return GuardDecision(status=status, sql=sql, reason=reason)


def check_read_only(
    sql: str,
    dialect: str,
    *,
    allowed_functions: Iterable[str] = (),
    max_chars: int = MAX_SQL_CHARS,
    max_depth: int = MAX_NESTING_DEPTH,
    max_tokens: int = MAX_SQL_TOKENS,
) -> GuardDecision:
    """Decide whether `sql` is one read-only query safe to run on a `dialect` engine.

    `allowed_functions` adds names to the dialect's allowlist. Never raises: limits give
    `too_large`, malformed text `syntax_error`, everything else refused `forbidden`.
    """
    if not isinstance(sql, str) or not sql.strip():
        return _deny("" if not isinstance(sql, str) else sql, "empty statement",
                     ExecStatus.SYNTAX_ERROR)
    try:
        return _check(sql, dialect, allowed_functions, (max_chars, max_depth, max_tokens))
    except RecursionError:
        return _deny(sql, "statement nested too deeply to analyse", ExecStatus.TOO_LARGE)
    except Exception as exc:  # noqa: BLE001 - whatever sqlglot does, the answer is a refusal
        return _deny(sql, f"cannot verify statement ({type(exc).__name__}: {exc})")


_CACHEABLE_CHARS = 10_000  # at most ~20 MB of cached text


@functools.lru_cache(maxsize=2048)
def _check_cached(sql: str, dialect: str, allowed: tuple[str, ...]) -> GuardDecision:
    return check_read_only(sql, dialect, allowed_functions=allowed)


def check_read_only_cached(
    sql: str, dialect: str, *, allowed_functions: Iterable[str] = ()
) -> GuardDecision:
    """`check_read_only`, remembered for recent statements: the decision is a pure function
    of its inputs, and a pipeline asks about the same SQL several times (explain, execute,
    the stored form), often from the event loop's thread."""
    allowed = tuple(allowed_functions)
    if isinstance(sql, str) and len(sql) <= _CACHEABLE_CHARS:
        return _check_cached(sql, dialect, allowed)
    return check_read_only(sql, dialect, allowed_functions=allowed)


def canonical_sql(sql: str, dialect: str, *, allowed_functions: Iterable[str] = ()) -> str | None:
    """The form of `sql` to store, or None when the guard refuses it.

    That is `sql` itself when it is token for token the statement the engine runs (the guard's
    rendering, up to whitespace, trailing semicolons and the letter case of keywords and
    function names; a comment always makes it differ), otherwise the rendering. Either way
    the stored text is the statement that was checked and executed.
    """
    decision = check_read_only_cached(sql, dialect, allowed_functions=allowed_functions)
    if not decision.allowed:
        return None
    return stored_form(sql, decision.sql, dialect)


def stored_form(original: str, rendering: str, dialect: str) -> str:
    """`original` when it spells the same tokens as the approved `rendering`, else `rendering`."""
    if original == rendering:
        return original
    if len(original) + len(rendering) <= _CACHEABLE_CHARS:
        return _stored_form_cached(original, rendering, dialect)
    return _stored_form(original, rendering, dialect)


@functools.lru_cache(maxsize=2048)
def _stored_form_cached(original: str, rendering: str, dialect: str) -> str:
    return _stored_form(original, rendering, dialect)


def _stored_form(original: str, rendering: str, dialect: str) -> str:
    try:
        same = _token_texts(original, dialect) == _token_texts(rendering, dialect)
    except Exception:  # noqa: BLE001 - when in doubt, store what ran
        same = False
    return original.strip().rstrip(";").rstrip() if same else rendering


def _token_texts(sql: str, dialect: str) -> list[str]:
    """Each token's source text (quotes included), keywords and function names upper-cased
    (they are case-insensitive; identifiers keep their case).
    A comment counts as a token of its own (a trailing ``--`` would swallow whatever a caller
    appends), so commented text is always stored as its rendering."""
    out = []
    tokens = Dialect.get_or_raise(dialect).tokenize(sql)
    for i, tok in enumerate(tokens):
        if tok.comments:
            out.append("--")
        if tok.token_type is TokenType.SEMICOLON:
            continue
        text = sql[tok.start : tok.end + 1]
        bare = text[:1].isalpha() or text[:1] == "_"
        is_call = i + 1 < len(tokens) and tokens[i + 1].token_type is TokenType.L_PAREN
        name = tok.token_type is TokenType.VAR and not is_call  # an identifier keeps its case
        out.append(text.upper() if bare and not name else text)
    return out


def _check(
    sql: str, dialect: str, extra: Iterable[str], limits: tuple[int, int, int]
) -> GuardDecision:
    max_chars, max_depth, max_tokens = limits
    if len(sql) > max_chars:
        return _deny(
            sql, f"statement of {len(sql):,} characters (limit {max_chars:,})", ExecStatus.TOO_LARGE
        )
    if token_count(sql, max_tokens) > max_tokens:
        return _deny(sql, f"statement of more than {max_tokens:,} tokens", ExecStatus.TOO_LARGE)
    try:
        check_lexical(sql, dialect, max_depth=max_depth)
    except LexicalRefusal as refusal:
        status = (
            ExecStatus.TOO_LARGE
            if refusal.too_deep
            else ExecStatus.SYNTAX_ERROR
            if refusal.syntax
            else ExecStatus.FORBIDDEN
        )
        return _deny(sql, refusal.reason, status)

    tree, problem = _parse_one(sql, dialect)
    if tree is None:
        return _why_unparseable(sql, dialect, problem)
    verdict = _check_tree(tree, sql)
    if verdict is not None:
        return verdict

    try:
        rendered, called = _render(tree, dialect)
    except UnsupportedError as exc:
        return _deny(sql, f"cannot be written back in {dialect}: {_first_line(exc)}")
    allowed = allowed_function_names(dialect, extra)
    verdict = _check_calls(tree, called, allowed, sql)
    if verdict is not None:
        return verdict
    verdict = _check_faithful(sql, rendered, dialect, allowed)
    if verdict is not None:
        return verdict
    head = rendered.lstrip("(").lstrip()[:4].upper()
    if head not in ("SELE", "WITH"):  # EXPLAIN <rendering> must explain a plain query
        return _deny(sql, f"rendering does not start with SELECT/WITH: {rendered[:40]!r}")

    # The text sent must itself be unambiguous and must mean the tree that was approved.
    try:
        check_lexical(rendered, dialect, max_depth=max_depth)
    except LexicalRefusal as refusal:
        return _deny(sql, f"the guard's rendering is ambiguous: {refusal.reason}")
    again, problem = _parse_one(rendered, dialect)
    if again is None:
        return _deny(sql, f"the guard's rendering does not parse back: {problem.reason}")
    if again != tree:
        # sqlglot may add to the tree while rendering (e.g. a CAST PostgreSQL's ROUND needs).
        # Then the text sent must be a fixpoint, and its own tree must pass every check.
        try:
            rendered_again, called_again = _render(again, dialect)
        except UnsupportedError as exc:
            return _deny(sql, f"cannot be written back in {dialect}: {_first_line(exc)}")
        if rendered_again != rendered:
            return _deny(sql, "the guard's rendering does not parse back to the approved statement")
        verdict = _check_tree(again, sql) or _check_calls(again, called_again, allowed, sql)
        if verdict is not None:
            return verdict
    return GuardDecision(status=None, sql=rendered)


def _check_faithful(sql: str, rendered: str, dialect: str,
                    allowed: frozenset[str]) -> GuardDecision | None:
    """The rendering means the statement as written (``sqlsynth.db.faithful``)."""
    foreign = foreign_call(sql, dialect, allowed | _SYNTAX_CALLS)
    if foreign is not None:
        return _deny(sql, f"function {foreign}() is not a built-in of {dialect} (sqlglot "
                          f"knows it from another engine and would send another function)")
    lost = lost_part(sql, rendered, dialect)
    if lost is not None:
        return _deny(sql, f"the guard's rendering would drop {lost} (more arguments than "
                          f"the function takes, or syntax sqlglot does not keep); write it "
                          f"as {dialect} documents it")
    return None


def _check_calls(
    tree: exp.Expression, called: list[str], allowed: frozenset[str], sql: str
) -> GuardDecision | None:
    """Every function the tree names, and every name its rendering calls, is allowed. Names
    the statement itself spells (sqlglot does not know them) must be on the allowlist; names
    sqlglot's generator writes may also be syntax it spells like a call (CAST, COLUMNS, ...)."""
    for name in (n.name for n in tree.find_all(exp.Anonymous)):
        verdict = _check_call(name, allowed, sql)
        if verdict is not None:
            return verdict
    for name in called:
        verdict = _check_call(name, allowed | _SYNTAX_CALLS, sql)
        if verdict is not None:
            return verdict
    return None


def _parse_one(sql: str, dialect: str) -> tuple[exp.Expression | None, GuardDecision]:
    _QUIET.local.active = True  # "falling back to Command" -> refused below
    try:
        statements = sqlglot.parse(sql, read=dialect)
    except (ParseError, TokenError) as exc:
        return None, _deny(sql, f"cannot parse statement: {_first_line(exc)}",
                           ExecStatus.SYNTAX_ERROR)
    except SqlglotError as exc:
        return None, _deny(sql, f"cannot parse statement: {_first_line(exc)}",
                           ExecStatus.SYNTAX_ERROR)
    finally:
        _QUIET.local.active = False
    statements = [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]
    if not statements:
        return None, _deny(sql, "empty statement", ExecStatus.SYNTAX_ERROR)
    if len(statements) != 1:
        return None, _deny(sql, "only one statement is allowed")
    return statements[0], _deny(sql, "")


def _why_unparseable(sql: str, dialect: str, problem: GuardDecision) -> GuardDecision:
    """Refuse text sqlglot cannot parse, as `forbidden` when it names a forbidden keyword or
    side-effecting function (the better message), else as the syntax error it is."""
    if problem.status is not ExecStatus.SYNTAX_ERROR:
        return problem
    try:
        tokens = Dialect.get_or_raise(dialect).tokenize(sql)
    except (SqlglotError, ValueError):
        return problem
    for i, tok in enumerate(tokens):
        if tok.token_type in (TokenType.STRING, TokenType.IDENTIFIER):
            continue
        word = tok.text.upper()
        if word in ("NEXT", "PREVIOUS") and [t.text.upper() for t in tokens[i + 1 : i + 3]] == [
            "VALUE",
            "FOR",
        ]:
            return _deny(sql, f"{word} VALUE FOR (sequences) is not allowed")
        is_call = i + 1 < len(tokens) and tokens[i + 1].token_type is TokenType.L_PAREN
        if is_call and word.lower() in SIDE_EFFECT_FUNCTIONS:
            return _deny(sql, f"function {word.lower()}() acts outside the query")
        if not is_call and word in FORBIDDEN_KEYWORDS:
            return _deny(sql, f"keyword {word} is not allowed in a read-only query")
    return problem


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _check_tree(root: exp.Expression, sql: str) -> GuardDecision | None:
    if not isinstance(root, _QUERY_ROOTS):
        return _deny(sql, f"only SELECT/WITH queries are allowed, got {root.key.upper()}")
    for node in root.walk():
        if isinstance(node, FORBIDDEN_NODES):
            return _deny(sql, f"{_node_label(node)} is not allowed in a read-only query")
        if isinstance(node, exp.Func):
            parent = node.parent
            qualified = (isinstance(parent, exp.Dot) and parent.expression is node) or (
                isinstance(parent, exp.Table) and parent.this is node and parent.args.get("db")
            )
            if qualified:
                return _deny(sql, f"schema-qualified function {_func_name(node)}() is not allowed")
            name = node.this if isinstance(node, exp.Anonymous) else None
            if isinstance(name, exp.Identifier) and name.quoted:
                return _deny(sql, f"quoted function name {node.this.name!r} is not allowed")
    return None


def _node_label(node: exp.Expression) -> str:
    if isinstance(node, exp.Lock):
        return "SELECT ... FOR UPDATE/SHARE"
    if isinstance(node, exp.Into):
        return "SELECT ... INTO"
    if isinstance(node, getattr(exp, "Parameter", ())):
        return "a variable or parameter"
    if isinstance(node, getattr(exp, "PropertyEQ", ())):
        return "an assignment (:=)"
    if isinstance(node, getattr(exp, "NextValueFor", ())):
        return "NEXT VALUE FOR (sequences)"
    return node.key.upper()


def _func_name(node: exp.Func) -> str:
    return node.name if isinstance(node, exp.Anonymous) else node.sql_name()


def _check_call(name: str, allowed: frozenset[str], sql: str) -> GuardDecision | None:
    raw = name.strip()
    if raw[:1] in ('"', "`", "["):
        return _deny(sql, f"quoted function name {raw} is not allowed")
    if "." in raw:
        return _deny(sql, f"schema-qualified function {raw}() is not allowed")
    if not raw.isascii():  # case folding could map it onto an allowed ASCII name
        return _deny(sql, f"function name {raw!r} is not ASCII")
    base = normalize_function_name(raw)
    if base in allowed:
        return None
    if is_forbidden_function(base):
        why = "acts outside the query (files, locks, sleep, settings, sequences, ...)"
    else:
        why = "is not a known side-effect-free built-in (user-defined or unknown functions " \
              "are refused; allow it by name with allowed_functions)"
    return _deny(sql, f"function {base}() {why}")


def _render(tree: exp.Expression, dialect: str) -> tuple[str, list[str]]:
    """`tree` as `dialect` text without comments, and every function name the text calls."""
    # Anything sqlglot cannot express in `dialect` raises instead of being dropped silently.
    generator = faithful_generator(dialect)
    called: list[str] = []
    plain_func = generator.func

    def recording_func(name: str, *args, **kwargs):
        called.append(str(name))
        return plain_func(name, *args, **kwargs)

    generator.func = recording_func  # every function call the generator writes passes here
    return generator.generate(tree, copy=True), called
