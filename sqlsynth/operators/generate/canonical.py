"""``CanonicalQuestionGenerator`` and ``CanonicalCoTGenerator``: question and reasoning
written from the SQL alone, without a model.

The no-key path has no model that writes good questions or reasoning; a template read off
the query's tree (``sqlsynth.realize``) is plain but correct by construction, takes about a
millisecond, and an optional paraphrase step may rewrite it later. It works on any SQL (a
model's, a user's, the sampler's). ``SQLSampler`` also writes texts of its own with each query
(the ``canonical`` column); they are the fallback for the queries the realizer refuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.generate.sql_sampler import CANONICAL_KEY
from sqlsynth.operators.helpers import clip, is_blank, missing_field
from sqlsynth.realize import NotRealizable, canonical_question, canonical_reasoning

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.db.schema import Schema

CANONICAL = "canonical"


def sampled_texts(row: Row, sql_key: str) -> dict | None:
    """The texts ``SQLSampler`` wrote with the row's query (``canonical`` column), if any."""
    texts = row.get(CANONICAL_KEY)
    if isinstance(texts, dict) and texts.get("question") and texts.get("reasoning"):
        return texts
    return None


class _CanonicalOperator(Operator):
    """Row checks and schema access shared by the two canonical operators."""

    def __init__(self, database_manager: Database) -> None:
        super().__init__()
        self.database_manager = database_manager

    @property
    def dialect(self) -> str:
        return getattr(self.database_manager, "dialect", "sqlite")

    def schema_of(self, row: Row) -> Schema | Reject:
        """The row's schema, after the required fields and the database are checked."""
        missing = missing_field(row, self.required_input_keys())
        if missing is not None:
            return missing
        db_key = self.keys["input_db_id_key"]
        db_id = str(row[db_key])
        if not self.database_manager.database_exists(db_id):
            return Reject("unknown_db_id", f"field {db_key!r}: no database {db_id!r}")
        try:
            return self.database_manager.get_schema(db_id)
        except Exception as exc:  # noqa: BLE001 - a broken database rejects its rows only
            return Reject("schema_error", f"db_id {db_id!r}: {type(exc).__name__}: {exc}")


