"""The canonical question of a SQL query: a plain English template read off its sqlglot tree.

Every part of the query has one fixed wording, chosen so that nothing is left open: the
aggregate ("the average age"), the grouping ("grouped by the country"), the direction and
count of an ordering ("sorted by the age in descending order, keeping only the first 3
results"), distinctness ("the different countries"), set operations ("appear in both ... and
..."), negation ("is not among", "there is no order ...") and, in joins, whose column each
output is ("the name of the customer"). Nested conditions and subqueries are bracketed, so
"and" never attaches to the wrong clause. Values are quoted exactly as stored. What a question
cannot say briefly goes to the evidence: how joined tables match, what a code or flag column
holds (its schema comment), how dates are written, what a LIKE pattern means.

A construct without a faithful wording (window functions, CTEs, derived tables, most
functions, ...) raises ``NotRealizable`` with the construct named; nothing is guessed.

>>> from sqlsynth.db.schema import Column, Schema, Table
>>> schema = Schema("music", [Table("singer", [Column("name", "TEXT"), Column("age", "INT")])])
>>> canonical_question("SELECT name FROM singer WHERE age > 30 ORDER BY age DESC LIMIT 3",
...                    schema).question
'What are the names of the singers whose age is greater than 30, sorted by the age in descending order, keeping only the first 3 results?'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from sqlsynth.db.schema import Schema
from sqlsynth.realize.errors import NotRealizable
from sqlsynth.realize.names import humanize, plural
from sqlsynth.realize.scope import Scope, Source, open_scope
from sqlsynth.sql.parse import SQLParseError, parse_single


@dataclass(frozen=True)
class CanonicalQuestion:
    """A question and its evidence ("" when no value needs explaining)."""

    question: str
    evidence: str


def canonical_question(sql: str, schema: Schema, dialect: str = "sqlite") -> CanonicalQuestion:
    """The canonical question (and evidence) of ``sql`` on ``schema``; ``NotRealizable`` when
    the query uses a construct this realizer cannot word faithfully."""
    try:
        tree = parse_single(sql, dialect)
    except SQLParseError as err:
        raise NotRealizable(f"unparseable SQL: {err}") from err
    if dialect == "sqlite":
        tree = _strings_for_unknown_names(tree, schema)
    realizer = _Realizer(schema, dialect)
    question = realizer.question(tree)
    return CanonicalQuestion(question, " ".join(realizer.notes))


_COMPARISONS: dict[type, tuple[str, str]] = {
    # (wording against a value, wording against another expression)
    exp.EQ: ("is", "equals"),
    exp.NEQ: ("is not", "does not equal"),
    exp.GT: ("is greater than", "is greater than"),
    exp.GTE: ("is at least", "is at least"),
    exp.LT: ("is less than", "is less than"),
    exp.LTE: ("is at most", "is at most"),
}
_FLIPPED = {exp.GT: exp.LT, exp.LT: exp.GT, exp.GTE: exp.LTE, exp.LTE: exp.GTE,
            exp.EQ: exp.EQ, exp.NEQ: exp.NEQ}
_ARITHMETIC = {exp.Add: "plus", exp.Sub: "minus", exp.Mul: "times", exp.Div: "divided by",
               exp.Mod: "modulo"}
_AGGREGATE_WORDS = {exp.Sum: "total", exp.Avg: "average", exp.Min: "minimum",
                    exp.Max: "maximum"}
_SET_WORDING = {
    "union": "Which results appear in either {l} or {r}, each listed once",
    "union_all": "What are {l} together with {r}, keeping duplicates",
    "intersect": "Which results appear in both {l} and {r}",
    "except": "Which results appear in {l} but not in {r}",
}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _strip_the(phrase: str) -> str:
    return phrase.removeprefix("the ")


def _series(items: list[str], last: str = "and") -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + f" {last} " + items[-1]


def quote_value(text: str) -> str:
    """A stored text value as the question shows it: in single quotes, or double quotes when
    the value itself holds a single quote."""
    return f'"{text}"' if "'" in text and '"' not in text else f"'{text}'"


class _Realizer:
    def __init__(self, schema: Schema, dialect: str) -> None:
        self.schema = schema
        self.dialect = dialect
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # -- statements -------------------------------------------------------------------------
    def question(self, tree: exp.Expression) -> str:
        if tree.args.get("with_") or tree.args.get("with"):
            raise NotRealizable("WITH (common table expressions)")
        if isinstance(tree, exp.SetOperation):
            return self.set_question(tree)
        if isinstance(tree, exp.Select):
            return self.select_question(tree)
        raise NotRealizable(f"statement {tree.key.upper()}")

    def set_question(self, node: exp.SetOperation) -> str:
        left, right = _unwrap(node.this), _unwrap(node.expression)
        if not isinstance(left, exp.Select) or not isinstance(right, exp.Select):
            raise NotRealizable("nested set operation")
        kind = node.key
        if kind == "union" and not node.args.get("distinct", True):
            kind = "union_all"
        left_phrase = _bracket(self.select_phrase(left, None))
        right_phrase = _bracket(self.select_phrase(right, None))
        text = _SET_WORDING[kind].format(l=left_phrase, r=right_phrase)
        scope = open_scope(left, self.schema, None)
        text += self.order_limit(node, scope, left.expressions)
        return text + "?"

    def select_question(self, select: exp.Select) -> str:
        _check_select(select)
        scope = open_scope(select, self.schema, None)
        scope_text = self.scope_phrase(select, scope)
        where = self.filters(select, scope)
        projections = select.expressions
        group = select.args.get("group")
        tail = self.order_limit(select, scope, projections)
        if group is not None:
            keys = [self.expr(g, scope) for g in group.expressions]
            outputs = self.outputs(projections, scope, plural=False)
            having = self.having(select, scope)
            verb = "is" if len(projections) == 1 else "are"
            return (f"Among {scope_text}{where}, grouped by {_series(keys)}, what {verb} "
                    f"{outputs} of each group{having}{tail}?")
        if select.args.get("having") is not None:
            raise NotRealizable("HAVING without GROUP BY")
        one_row = all(p.find(exp.AggFunc) is not None for p in projections)
        if one_row:
            only = _unalias(projections[0])
            if (len(projections) == 1 and isinstance(only, exp.Count) and not tail
                    and isinstance(only.this, exp.Star) and not select.args.get("distinct")):
                if scope.single:
                    return f"How many {scope.sources[0].nouns} are there{where}?"
                return f"How many matching rows of {scope_text} are there{where}?"
            outputs = self.outputs(projections, scope, plural=False)
            verb = "is" if len(projections) == 1 else "are"
            link = "of" if scope.single else "for"
            return f"What {verb} {outputs} {link} {scope_text}{where}{tail}?"
        outputs = self.outputs(projections, scope, plural=True)
        if select.args.get("distinct"):
            outputs = self.distinct(outputs, projections)
        link = "of" if scope.single else "for"
        return f"What are {outputs} {link} {scope_text}{where}{tail}?"

    def select_phrase(self, select: exp.Select, parent: Scope | None, *,
                      scalar: bool = False) -> str:
        """A query as a noun phrase ("the names of the singers for which ..."), for
        subqueries and the two sides of a set operation."""
        _check_select(select)
        scope = open_scope(select, self.schema, parent)
        scope_text = self.scope_phrase(select, scope)
        where = self.filters(select, scope)
        projections = select.expressions
        group = select.args.get("group")
        tail = self.order_limit(select, scope, projections)
        one_row = group is None and all(p.find(exp.AggFunc) for p in projections)
        outputs = self.outputs(projections, scope, plural=not (one_row or scalar))
        if select.args.get("distinct"):
            outputs = self.distinct(outputs, projections)
        link = "of" if scope.single else "for"
        text = f"{outputs} {link} {scope_text}{where}"
        if group is not None:
            keys = [self.expr(g, scope) for g in group.expressions]
            text += f", grouped by {_series(keys)}{self.having(select, scope)}"
        elif select.args.get("having") is not None:
            raise NotRealizable("HAVING without GROUP BY")
        return text + tail

    # -- clauses ----------------------------------------------------------------------------
    def scope_phrase(self, select: exp.Select, scope: Scope) -> str:
        first, *rest = scope.sources
        text = f"the {first.nouns}"
        joins = select.args.get("joins") or []
        for source, join in zip(rest, joins):
            side = (join.side or "").upper()
            kind = (join.kind or "").upper()
            if join.args.get("using") or kind == "NATURAL":
                raise NotRealizable("JOIN ... USING / NATURAL JOIN")
            if side in ("RIGHT", "FULL"):
                raise NotRealizable(f"{side} JOIN")
            on = join.args.get("on")
            if on is None or (isinstance(on, exp.Boolean) and on.this):
                text += f" combined with every one of the {source.nouns}"
                continue
            text += f" joined with their {source.nouns}"
            if side == "LEFT":
                text += f" (keeping {first.nouns} that have no matching {source.noun})"
            self.note(f"Rows are matched where {self.condition(on, scope)}.")
        return text

    def filters(self, select: exp.Select, scope: Scope) -> str:
        """" whose city is 'Leeds' and whose age ..." when every condition tests a column of
        the one table; " for which ..." otherwise."""
        where = select.args.get("where")
        if where is None:
            return ""
        parts = _flatten(where.this, exp.And)
        if scope.single and all(self.own_column_test(p, scope) for p in parts):
            texts = [self.condition(p, scope) for p in parts]
            if all(t.startswith("the ") for t in texts):
                return " " + " and ".join("whose " + t[4:] for t in texts)
        return f" for which {self.condition(where.this, scope)}"

    def own_column_test(self, node: exp.Expression, scope: Scope) -> bool:
        """A test whose subject is a column of the scope's own table (not a nested boolean)."""
        node = _unparen(node)
        if isinstance(node, exp.Not):
            node = _unparen(node.this)
        if not isinstance(node, (*_COMPARISONS, exp.Like, exp.ILike, exp.In, exp.Between, exp.Is)):
            return False
        subject = _unparen(node.this)
        if type(node) in _COMPARISONS and _is_value(subject):
            subject = _unparen(node.expression)
        if not isinstance(subject, exp.Column):
            return False
        hit = scope.find(subject)
        return hit is not None and hit[2] == 0

    def having(self, select: exp.Select, scope: Scope) -> str:
        having = select.args.get("having")
        if having is None:
            return ""
        return f", considering only the groups for which {self.condition(having.this, scope)}"

    def outputs(self, projections: list[exp.Expression], scope: Scope, *, plural: bool) -> str:
        parts = []
        for projection in projections:
            node = _unalias(projection)
            if isinstance(node, exp.Star):
                parts.append("all columns")
            elif isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
                source = self.source_of(node.table, scope)
                parts.append(f"all columns of the {source.noun}")
            else:
                parts.append(self.expr(node, scope, plural=plural))
        return _series(parts)

    def distinct(self, outputs: str, projections: list[exp.Expression]) -> str:
        if len(projections) == 1:
            return f"the different {_strip_the(outputs)}"
        return f"the different combinations of {outputs}"

    def order_limit(self, query: exp.Query, scope: Scope, projections: list) -> str:
        text = ""
        order = query.args.get("order")
        if order is not None:
            keys = []
            for ordered in order.expressions:
                key = ordered.this
                if isinstance(key, exp.Literal) and not key.is_string:
                    position = int(key.this)
                    if not 1 <= position <= len(projections):
                        raise NotRealizable(f"ORDER BY position {position}")
                    key = _unalias(projections[position - 1])
                direction = "descending" if ordered.args.get("desc") else "ascending"
                keys.append(f"{self.expr(key, scope)} in {direction} order")
            text += ", sorted by " + " and then by ".join(keys)
        limit = query.args.get("limit")
        offset = query.args.get("offset")
        if limit is not None:
            count = _integer(limit.expression, "LIMIT")
            if order is None:
                text += f", keeping only {count} of the results (any {count})"
            elif count == 1:
                text += ", keeping only the first result"
            else:
                text += f", keeping only the first {count} results"
        if offset is not None:
            skipped = _integer(offset.expression, "OFFSET")
            text += f", after skipping the first {skipped}"
        return text

    # -- conditions -------------------------------------------------------------------------
    def condition(self, node: exp.Expression, scope: Scope) -> str:
        node = _unparen(node)
        if isinstance(node, exp.And):
            parts = [self.nested(p, scope, exp.Or) for p in _flatten(node, exp.And)]
            return " and ".join(parts)
        if isinstance(node, exp.Or):
            parts = [self.nested(p, scope, exp.And) for p in _flatten(node, exp.Or)]
            return "either " + " or ".join(parts)
        if isinstance(node, exp.Not):
            return self.negated(_unparen(node.this), scope)
        if type(node) in _COMPARISONS:
            return self.comparison(node, scope)
        if isinstance(node, (exp.Like, exp.ILike)):
            return self.like(node, scope, negate=bool(node.args.get("negate")))
        if isinstance(node, exp.In):
            return self.membership(node, scope, negate=False)
        if isinstance(node, exp.Between):
            low, high = node.args["low"], node.args["high"]
            self.note_value(node.this, low, scope)
            return (f"{self.expr(node.this, scope)} is between {self.expr(low, scope)} and "
                    f"{self.expr(high, scope)} (inclusive)")
        if isinstance(node, exp.Is):
            return self.is_test(node, scope, negate=False)
        if isinstance(node, exp.Exists):
            return self.exists(node, scope, negate=False)
        if isinstance(node, exp.Column):
            return f"{self.expr(node, scope)} is not zero"
        raise NotRealizable(f"condition {node.key.upper()}")

    def nested(self, node: exp.Expression, scope: Scope, other: type) -> str:
        inner = _unparen(node)
        text = self.condition(inner, scope)
        if isinstance(inner, other):
            return f"({'both ' if other is exp.And else ''}{text})"
        return text

    def negated(self, node: exp.Expression, scope: Scope) -> str:
        if isinstance(node, exp.In):
            return self.membership(node, scope, negate=True)
        if isinstance(node, exp.Exists):
            return self.exists(node, scope, negate=True)
        if isinstance(node, (exp.Like, exp.ILike)):
            return self.like(node, scope, negate=True)
        if isinstance(node, exp.Is):
            return self.is_test(node, scope, negate=True)
        if isinstance(node, exp.Between):
            low, high = node.args["low"], node.args["high"]
            return (f"{self.expr(node.this, scope)} is not between {self.expr(low, scope)} and "
                    f"{self.expr(high, scope)}")
        return f"it is not the case that ({self.condition(node, scope)})"

    def comparison(self, node: exp.Expression, scope: Scope) -> str:
        cls, left, right = type(node), node.this, node.expression
        if _is_value(left) and not _is_value(right):
            cls, left, right = _FLIPPED[cls], right, left
        against_value, against_expr = _COMPARISONS[cls]
        self.note_value(left, right, scope)
        word = against_value if _is_value(right) else against_expr
        return f"{self.expr(left, scope)} {word} {self.expr(right, scope)}"

    def like(self, node: exp.Expression, scope: Scope, *, negate: bool) -> str:
        pattern = node.expression
        if not (isinstance(pattern, exp.Literal) and pattern.is_string) or node.args.get("escape"):
            raise NotRealizable("LIKE with a pattern that is not a plain string")
        text = pattern.this
        subject = self.expr(node.this, scope)
        self.note_value(node.this, pattern, scope)
        if isinstance(node, exp.ILike):
            self.note("The text comparison ignores upper and lower case.")
        core = text.strip("%")
        plain = core and "%" not in core and "_" not in core
        if plain and text == f"{core}%":
            verb = "starts with"
        elif plain and text == f"%{core}":
            verb = "ends with"
        elif plain and text == f"%{core}%":
            verb = "contains"
        elif plain and text == core:
            return f"{subject} is {'not ' if negate else ''}{quote_value(text)}"
        else:
            self.note("In a pattern, % stands for any run of characters and _ for any one "
                      "character.")
            verb = "matches the pattern"
            core = text
        if negate:
            verb = {"starts with": "does not start with", "ends with": "does not end with",
                    "contains": "does not contain"}.get(verb, "does not match the pattern")
        return f"{subject} {verb} {quote_value(core)}"

    def membership(self, node: exp.In, scope: Scope, *, negate: bool) -> str:
        subject = self.expr(node.this, scope)
        query = node.args.get("query")
        if query is not None:
            inner = self.select_phrase(_subquery_select(query), scope)
            return f"{subject} is {'not ' if negate else ''}among ({inner})"
        values = node.expressions
        if not values:
            raise NotRealizable("IN with an empty list")
        for value in values:
            self.note_value(node.this, value, scope)
        words = [self.expr(v, scope) for v in values]
        if len(words) == 1:
            return f"{subject} is {'not ' if negate else ''}{words[0]}"
        return f"{subject} is {'none' if negate else 'one'} of {_series(words, 'or')}"

    def is_test(self, node: exp.Is, scope: Scope, *, negate: bool) -> str:
        subject = self.expr(node.this, scope)
        if isinstance(node.expression, exp.Null):
            return f"{subject} is {'present' if negate else 'missing'}"
        if isinstance(node.expression, exp.Boolean):
            truth = node.expression.this != negate
            return f"{subject} is {'true' if truth else 'false'}"
        raise NotRealizable("IS with something other than NULL, TRUE or FALSE")

    def exists(self, node: exp.Exists, scope: Scope, *, negate: bool) -> str:
        select = _subquery_select(node.this)
        _check_select(select)
        for clause in ("group", "having", "limit", "order", "offset"):
            if select.args.get(clause) is not None:
                raise NotRealizable(f"EXISTS over a subquery with {clause.upper()}")
        inner = open_scope(select, self.schema, scope)
        scope_text = self.scope_phrase(select, inner)
        where = self.filters(select, inner)
        if inner.single:
            noun = inner.sources[0].noun
            text = f"there is {'no' if negate else 'at least one'} {noun}{where}"
        else:
            text = f"there is {'no' if negate else 'at least one'} matching row of {scope_text}"
            text += where
        return f"({text})" if where else text

    # -- values and expressions -------------------------------------------------------------
    def expr(self, node: exp.Expression, scope: Scope, *, plural: bool = False) -> str:
        node = _unparen(node)
        if isinstance(node, exp.Alias):
            return self.expr(node.this, scope, plural=plural)
        if isinstance(node, exp.Column):
            return self.column(node, scope, plural=plural)
        if isinstance(node, (exp.Literal, exp.Neg, exp.Boolean)) and _is_value(node):
            return _value_text(node)
        if isinstance(node, exp.Null):
            raise NotRealizable("NULL used as a value")
        if isinstance(node, exp.Count):
            return self.count(node, scope)
        for cls, word in _AGGREGATE_WORDS.items():
            if isinstance(node, cls):
                return self.aggregate(node, word, scope)
        for cls, word in _ARITHMETIC.items():
            if isinstance(node, cls):
                return f"({self.expr(node.this, scope)} {word} {self.expr(node.expression, scope)})"
        if isinstance(node, exp.Subquery):
            return f"({self.select_phrase(_subquery_select(node), scope, scalar=True)})"
        if isinstance(node, exp.Case):
            return self.case(node, scope)
        return self.function(node, scope)

    def column(self, node: exp.Column, scope: Scope, *, plural: bool = False) -> str:
        if isinstance(node.this, exp.Star):
            raise NotRealizable("table.* outside the SELECT list")
        hit = scope.find(node)
        if hit is None:
            alias = scope.aliases.get(node.name.lower()) if not node.table else None
            if alias is not None:
                return self.expr(alias, scope, plural=plural)
            if self.dialect == "sqlite" and node.this.quoted and not node.table:
                return quote_value(node.name)  # SQLite reads an unknown "name" as a string
            raise NotRealizable(f"unknown column {node.sql(self.dialect)}")
        source, column, depth = hit
        name = humanize(column.name)
        if name.split()[0] in ("is", "has") and " " in name:
            name += " flag"  # "the is listed flag", not "the is listed"
        if plural:
            name = _plural_name(name)
        if depth > 0:
            return f"the {name} of this {source.noun}"
        if scope.single:
            return f"the {name}"
        owner = source.nouns if plural else source.noun
        return f"the {name} of the {owner}"

    def source_of(self, alias: str, scope: Scope) -> Source:
        for source in scope.sources:
            if alias.lower() in (source.alias, source.table.name.lower()):
                return source
        raise NotRealizable(f"unknown table alias {alias!r}")

    def count(self, node: exp.Count, scope: Scope) -> str:
        arg = node.this
        if arg is None or isinstance(arg, exp.Star):
            if scope.single:
                return f"the number of {scope.sources[0].nouns}"
            return "the number of matching rows"
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                raise NotRealizable("COUNT(DISTINCT ...) over several expressions")
            inner = self.expr(arg.expressions[0], scope, plural=True)
            return f"the number of different {_strip_the(inner)}"
        inner = self.expr(arg, scope, plural=True)
        return f"the number of recorded {_strip_the(inner)}"

    def aggregate(self, node: exp.Expression, word: str, scope: Scope) -> str:
        arg = _unparen(node.this)
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                raise NotRealizable("aggregate over DISTINCT of several expressions")
            return f"the {word} of the different values of {self.expr(arg.expressions[0], scope)}"
        if isinstance(arg, exp.Column) and not isinstance(arg.this, exp.Star):
            return "the " + word + " " + _strip_the(self.column(arg, scope))
        return f"the {word} of {self.expr(arg, scope)}"

    def case(self, node: exp.Case, scope: Scope) -> str:
        subject = node.this
        branches = []
        for branch in node.args.get("ifs") or []:
            if subject is not None:
                when = f"{self.expr(subject, scope)} is {self.expr(branch.this, scope)}"
            else:
                when = self.condition(branch.this, scope)
            branches.append(f"{self.expr(branch.args['true'], scope)} when {when}")
        default = node.args.get("default")
        rest = "missing otherwise" if default is None else f"{self.expr(default, scope)} otherwise"
        return f"(a value that is {'; '.join(branches)}; and {rest})"

    def function(self, node: exp.Expression, scope: Scope) -> str:
        if isinstance(node, exp.Round):
            decimals = node.args.get("decimals")
            inner = self.expr(node.this, scope)
            if decimals is None:
                return f"{inner} rounded to a whole number"
            return f"{inner} rounded to {_integer(decimals, 'ROUND')} decimal places"
        simple = {exp.Abs: "the absolute value of {}", exp.Length: "the length of {}",
                  exp.Upper: "{} in upper case", exp.Lower: "{} in lower case"}
        for cls, wording in simple.items():
            if isinstance(node, cls):
                return wording.format(self.expr(node.this, scope))
        if isinstance(node, exp.DPipe):
            return (f"(the text of {self.expr(node.this, scope)} followed by "
                    f"{self.expr(node.expression, scope)})")
        if isinstance(node, exp.Cast):
            return f"{self.expr(node.this, scope)} as {node.to.sql(self.dialect).lower()}"
        raise NotRealizable(f"expression {node.sql(self.dialect)[:60]}")

    # -- evidence ---------------------------------------------------------------------------
    def note_value(self, subject: exp.Expression, value: exp.Expression, scope: Scope) -> None:
        """Explain a value compared with a column: the column's comment (codes, flags, units)
        and the format of a date."""
        subject = _unparen(subject)
        if not isinstance(subject, exp.Column) or not _is_value(value):
            return
        hit = scope.find(subject)
        if hit is None:
            return
        source, column, _ = hit
        name = f"{humanize(column.name)} of the {source.nouns}"
        if column.comment:
            self.note(f"{name[0].upper()}{name[1:]}: {_one_line(column.comment)}.")
        elif isinstance(value, exp.Literal) and value.is_string and _DATE.match(value.this):
            self.note(f"The {name} is a date written as text, {_date_format(value.this)}.")


