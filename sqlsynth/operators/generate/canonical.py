"""Canonical questions and reasoning: the texts written with sampled SQL, put in place.

``SQLSampler`` writes each query's question, evidence and step-by-step reasoning clause by
clause with its SQL, so they agree by construction. These two steps take them into the
columns the question and CoT steps fill, in those steps' formats, without a model. Their
correctness is still checked downstream: the deterministic question checks read the question,
and the CoT voter executes the reasoning's final SQL against the row's answer.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.generate.sql_sampler import CANONICAL_KEY


def _canonical(row: Row, sql_key: str) -> dict[str, Any] | Reject:
    texts = row.get(CANONICAL_KEY)
    if not isinstance(texts, dict) or not texts.get("question"):
        return Reject("not_realizable", "no canonical texts on the row: only SQL from "
                                        "SQLSampler carries them")
    if not isinstance(row.get(sql_key), str) or not row[sql_key].strip():
        return Reject("missing_field", f"field {sql_key!r} is missing or empty")
    return texts


class CanonicalQuestionGenerator(Operator):
    """Writes the canonical question and evidence of each sampled query; no model.

    Input columns:
        - SQL (str): the query (``input_sql_key``); db_id (str) (``input_db_id_key``);
          canonical (dict): written by ``SQLSampler``.
    Output columns:
        - question (str), evidence (str) (``output_question_key``, ``output_evidence_key``);
          question_source (str): ``"canonical"``.
    Reject reasons:
        - ``not_realizable``: the row has no canonical texts (SQL that did not come from the
          sampler).
        - ``unknown_db_id``: no such database.
    Example:
        >>> CanonicalQuestionGenerator(database_manager=db).run(storage=storage.step())
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
        "output_question_key": "question",
        "output_evidence_key": "evidence",
    }

    def __init__(self, database_manager: Any) -> None:
        super().__init__()
        self.database_manager = database_manager

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        db_id = row.get(self.keys["input_db_id_key"])
        if not self.database_manager.database_exists(str(db_id)):
            return Reject("unknown_db_id", f"field {self.keys['input_db_id_key']!r}: "
                                           f"no database {db_id!r}")
        texts = _canonical(row, self.keys["input_sql_key"])
        if isinstance(texts, Reject):
            return texts
        return [{**row, self.keys["output_question_key"]: texts["question"],
                 self.keys["output_evidence_key"]: texts.get("evidence") or "",
                 "question_source": "canonical"}]


class CanonicalCoTGenerator(Operator):
    """Puts each sampled query's canonical reasoning in the CoT step's candidate list.

    The reasoning names the tables and join keys, the filters with their values, the grouping
    and ordering, and ends in the query in a fenced ``sql`` block, so
    ``Text2SQLCoTVotingGenerator`` checks it by execution like any model's answer.

    Input columns:
        - SQL (str): the query (``input_sql_key``); question (str) (``input_question_key``);
          db_id (str) (``input_db_id_key``); canonical (dict): written by ``SQLSampler``;
          evidence (str, optional, ``input_evidence_key``: the reasoning already states what
          the evidence explains).
    Output columns:
        - cot_responses (list[str]): the one canonical answer (``output_cot_responses_key``);
          cot_source (str): ``"canonical"``. ``output_cot_key`` (default cot_reasoning) is
          accepted as the reference passes it; the voter fills it.
    Reject reasons:
        - ``not_realizable``: the row has no canonical texts.
    Example:
        >>> CanonicalCoTGenerator(database_manager=db).run(storage=storage.step())
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_question_key": "question",
        "input_db_id_key": "db_id",
        "input_evidence_key": "evidence",
        "output_cot_key": "cot_reasoning",
        "output_cot_responses_key": "cot_responses",
    }
    optional_inputs = frozenset({"input_evidence_key"})

    def __init__(self, database_manager: Any) -> None:
        super().__init__()
        self.database_manager = database_manager

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        texts = _canonical(row, self.keys["input_sql_key"])
        if isinstance(texts, Reject):
            return texts
        return [{**row, self.keys["output_cot_responses_key"]: [texts["reasoning"]],
                 "cot_source": "canonical"}]
