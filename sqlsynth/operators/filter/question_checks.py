"""Cheap, deterministic checks of a generated question and its evidence.

They run before the LLM judge because a judge model, especially a small one, says yes to
text that is no question at all ("Is there a specific question you would like to ask?").
Each check is a pure function returning the reject reason's detail, or None when the text
passes; ``question_problem`` runs them in a fixed order and names the first failure.

>>> question_problem("How many customers live in Leeds?", "", "SELECT COUNT(*) FROM c")
>>> question_problem("Show the SQL for customer counts", "", "SELECT 1")[0]
'question_mentions_sql'
"""

from __future__ import annotations

import re
from collections.abc import Callable

_WORD = re.compile(r"[A-Za-z0-9_]+")
_SQL_WORD = re.compile(r"\bsql\b|\bsqlite\b|\bmysql\b|\bpostgres(?:ql)?\b", re.IGNORECASE)
# code, not prose: upper-case clause keywords, fences, backticks, COUNT(*), a = b on names
_CODE = (
    re.compile(r"```|`[A-Za-z_][\w.]*`"),
    re.compile(r"\bSELECT\b[\s\S]{0,200}?\bFROM\b"),
    re.compile(r"\b(?:GROUP|ORDER)\s+BY\b|\b(?:INNER|LEFT|RIGHT|OUTER)\s+JOIN\b"),
    re.compile(r"\bWHERE\s+[\w.\"`]+\s*(?:=|<>|!=|>=|<=|<|>|\bLIKE\b|\bIN\b)"),
    re.compile(r"\b(?:COUNT|SUM|AVG|MIN|MAX)\s*\(\s*(?:\*|DISTINCT\b|[\w.]+\s*\))", re.IGNORECASE),
    re.compile(r"\b\w+_\w+\s*(?:=|<>|!=|>=|<=)\s*['\"\w]"),
    re.compile(r"\b\w+\.\w+_\w+\b|\b\w+_\w+\.\w+\b"),
    re.compile(r";\s*$"),
)
_PLACEHOLDER = (
    re.compile(r"\{[^{}]*\}|\$\{?\w+\}?|<[a-z_ /]+>|\[[A-Za-z_ ]+\]", re.IGNORECASE),
    re.compile(r"\b(?:TODO|TBD|XXX|PLACEHOLDER|lorem ipsum)\b|_{3,}|\?\?+|\.\.\.\s*$", re.IGNORECASE),
)
_ASKS_BACK = re.compile(
    r"\b(?:would you like|do you want|do you need|can you (?:please )?(?:provide|clarify|specify"
    r"|tell me (?:what|which))|could you (?:please )?(?:provide|clarify|specify|tell)|please "
    r"(?:provide|specify|clarify|let me know)|let me know|what (?:else )?(?:would|do) you (?:like"
    r"|want|need)|is there (?:a|any) ?(?:specific|particular|other)? (?:question|thing|information)"
    r"|how (?:can|may) i (?:help|assist)|i (?:need|would need|require) more|as an ai|"
    r"which (?:database|table|question) (?:do|would) you|you would like to (?:ask|know))\b",
    re.IGNORECASE,
)
# a question does not end on these words (prepositions may: "which city do they live in?")
_DANGLING = {"a", "an", "the", "of", "and", "or", "whose", "than", "between", "per", "versus"}
# a question that ends on a quoted value ("... the grade 'A'?") ends on the value, not on "a"
_ENDS_QUOTED = re.compile(r"('[^']*'|\"[^\"]*\")\W*$")
# words that mark a copied run as query text (not "and", "between", "in": English has them)
_SQL_KEYWORDS = {"select", "from", "where", "group", "order", "join", "having", "limit", "count",
                 "sum", "avg", "min", "max", "distinct", "desc", "asc", "like", "inner", "left",
                 "union", "null", "is"}


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def _copied_run(text: str, sql: str, length: int, min_keywords: int) -> str | None:
    """A run of ``length`` consecutive SQL words (with ``min_keywords`` SQL keywords) that also
    appears, in order, in ``text``."""
    sql_words = _words(sql)
    text_words = _words(text)
    if len(sql_words) < length or len(text_words) < length:
        return None
    grams = {tuple(text_words[i:i + length]) for i in range(len(text_words) - length + 1)}
    for i in range(len(sql_words) - length + 1):
        gram = tuple(sql_words[i:i + length])
        if gram in grams and sum(w in _SQL_KEYWORDS for w in gram) >= min_keywords:
            return " ".join(gram)
    return None


def empty(question: str) -> str | None:
    return "the question is empty" if not _WORD.search(question or "") else None


def mentions_sql(question: str) -> str | None:
    """Names SQL or holds query code: a user asks about data, not about a query."""
    found = _SQL_WORD.search(question)
    if found:
        return f"mentions {found.group(0)!r}"
    for pattern in _CODE:
        found = pattern.search(question)
        if found:
            return f"holds code {found.group(0).strip()[:60]!r}"
    return None


def copies_sql(question: str, sql: str) -> str | None:
    """Reads the query out word for word instead of asking for its result."""
    run = _copied_run(question, sql, length=4, min_keywords=1)
    return f"repeats the SQL words {run!r}" if run else None


def placeholder(question: str) -> str | None:
    """A template slot left unfilled: ``{column}``, ``<value>``, ``[table]``, ``___``..."""
    for pattern in _PLACEHOLDER:
        found = pattern.search(question)
        if found:
            return f"unfilled placeholder {found.group(0)[:40]!r}"
    return None


def fragment(question: str) -> str | None:
    """Too short, cut off mid-sentence, or unbalanced: not a whole question."""
    words = _WORD.findall(question)
    if len(words) < 3:
        return f"only {len(words)} word(s)"
    if words[-1].lower() in _DANGLING and not _ENDS_QUOTED.search(question):
        return f"ends on {words[-1]!r}"
    for opening, closing in ("()", "[]", "{}"):
        if question.count(opening) != question.count(closing):
            return f"unbalanced {opening}{closing}"
    if question.count('"') % 2:
        return 'unbalanced "'
    return None


def asks_back(question: str) -> str | None:
    """Addresses the user instead of asking the database something."""
    found = _ASKS_BACK.search(question)
    return f"asks the user: {found.group(0)!r}" if found else None


def evidence_restates_sql(evidence: str, sql: str) -> str | None:
    """Evidence that gives the query away instead of explaining terms (``x refers to a = 1``
    is fine; a SELECT, or a long run of the query's words, is not)."""
    if not evidence:
        return None
    if re.search(r"\bselect\b[\s\S]{0,300}?\bfrom\b", evidence, re.IGNORECASE):
        return "holds a SELECT ... FROM query"
    run = _copied_run(evidence, sql, length=6, min_keywords=2)
    return f"repeats the SQL words {run!r}" if run else None


#: reason -> check of the question alone, in the order they run
QUESTION_CHECKS: dict[str, Callable[[str], str | None]] = {
    "empty_question": empty,
    "question_asks_back": asks_back,
    "question_mentions_sql": mentions_sql,
    "question_placeholder": placeholder,
    "question_fragment": fragment,
}


def question_problem(question: str, evidence: str, sql: str) -> tuple[str, str] | None:
    """``(reason, detail)`` of the first failed check, or None when all pass."""
    question = question or ""
    for reason, check in QUESTION_CHECKS.items():
        detail = check(question)
        if detail:
            return reason, detail
    detail = copies_sql(question, sql)
    if detail:
        return "question_copies_sql", detail
    detail = evidence_restates_sql(evidence or "", sql)
    if detail:
        return "evidence_restates_sql", detail
    return None