class CanonicalQuestionGenerator(_CanonicalOperator):
    """Writes the canonical question (and evidence) of each query, with no model.

    The question is a fixed English template per SQL construct that names every table,
    column and value the query uses (``sqlsynth.realize.canonical_question``); the evidence
    explains join keys, coded values (from column comments), date formats and patterns, or is
    "". Queries with a construct the realizer cannot word faithfully are rejected, never
    guessed. Rows that already have a non-empty question keep it (and their evidence).

    Input columns:
        - SQL (str): the query (``input_sql_key``, default ``SQL``).
        - db_id (str): its database (``input_db_id_key``, default ``db_id``).
    Output columns:
        - question (str): the canonical question (``output_question_key``, default ``question``).
        - evidence (str): the hint, or "" (``output_evidence_key``, default ``evidence``).
        - question_type (str): None: no style is drawn (``output_question_type_key``, default
          ``question_type``; the key is accepted so the step can replace
          ``Text2SQLQuestionGenerator`` in a pipeline unchanged).
        - question_source (str): ``"canonical"`` on rows whose question this step wrote.
    Reject reasons:
        - ``missing_field``: ``SQL`` or ``db_id`` is missing or empty.
        - ``unknown_db_id``: no such database.
        - ``schema_error``: the database's schema cannot be read.
        - ``not_realizable``: the query uses a construct with no faithful wording (detail: which)
          and the row has no texts from ``SQLSampler``.
    Example:
        >>> op = CanonicalQuestionGenerator(database_manager=db)
        >>> op.run(storage=storage.step(), input_sql_key="SQL", output_question_key="question")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
        "output_question_key": "question",
        "output_evidence_key": "evidence",
        "output_question_type_key": "question_type",
    }

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"], self.keys["input_db_id_key"]]

    @property
    def output_columns(self) -> list[str]:
        return [*super().output_columns, "question_source"]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        q_key = self.keys["output_question_key"]
        ev_key = self.keys["output_evidence_key"]
        type_key = self.keys["output_question_type_key"]
        schema = self.schema_of(row)
        if isinstance(schema, Reject):
            return schema
        if not is_blank(row.get(q_key)):
            kept = dict(row)
            kept[ev_key] = row.get(ev_key) or ""
            kept.setdefault(type_key, None)
            return [kept]
        sql = str(row[self.keys["input_sql_key"]])
        try:
            canonical = canonical_question(sql, schema, self.dialect)
            question, evidence = canonical.question, canonical.evidence
        except NotRealizable as err:
            sampled = sampled_texts(row, self.keys["input_sql_key"])
            if sampled is None:
                return Reject("not_realizable", clip(f"{err.reason}; SQL: {sql}"))
            question, evidence = sampled["question"], sampled.get("evidence") or ""
        return [{**row, q_key: question, ev_key: evidence, type_key: None,
                 "question_source": CANONICAL}]


class CanonicalCoTGenerator(_CanonicalOperator):
    """Writes one step-by-step reasoning per row from its SQL, with no model.

    The reasoning names the tables and join keys, the filters with their values, the
    grouping, the outputs and the ordering, and ends in the row's SQL in a ```sql block
    (``sqlsynth.realize.reasoning``), the format ``Text2SQLCoTVotingGenerator`` reads: that
    step then checks it by execution like a model's answer.

    Input columns:
        - SQL (str): the query (``input_sql_key``, default ``SQL``).
        - question (str): the question (``input_question_key``, default ``question``; required
          so the row is a complete example, not read).
        - db_id (str): the database (``input_db_id_key``, default ``db_id``).
        - evidence (str, optional): accepted like ``Text2SQLCoTGenerator``'s
          (``input_evidence_key``, default ``evidence``); not read.
    Output columns:
        - cot_responses (list[str]): the one reasoning (``output_cot_responses_key``, default
          ``cot_responses``).
        - cot_source (str): ``"canonical"``.
        - ``output_cot_key`` (default ``cot_reasoning``) is accepted as by
          ``Text2SQLCoTGenerator``: the voting step fills it; this step does not write it.
    Reject reasons:
        - ``missing_field``: ``SQL``, ``question`` or ``db_id`` is missing or empty.
        - ``unknown_db_id``: no such database.
        - ``schema_error``: the database's schema cannot be read.
        - ``not_realizable``: the SQL is not one query that parses in the database's dialect,
          and the row has no texts from ``SQLSampler``.
    Example:
        >>> op = CanonicalCoTGenerator(database_manager=db)
        >>> op.run(storage=storage.step(), output_cot_responses_key="cot_responses")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_question_key": "question",
        "input_db_id_key": "db_id",
        "input_evidence_key": "evidence",
        "output_cot_key": "cot_reasoning",
        "output_cot_responses_key": "cot_responses",
    }

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"], self.keys["input_question_key"],
                self.keys["input_db_id_key"]]

    @property
    def output_columns(self) -> list[str]:
        return [self.keys["output_cot_responses_key"], "cot_source"]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        schema = self.schema_of(row)
        if isinstance(schema, Reject):
            return schema
        sql = str(row[self.keys["input_sql_key"]])
        try:
            reasoning = canonical_reasoning(sql, schema, self.dialect)
        except NotRealizable as err:
            sampled = sampled_texts(row, self.keys["input_sql_key"])
            if sampled is None:
                return Reject("not_realizable", clip(f"{err.reason}; SQL: {sql}"))
            reasoning = sampled["reasoning"]
        return [{**row, self.keys["output_cot_responses_key"]: [reasoning],
                 "cot_source": CANONICAL}]
