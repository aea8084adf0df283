"""``SQLVariationGenerator``: rewrites of each input query, one kind of change per rewrite."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, ClassVar

from sqlsynth.operators.base import Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.generate.base import GenerateOperator
from sqlsynth.operators.helpers import clip, draw_llm_seed, sql_dedup_key
from sqlsynth.operators.quality import QUALITY_FIELDS
from sqlsynth.prompts.sql_variation import VARIATION_KINDS, SQLVariationGeneratorPrompt
from sqlsynth.source_fields import consistent_source_fields
from sqlsynth.sql import extract_sql

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel

#: fields that describe the original query and would be wrong on a rewrite of it
SQL_BOUND_FIELDS = (
    "question",
    "evidence",
    "question_type",
    "sql_complexity_type",
    "prompt",
    "cot_responses",
    "cot_reasoning",
    "sql_component_difficulty",
    "sql_execution_difficulty",
    *QUALITY_FIELDS,
)


def pick_variation_kinds(rng: random.Random, count: int) -> list[str]:
    """``count`` kinds: a shuffled round of all six kinds, repeated as often as needed, so no
    kind repeats before every kind has been used once."""
    kinds: list[str] = []
    while len(kinds) < count:
        round_ = list(VARIATION_KINDS)
        rng.shuffle(round_)
        kinds.extend(round_)
    return kinds[:count]


class SQLVariationGenerator(GenerateOperator):
    """Writes ``num_variations`` rewrites per input row, each of one kind drawn with the row's generator.

    The rewrites are requested concurrently, one request per rewrite. Fields that describe the
    original query (question, evidence, difficulties, ...; see ``SQL_BOUND_FIELDS``) are not
    copied onto rewrites, nor are a public dataset's tokens and parse of the original query
    (Spider's ``query_toks``, ``sql``, ...; an alias such as ``query`` holds the rewrite; see
    ``sqlsynth.source_fields``). A rewrite without a fenced SQL block is left out.

    Input columns:
        - SQL (str): the query to rewrite (``input_sql_key``, default ``SQL``).
        - db_id (str): its database (``input_db_id_key``, default ``db_id``).
    Output columns:
        - the original row first (when ``keep_original``; its ``sql_variation_type`` is None, as
          the reference leaves originals untyped), then one row per successful rewrite: a copy of
          the input row with the new SQL in ``SQL`` (``input_sql_key``).
        - sql_variation_type (str | None): the rewrite's kind
          (``output_sql_variation_type_key``, default ``sql_variation_type``).
    Reject reasons:
        - ``missing_field``: ``SQL`` or ``db_id`` is missing or empty.
        - ``unknown_db_id``: no such database.
        - ``schema_error``: the database's schema cannot be rendered.
        - ``no_variation``: every rewrite failed (``no_sql_block``, ``llm_error``,
          ``prompt_too_long`` ...; detail:
          the reasons) and the original is not kept, or ``num_variations=0`` without
          ``keep_original``.
        - ``duplicate`` (by the runner): the SQL means the same as an earlier row's of the same
          database; with ``dedup_by_meaning`` (default) queries differing only in literals,
          layout, quoting or aliases (``sql_meaning_key``: a rewrite that only changes a constant
          is no new query); without, only identical normalised SQL.
    Example:
        >>> op = SQLVariationGenerator(llm_serving=llm, database_manager=db, num_variations=5)
        >>> op.run(storage=storage.step(), input_sql_key="SQL", input_db_id_key="db_id")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
        "output_sql_variation_type_key": "sql_variation_type",
    }

    def __init__(
        self,
        llm_serving: ChatModel,
        database_manager: Database,
        num_variations: int = 5,
        prompt_template: Any = None,
        *,
        keep_original: bool = True,
        dedup_by_meaning: bool = True,
        temperature: float = 0.8,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__(
            database_manager,
            prompt_template or SQLVariationGeneratorPrompt(),
            llm_serving=llm_serving,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        if num_variations < 0:
            raise ValueError(f"num_variations must be >= 0, got {num_variations}")
        self.num_variations = num_variations
        self.keep_original = keep_original
        self.dedup_by_meaning = dedup_by_meaning

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"], self.keys["input_db_id_key"]]

    def dedup_key(self, row: Row) -> Hashable | None:
        return sql_dedup_key(row, self.keys["input_sql_key"], self.keys["input_db_id_key"], self.dialect,
                             by_meaning=self.dedup_by_meaning)

    async def _one_variation(self, schema: str, sql: str, kind: str, llm_seed: int) -> str | Reject:
        user = self.prompt_template.build_prompt(
            engine=self.engine_name, schema=schema, sql=sql, variation_type=kind
        )
        answers = await self.ask(user, n=1, seed=llm_seed)
        if isinstance(answers, Reject):
            return answers
        answer = answers[0] if answers else ""
        return extract_sql(answer) or Reject("no_sql_block", clip(answer, 200))

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        sql_key = self.keys["input_sql_key"]
        db_key = self.keys["input_db_id_key"]
        type_key = self.keys["output_sql_variation_type_key"]
        schema = self.fitted_schema(row, db_key, (sql_key,))
        if isinstance(schema, Reject):
            return schema
        sql = str(row[sql_key])
        out: list[Row] = [{**row, type_key: None}] if self.keep_original else []
        if self.num_variations == 0:
            return out or Reject("no_variation", "num_variations=0 and keep_original=False")
        rng = ctx.rng_for(row)
        kinds = pick_variation_kinds(rng, self.num_variations)
        seeds = [draw_llm_seed(rng) for _ in kinds]
        results = await asyncio.gather(
            *(self._one_variation(schema, sql, k, s) for k, s in zip(kinds, seeds))
        )
        base = {k: v for k, v in row.items() if k not in SQL_BOUND_FIELDS}
        failures: list[str] = []
        for kind, result in zip(kinds, results):
            if isinstance(result, Reject):
                failures.append(f"{kind}: {result.reason}")
            else:
                out.append(consistent_source_fields({**base, sql_key: result, type_key: kind},
                                                    sql_key=sql_key, new_sql=True))
        if not out:
            return Reject("no_variation", "; ".join(failures))
        return out