def _strings_for_unknown_names(tree: exp.Expression, schema: Schema) -> exp.Expression:
    """SQLite reads a double-quoted name that names no column as a string ("Asia"), as
    Spider's gold SQL relies on; the tree is made to say so."""
    known = {c.name.lower() for t in schema.tables for c in t.columns}
    aliases = {a.alias.lower() for a in tree.find_all(exp.Alias)}

    def convert(node: exp.Expression) -> exp.Expression:
        if (isinstance(node, exp.Column) and not node.table and isinstance(node.this, exp.Identifier)
                and node.this.quoted and node.name.lower() not in known | aliases):
            return exp.Literal.string(node.name)
        return node

    if not any(c.this.quoted for c in tree.find_all(exp.Column)
               if isinstance(c.this, exp.Identifier)):
        return tree
    return tree.transform(convert, copy=True)


def _date_format(value: str) -> str:
    return "year-month-day and time" if len(value) > 10 else "year-month-day (YYYY-MM-DD)"


def _one_line(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")


def _plural_name(name: str) -> str:
    return plural(name)


def _unwrap(node: exp.Expression) -> exp.Expression:
    while isinstance(node, (exp.Subquery, exp.Paren)) and not node.args.get("alias"):
        node = node.this
    return node


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _unalias(node: exp.Expression) -> exp.Expression:
    return node.this if isinstance(node, exp.Alias) else node


def _flatten(node: exp.Expression, cls: type) -> list[exp.Expression]:
    node = _unparen(node)
    if isinstance(node, cls):
        return _flatten(node.this, cls) + _flatten(node.expression, cls)
    return [node]


def _bracket(phrase: str) -> str:
    nested = (" for which ", " whose ", ", ")
    return f"({phrase})" if any(word in phrase for word in nested) else phrase


def _subquery_select(node: exp.Expression) -> exp.Select:
    inner = _unwrap(node)
    if not isinstance(inner, exp.Select):
        raise NotRealizable(f"subquery {inner.key.upper()} (a set operation or other)")
    return inner


def _check_select(select: exp.Select) -> None:
    if select.args.get("with_") or select.args.get("with"):
        raise NotRealizable("WITH (common table expressions)")
    if select.find(exp.Window):
        raise NotRealizable("window function")
    distinct = select.args.get("distinct")
    if distinct is not None and distinct.args.get("on"):
        raise NotRealizable("DISTINCT ON")


def _is_value(node: exp.Expression) -> bool:
    node = _unparen(node)
    if isinstance(node, exp.Neg):
        return _is_value(node.this)
    return isinstance(node, (exp.Literal, exp.Boolean))


def _value_text(node: exp.Expression) -> str:
    node = _unparen(node)
    if isinstance(node, exp.Neg):
        return "-" + _value_text(node.this)
    if isinstance(node, exp.Boolean):
        return "true" if node.this else "false"
    if node.is_string:
        return quote_value(node.this)
    return str(node.this)


def _integer(node: exp.Expression, clause: str) -> int:
    if isinstance(node, exp.Literal) and not node.is_string and str(node.this).isdigit():
        return int(node.this)
    raise NotRealizable(f"{clause} with a value that is not a whole number")
