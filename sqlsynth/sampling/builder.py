"""One sampled query: its SQL, its canonical question and evidence, and its reasoning.

The three are written together, clause by clause, from one plan (the way Overnight pairs each
grammar rule with a canonical phrase), so the question states exactly what the SQL computes:
every table, column and value the SQL uses is named in the question or, for a value whose
meaning the schema documents, explained in the evidence. Plain English, correct by
construction; a paraphrase step may make it natural later.

A plan (``Plan``) is drawn from a random generator; ``QueryBuilder.build`` fills it with the
database's own tables, foreign keys and stored values, or returns None when the database
offers nothing that fits (no numeric column for an average, no child table for EXISTS, ...).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sqlsynth.db.schema import quote_ident
from sqlsynth.realize.names import humanize, plural, relation_name, singular
from sqlsynth.sampling.graph import ColumnRef, Edge, SchemaGraph
from sqlsynth.sampling.values import StoredValues

SELECT_KINDS = ("column", "columns", "count", "aggregate", "distinct", "group", "case")
SUBQUERY_KINDS = ("scalar", "in", "not_in", "exists", "not_exists")
SET_OPERATIONS = ("UNION", "INTERSECT", "EXCEPT")
_AGGREGATES = {"MAX": "highest", "MIN": "lowest", "AVG": "average", "SUM": "total"}
_COMPARISONS = {"=": "is", "!=": "is not", ">": "is greater than", "<": "is less than",
                ">=": "is at least", "<=": "is at most"}


@dataclass(frozen=True)
class Plan:
    """The shape of one query; the builder fills in tables, columns and values."""

    select: str = "column"
    join: bool = False
    conditions: int = 0
    connector: str = "AND"
    subquery: str | None = None
    set_operation: str | None = None
    order: str | None = None  # ASC | DESC
    limit: int | None = None
    having: bool = False


@dataclass
class Built:
    """A filled plan: the SQL with its question, evidence, reasoning steps and features."""

    sql: str
    question: str
    evidence: str
    reasoning: str
    features: tuple[str, ...]


@dataclass
class _Condition:
    sql: str
    text: str
    evidence: str | None = None
    features: tuple[str, ...] = ()
    step: str = ""


@dataclass
class _Scope:
    """The FROM clause being built: the base table and, optionally, one joined parent."""

    base: str
    alias: str | None
    edge: Edge | None = None
    joined_alias: str | None = None
    features: set[str] = field(default_factory=set)


class QueryBuilder:
    """Fills plans for one database: ``await builder.build(plan, rng)``."""

    def __init__(self, graph: SchemaGraph, values: StoredValues, db_id: str, dialect: str
                 ) -> None:
        self.graph = graph
        self.values = values
        self.db_id = db_id
        self.dialect = dialect

    # ---------------------------------------------------------------- names and SQL pieces
    def q(self, name: str) -> str:
        return quote_ident(name, self.dialect)

    def col_sql(self, col: ColumnRef, alias: str | None) -> str:
        return f"{alias}.{self.q(col.column)}" if alias else self.q(col.column)

    def table_words(self, table: str) -> str:
        return humanize(table)

    def entity(self, table: str) -> str:
        return plural(self.table_words(table))

    @staticmethod
    def relation(scope: _Scope) -> str:
        edge = scope.edge
        assert edge is not None
        return relation_name(edge.via, edge.target, "_".join(edge.target_columns))

    def literal(self, value: Any) -> str:
        if isinstance(value, str):
            return "'" + value.replace("'", "''") + "'"
        return repr(value) if isinstance(value, float) else str(value)

    @staticmethod
    def spoken(value: Any) -> str:
        return f"'{value}'" if isinstance(value, str) else (
            f"{value:g}" if isinstance(value, float) else str(value))

    # ---------------------------------------------------------------- the parts of a query
    def scope_for(self, plan: Plan, rng: random.Random) -> _Scope | None:
        tables = [t for t in self.graph.tables if self.graph.columns(t)]
        if plan.join:
            parents = [(t, e) for t in tables for e in self.graph.edges.get(t, [])
                       if e.many_to_one and self.graph.columns(e.target, "text", "number")]
            if not parents:
                return None
            base, edge = rng.choice(parents)
            scope = _Scope(base, "T1", edge, "T2", {"join"})
            if edge.self_join:
                scope.features.add("self_join")
            return scope
        if not tables:
            return None
        base = rng.choice(tables)
        alias = "T1" if plan.subquery in ("exists", "not_exists") else None
        return _Scope(base, alias)

    def from_sql(self, scope: _Scope) -> str:
        base = self.q(scope.base)
        if scope.edge is None:
            return f"{base} AS {scope.alias}" if scope.alias else base
        on = " AND ".join(
            f"{scope.alias}.{self.q(s)} = {scope.joined_alias}.{self.q(t)}"
            for s, t in zip(scope.edge.source_columns, scope.edge.target_columns))
        return (f"{base} AS {scope.alias} JOIN {self.q(scope.edge.target)} AS "
                f"{scope.joined_alias} ON {on}")

    def join_step(self, scope: _Scope) -> str:
        if scope.edge is None:
            return ""
        pairs = ", ".join(f"{scope.alias}.{s} = {scope.joined_alias}.{t}" for s, t in
                          zip(scope.edge.source_columns, scope.edge.target_columns))
        return (f"Each {singular(self.table_words(scope.base))} refers to its "
                f"{self.relation(scope)} in table "
                f"{scope.edge.target}: join on {pairs}.")

    def scope_columns(self, scope: _Scope, *roles: str) -> list[tuple[ColumnRef, str | None]]:
        """Columns usable in this scope with the alias that reaches them."""
        found = [(c, scope.alias) for c in self.graph.columns(scope.base, *roles)]
        if scope.edge is not None:
            found += [(c, scope.joined_alias) for c in self.graph.columns(scope.edge.target,
                                                                          *roles)]
        return found

    def words(self, col: ColumnRef, alias: str | None, scope: _Scope) -> str:
        """A column's name in the question, prefixed by its relation when it is joined."""
        words = humanize(col.column)
        if scope.edge is not None and alias == scope.joined_alias:
            relation = self.relation(scope)
            if not words.startswith(relation.split()[-1]) or scope.edge.self_join:
                words = f"{relation}'s {words}"
        return words

    async def condition(self, col: ColumnRef, alias: str | None, scope: _Scope,
                        rng: random.Random) -> _Condition | None:
        """One filter on a stored value of ``col``, phrased as the SQL means it."""
        ref, words = self.col_sql(col, alias), self.words(col, alias, scope)
        evidence = _explained(col, words)
        if col.nullable and rng.random() < 0.12 and await self.values.has_nulls(self.db_id, col):
            if rng.random() < 0.5:
                return _Condition(f"{ref} IS NULL", f"{words} is missing",
                                  _join(evidence, f"a missing {words} is NULL"), ("is_null",),
                                  f"Keep rows where {ref} IS NULL.")
            return _Condition(f"{ref} IS NOT NULL", f"{words} is recorded",
                              _join(evidence, f"a recorded {words} is not NULL"), ("is_null",),
                              f"Keep rows where {ref} IS NOT NULL.")
        values = await self.values.values(self.db_id, col)
        if not values:
            return None
        value = rng.choice(values)
        numeric = isinstance(value, (int, float))
        roll = rng.random()
        if numeric or col.role == "date":
            if roll < 0.2 and len(values) >= 3:
                low, high = sorted(rng.sample(values, 2))
                return _Condition(
                    f"{ref} BETWEEN {self.literal(low)} AND {self.literal(high)}",
                    f"{words} is between {self.spoken(low)} and {self.spoken(high)}",
                    _join(evidence, "between includes both ends"), ("between",),
                    f"Keep rows where {ref} is between {self.literal(low)} and "
                    f"{self.literal(high)}.")
            op = rng.choice(["=", ">", "<", ">=", "<="]) if numeric or roll < 0.6 else "="
        elif roll < 0.2:
            word = _like_word(value)
            if word:
                return _Condition(f"{ref} LIKE {self.literal('%' + word + '%')}",
                                  f"{words} contains '{word}'", evidence, ("like",),
                                  f"Keep rows where {ref} contains '{word}' (LIKE).")
            op = "="
        elif roll < 0.35 and len(values) >= 2:
            picked = sorted(rng.sample(values, 2), key=str)
            listed = ", ".join(self.literal(v) for v in picked)
            return _Condition(f"{ref} IN ({listed})",
                              f"{words} is {self.spoken(picked[0])} or {self.spoken(picked[1])}",
                              evidence, ("in_list",), f"Keep rows where {ref} IN ({listed}).")
        else:
            op = "!=" if roll > 0.92 else "="
        return _Condition(f"{ref} {op} {self.literal(value)}",
                          f"{words} {_COMPARISONS[op]} {self.spoken(value)}", evidence, (),
                          f"Keep rows where {ref} {op} {self.literal(value)}.")

    async def conditions(self, plan: Plan, scope: _Scope, rng: random.Random
                         ) -> list[_Condition] | None:
        candidates = self.scope_columns(scope, "text", "number", "date")
        if plan.conditions and not candidates:
            return None
        chosen: list[_Condition] = []
        used: set[str] = set()
        joined = [(c, a) for c, a in candidates if scope.edge and a == scope.joined_alias]
        for attempt in range(plan.conditions * 4):
            if len(chosen) == plan.conditions:
                break
            # the first filter of a join reads the joined table, so the join has a purpose
            pool = joined if joined and not chosen and attempt < 3 else candidates
            col, alias = rng.choice(pool)
            if col.column in used and len(candidates) > plan.conditions:
                continue
            cond = await self.condition(col, alias, scope, rng)
            if cond is not None:
                chosen.append(cond)
                used.add(col.column)
        return chosen if len(chosen) == plan.conditions else None

    async def subquery(self, kind: str, scope: _Scope, rng: random.Random
                       ) -> _Condition | None:
        base_words = self.entity(scope.base)
        if kind == "scalar":
            numbers = self.graph.columns(scope.base, "number")
            if not numbers:
                return None
            col = rng.choice(numbers)
            ref, words = self.col_sql(col, scope.alias), humanize(col.column)
            op = rng.choice([">", "<"])
            relation = "greater" if op == ">" else "less"
            return _Condition(
                f"{ref} {op} (SELECT AVG({self.q(col.column)}) FROM {self.q(scope.base)})",
                f"{words} is {relation} than the average {words} of all {base_words}",
                None, ("scalar_subquery",),
                f"Compare {ref} with the average over the whole {scope.base} table, "
                f"computed in a subquery.")
        children = [e for e in self.graph.edges.get(scope.base, [])
                    if not e.many_to_one and not e.self_join]
        if not children:
            return None
        edge = rng.choice(children)
        child_scope = _Scope(edge.target, "S")
        inner = [c for c in self.graph.columns(edge.target, "text", "number", "date")]
        if not inner:
            return None
        cond = await self.condition(rng.choice(inner), "S", child_scope, rng)
        if cond is None:
            return None
        child = singular(self.table_words(edge.target))
        negated = kind in ("not_in", "not_exists")
        text = (f"have no {child} whose {cond.text}" if negated
                else f"have at least one {child} whose {cond.text}")
        if kind in ("in", "not_in") and len(edge.source_columns) == 1:
            key = self.col_sql(_key(scope.base, edge.source_columns[0]), scope.alias)
            fk = f"S.{self.q(edge.target_columns[0])}"
            guard = f"{fk} IS NOT NULL AND " if negated else ""
            sql = (f"{key} {'NOT IN' if negated else 'IN'} (SELECT {fk} FROM "
                   f"{self.q(edge.target)} AS S WHERE {guard}{cond.sql})")
            feature = "subquery_not_in" if negated else "subquery_in"
        else:
            if scope.alias is None:
                return None
            link = " AND ".join(f"S.{self.q(t)} = {scope.alias}.{self.q(s)}"
                                for s, t in zip(edge.source_columns, edge.target_columns))
            sql = (f"{'NOT ' if negated else ''}EXISTS (SELECT 1 FROM {self.q(edge.target)} "
                   f"AS S WHERE {link} AND {cond.sql})")
            feature = "exists"
        return _Condition(sql, text, cond.evidence, (feature, "correlated")
                          if feature == "exists" else (feature,),
                          f"Look up the {edge.target} rows of each {singular(base_words)} "
                          f"in a subquery ({'none' if negated else 'at least one'} must match: "
                          f"{cond.sql}).")

    async def select_part(self, plan: Plan, scope: _Scope, rng: random.Random
                          ) -> tuple[list[str], str, list[str], set[str], str | None] | None:
        """(SELECT items, their words, reasoning steps, features, GROUP BY) for ``plan``."""
        kind = plan.select
        entity = self.entity(scope.base)
        label = self.graph.label_column(scope.base)
        readable = self.scope_columns(scope, "text", "number", "date")
        if kind == "count":
            return ["COUNT(*)"], f"the number of {entity}", ["Count the rows."], \
                {"aggregate"}, None
        if kind == "aggregate":
            numbers = self.scope_columns(scope, "number")
            if not numbers:
                return None
            col, alias = rng.choice(numbers)
            fn = rng.choice(list(_AGGREGATES))
            return ([f"{fn}({self.col_sql(col, alias)})"],
                    f"the {_AGGREGATES[fn]} {self.words(col, alias, scope)}",
                    [f"Compute {fn} of {self.col_sql(col, alias)}."], {"aggregate"}, None)
        if kind in ("column", "distinct"):
            pool = [(label, scope.alias)] if label and kind == "column" and rng.random() < 0.5 \
                else readable
            if not pool:
                return None
            col, alias = rng.choice(pool)
            ref, words = self.col_sql(col, alias), self.words(col, alias, scope)
            if kind == "distinct":
                return [f"DISTINCT {ref}"], f"the different {words} values", \
                    [f"Return each distinct {ref} once."], {"distinct"}, None
            return [ref], f"the {words}", [f"Return {ref}."], set(), None
        if kind == "columns":
            if len(readable) < 2:
                return None
            picked = rng.sample(readable, 2)
            refs = [self.col_sql(c, a) for c, a in picked]
            words = " and the ".join(self.words(c, a, scope) for c, a in picked)
            return refs, f"the {words}", [f"Return {', '.join(refs)}."], set(), None
        if kind == "group":
            keys = [(c, a) for c, a in self.scope_columns(scope, "text")]
            if not keys:
                return None
            col, alias = rng.choice(keys)
            ref, words = self.col_sql(col, alias), self.words(col, alias, scope)
            numbers = self.scope_columns(scope, "number")
            if numbers and rng.random() < 0.4:
                ncol, nalias = rng.choice(numbers)
                fn = rng.choice(list(_AGGREGATES))
                measure = f"{fn}({self.col_sql(ncol, nalias)})"
                measure_words = f"the {_AGGREGATES[fn]} {self.words(ncol, nalias, scope)}"
            else:
                measure, measure_words = "COUNT(*)", f"the number of {entity}"
            return ([ref, measure], f"each {words} and {measure_words}",
                    [f"Group the rows by {ref}.", f"For each group compute {measure}."],
                    {"group_by", "aggregate"}, ref)
        if kind == "case":
            numbers = self.scope_columns(scope, "number")
            if not numbers or label is None:
                return None
            ncol, nalias = rng.choice(numbers)
            values = await self.values.values(self.db_id, ncol)
            if not values:
                return None
            threshold = values[(len(values) - 1) // 2]
            nref, nwords = self.col_sql(ncol, nalias), self.words(ncol, nalias, scope)
            case = (f"CASE WHEN {nref} > {self.literal(threshold)} THEN 'yes' ELSE 'no' END")
            words = (f"the {self.words(label, scope.alias, scope)} and whether the {nwords} "
                     f"is above {self.spoken(threshold)}")
            step = f"Return the label and {case}."
            return [self.col_sql(label, scope.alias), case], words, [step], {"case"}, None
        return None

    async def build(self, plan: Plan, rng: random.Random) -> Built | None:
        """The filled plan, or None when this database has nothing that fits it."""
        if plan.set_operation:
            return await self.build_set_operation(plan, rng)
        scope = self.scope_for(plan, rng)
        if scope is None:
            return None
        select = await self.select_part(plan, scope, rng)
        if select is None:
            return None
        items, select_words, select_steps, features, group = select
        features |= scope.features
        evidence: list[str] = []
        if "case" in features:
            evidence.append("'yes' means above the threshold, 'no' means not above it "
                            "(including a missing value)")
        conds = await self.conditions(plan, scope, rng)
        if conds is None:
            return None
        if plan.subquery:
            sub = await self.subquery(plan.subquery, scope, rng)
            if sub is None:
                return None
            conds.append(sub)
        connector = plan.connector if len(conds) > 1 and not plan.subquery else "AND"
        if connector == "OR":
            features.add("or")
        for cond in conds:
            features.update(cond.features)
            if cond.evidence:
                evidence.append(cond.evidence)
        sql = f"SELECT {', '.join(items)} FROM {self.from_sql(scope)}"
        steps = [f"The rows come from table {scope.base}."]
        if scope.edge is not None:
            steps.append(self.join_step(scope))
        if conds:
            sql += " WHERE " + f" {connector} ".join(c.sql for c in conds)
            steps += [c.step for c in conds]
            if len(conds) > 1:
                steps.append(f"Combine the conditions with {connector}.")
        where_words = _where_words(conds, connector)
        having_words = order_words = ""
        if group:
            sql += f" GROUP BY {group}"
            steps += select_steps
            if plan.having:
                count = rng.choice([1, 2, 3])
                sql += f" HAVING COUNT(*) > {count}"
                having_words = f", only for groups with more than {count} {self.entity(scope.base)}"
                steps.append(f"Keep groups with HAVING COUNT(*) > {count}.")
                features.add("having")
        else:
            steps += select_steps
        limit_words = ""
        if plan.order:
            key, key_words = self.order_key(items, scope, group, rng)
            if key is None:
                return None
            sql += f" ORDER BY {key} {plan.order}"
            direction = "highest" if plan.order == "DESC" else "lowest"
            features.add("order_by")
            if plan.limit:
                sql += f" LIMIT {plan.limit}"
                features.add("limit")
                limit_words = (f", keeping only the {'first' if plan.limit > 1 else 'one'}"
                               f"{' ' + str(plan.limit) if plan.limit > 1 else ''} with the "
                               f"{direction} {key_words}")
                steps.append(f"Sort by {key} {plan.order} and keep {plan.limit} row(s).")
            else:
                order_words = f", sorted by {key_words} from {direction} to " \
                              f"{'lowest' if direction == 'highest' else 'highest'}"
                steps.append(f"Sort by {key} {plan.order}.")
        if scope.edge is not None and f"{scope.joined_alias}." not in sql.split(" FROM ")[0] \
                + " ".join(c.sql for c in conds):
            return None  # a join the question cannot name: its table would go unmentioned
        entity = self.entity(scope.base)
        if plan.select == "count" and not group:
            question = f"How many {entity} are there{where_words}{limit_words}?"
        elif group:
            key_words, _, measure_words = select_words.removeprefix("each ").partition(" and ")
            question = (f"For each {key_words} of the {entity}{where_words}, what is "
                        f"{measure_words}{having_words}{order_words}{limit_words}?")
        else:
            question = (f"What {'are' if _plural_words(select_words) else 'is'} {select_words} "
                        f"of the {entity}{where_words}{having_words}{order_words}{limit_words}?")
        return _built(sql, question, evidence, steps, features)

    def order_key(self, items: list[str], scope: _Scope, group: str | None,
                  rng: random.Random) -> tuple[str | None, str]:
        if group:
            measure = items[-1]
            return measure, (f"number of {self.entity(scope.base)}" if measure == "COUNT(*)"
                             else "value")
        numbers = self.scope_columns(scope, "number", "date")
        if not numbers or items[0].startswith(("COUNT(", "MAX(", "MIN(", "AVG(", "SUM(")):
            return None, ""
        col, alias = rng.choice(numbers)
        return self.col_sql(col, alias), self.words(col, alias, scope)

    async def build_set_operation(self, plan: Plan, rng: random.Random) -> Built | None:
        scope = self.scope_for(Plan(), rng)
        if scope is None:
            return None
        readable = self.scope_columns(scope, "text", "number")
        if not readable:
            return None
        col, _ = rng.choice(readable)
        ref, words = self.col_sql(col, None), humanize(col.column)
        first = await self.conditions(Plan(conditions=1), scope, rng)
        second = await self.conditions(Plan(conditions=1), scope, rng)
        if not first or not second or first[0].sql == second[0].sql:
            return None
        entity = self.entity(scope.base)
        op = plan.set_operation or "UNION"
        part = f"SELECT {ref} FROM {self.q(scope.base)} WHERE "
        sql = f"{part}{first[0].sql} {op} {part}{second[0].sql}"
        a, b = first[0].text, second[0].text
        if op == "UNION":
            question = (f"Which {words} values belong to {entity} whose {a}, or to "
                        f"{entity} whose {b}?")
        elif op == "INTERSECT":
            question = (f"Which {words} values belong both to some {singular(entity)} whose "
                        f"{a} and to some {singular(entity)} whose {b}?")
        else:
            question = (f"Which {words} values belong to {entity} whose {a} but to no "
                        f"{singular(entity)} whose {b}?")
        evidence = [e for e in (first[0].evidence, second[0].evidence) if e]
        evidence.append("each value is listed once")
        steps = [f"The rows come from table {scope.base}.",
                 f"First set: {ref} where {first[0].sql}.",
                 f"Second set: {ref} where {second[0].sql}.",
                 f"Combine the two sets with {op}."]
        features = {"set_operation", *first[0].features, *second[0].features}
        return _built(sql, question, evidence, steps, features)


def _built(sql: str, question: str, evidence: list[str], steps: list[str],
           features: set[str]) -> Built:
    seen: list[str] = []
    for item in evidence:
        if item not in seen:
            seen.append(item)
    numbered = "\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
    reasoning = f"{numbered}\n\nThe final query:\n```sql\n{sql}\n```"
    return Built(sql, question, "; ".join(seen), reasoning, tuple(sorted(features)))


def _where_words(conds: list[_Condition], connector: str) -> str:
    if not conds:
        return ""
    joined = f" {connector.lower()} ".join(
        c.text if c.text.startswith("have ") else f"whose {c.text}" for c in conds)
    lead = " that " if conds[0].text.startswith("have ") else " "
    return f"{lead}{joined}"


def _plural_words(words: str) -> bool:
    """A list of rows reads "what are"; one aggregate value reads "what is"."""
    return not words.startswith(tuple(f"the {w} " for w in _AGGREGATES.values()))


def _explained(col: ColumnRef, words: str) -> str | None:
    """Evidence from the schema's own comment on a coded column (flags, units, formats)."""
    comment = (col.comment or "").strip()
    if not comment or len(comment) > 120:
        return None
    return f"{words} means {comment}"


def _join(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    return "; ".join(kept) if kept else None


def _like_word(value: Any) -> str | None:
    words = [w for w in str(value).replace(",", " ").split() if len(w) >= 3 and w.isalnum()]
    return words[0] if words else None


def _key(table: str, column: str) -> ColumnRef:
    return ColumnRef(table, column, "", "key")
