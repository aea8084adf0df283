"""``SQLGenerator``: new SELECT queries written from each database's schema and rows."""

from __future__ import annotations

import random
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from sqlsynth.operators.base import Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.generate.base import PROMPT_ROOM, GenerateOperator
from sqlsynth.operators.helpers import clip, database_slots, draw_llm_seed, sql_dedup_key
from sqlsynth.prompts.fit import budget_of
from sqlsynth.prompts.sql_functions import functions_for
from sqlsynth.prompts.sql_generation import (
    COMPLEXITY_LEVELS,
    HARDNESS_OF_COMPLEXITY,
    SelectSQLGeneratorPrompt,
)
from sqlsynth.sql import extract_sql, sql_template

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel


class SQLGenerator(GenerateOperator):
    """Source step: writes ``generate_num`` new SELECT queries per selected database.

    Reads no input rows: ``plan_sources`` makes one seed row ``{db_id, slot}`` per database and
    slot, in database order. Each prompt draws, from the row's generator, a complexity level,
    0-2 engine functions to suggest and a target column count, and shows the CREATE statements
    plus a few INSERT rows so filters use real values. ``seed`` salts every draw (the run's seed
    comes from the step context), so two generators with different seeds write different prompts
    for the same slots. With ``examples_per_prompt`` > 0 (``sql_source = "mixed"``) the prompt
    also shows that many queries of the drawn level's Spider hardness sampled from the database
    (``sqlsynth.sampling.sample_queries``), so the model sees this schema's joins and values.

    Input columns:
        - none: a source step; its seed rows are ``{db_id, slot}`` from ``plan_sources``.
    Output columns:
        - SQL (str): the generated query (``output_sql_key``, default ``SQL``).
        - db_id (str): the database it was written for (``output_db_id_key``, default ``db_id``).
        - sql_complexity_type (str): the complexity level drawn for the prompt
          (``output_sql_complexity_key``, default ``sql_complexity_type``).
    Reject reasons:
        - ``unknown_db_id``: the seed row's database does not exist.
        - ``schema_error``: the database's CREATE statements or sample rows cannot be rendered.
        - ``llm_error``: the request failed (``LLMUnavailableError`` stops the run instead).
        - ``prompt_too_long``: the prompt exceeds the model's context even with the schema
          cut to the tables the row names (``GenerateOperator.fitted_schema``).
        - ``no_sql_block``: the answer holds no fenced SQL block.
        - ``duplicate`` (by the runner): the SQL means the same as an earlier row's of the same
          database; with ``dedup_by_meaning`` (default) queries differing only in literals,
          layout, quoting or aliases (``sql_meaning_key``); without, only in literals and layout
          (``sql_template``).
    Example:
        >>> op = SQLGenerator(llm_serving=llm, database_manager=db, generate_num=50)
        >>> op.run(storage=storage.step(), output_sql_key="SQL", output_db_id_key="db_id")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "output_sql_key": "SQL",
        "output_db_id_key": "db_id",
        "output_sql_complexity_key": "sql_complexity_type",
    }

    def __init__(
        self,
        llm_serving: ChatModel,
        database_manager: Database,
        generate_num: int,
        prompt_template: Any = None,
        *,
        seed: int = 42,
        temperature: float = 0.8,
        max_tokens: int | None = None,
        sample_rows_per_table: int = 2,
        max_functions: int = 2,
        column_counts: Sequence[int] = (1, 1, 2, 2, 3, 4),
        dedup_by_meaning: bool = True,
        examples_per_prompt: int = 0,
    ) -> None:
        super().__init__(
            database_manager,
            prompt_template or SelectSQLGeneratorPrompt(),
            llm_serving=llm_serving,
            temperature=temperature,
            max_tokens=max_tokens,
        )
        if generate_num < 0:
            raise ValueError(f"generate_num must be >= 0, got {generate_num}")
        self.generate_num = generate_num
        self.seed = seed
        self.sample_rows_per_table = sample_rows_per_table
        self.max_functions = max_functions
        self.column_counts = tuple(column_counts)
        self.dedup_by_meaning = dedup_by_meaning
        self.examples_per_prompt = int(examples_per_prompt)

    def plan_sources(self, ctx: StepContext) -> list[Row]:
        return database_slots(self.database_manager, self.generate_num, "generate from")

    def dedup_key(self, row: Row) -> Hashable | None:
        return sql_dedup_key(row, self.keys["output_sql_key"], self.keys["output_db_id_key"], self.dialect,
                             by_meaning=self.dedup_by_meaning, literal_form=sql_template)

    def draw_prompt_choices(self, row: Row, ctx: StepContext) -> dict[str, Any]:
        """The prompt's random parts for one seed row; pure in (run seed, operator seed, row)."""
        rng = ctx.rng_for(row, salt=f"seed={self.seed}")
        complexity = rng.choice(list(COMPLEXITY_LEVELS))
        catalogue = list(functions_for(getattr(self.database_manager, "db_type", "sqlite")).items())
        count = rng.randint(0, min(self.max_functions, len(catalogue)))
        functions = rng.sample(catalogue, count)
        column_count = rng.choice(self.column_counts) if self.column_counts else 1
        return {
            "complexity": complexity,
            "functions": functions,
            "column_count": column_count,
            "llm_seed": draw_llm_seed(rng),
        }

    async def _examples(self, db_id: str, choices: dict[str, Any]) -> list[str]:
        """Sampled SQL of the drawn level's hardness (deterministic per seed and level)."""
        from sqlsynth.sampling import sample_queries

        level = HARDNESS_OF_COMPLEXITY.get(choices["complexity"], "medium")
        sampled = await sample_queries(self.database_manager, db_id,
                                       num=self.examples_per_prompt, seed=choices["llm_seed"],
                                       hardness_mix={level: 1.0})
        return [query.sql for query in sampled]

    def _fitted(self, db_id: str, schema: str, samples: str, row: Row) -> tuple[str, str]:
        """CREATE statements and sample rows cut to the model's context when both would not
        fit: a table order drawn per slot (so the slots of a big database cover all its
        tables) with foreign-key neighbours kept together (``sqlsynth.prompts.fit``)."""
        budget = budget_of(self.llm_serving)
        room = None if budget is None else budget.limit - PROMPT_ROOM
        if room is None or budget.count(schema) + budget.count(samples) <= room:
            return schema, samples
        from dataclasses import replace

        from sqlsynth.db.schema import render_create_statements, render_inserts
        from sqlsynth.prompts.fit import fit_schema

        full = self.database_manager.get_schema(db_id)
        # the slot's own starting table: the ranking keeps the schema's order on ties, so a
        # rotated schema makes each slot show another stretch of a big database
        start = random.Random(f"{self.seed}:{db_id}:{row.get('slot')}").randrange(
            max(1, len(full.tables)))
        full = replace(full, tables=[*full.tables[start:], *full.tables[:start]])

        manager = self.database_manager
        inserts: dict[str, str] = {}
        for table in full.tables:
            result = manager.sample_rows(db_id, table.name, self.sample_rows_per_table)
            if result.ok and result.rows:
                inserts[table.name] = render_inserts(table, result.columns, result.rows,
                                                     self.dialect)

        def render(candidate: Any) -> tuple[str, str]:
            return (render_create_statements(candidate),
                    "\n\n".join(inserts[t.name] for t in candidate.tables if t.name in inserts))

        fitted, dropped = fit_schema(full, "", lambda candidate: sum(
            budget.count(text) for text in render(candidate)) <= room)
        return render(fitted) if dropped else (schema, samples)

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        db_id = row.get("db_id")
        if not isinstance(db_id, str) or not self.database_manager.database_exists(db_id):
            return Reject("unknown_db_id", f"field 'db_id': no database {db_id!r}")
        choices = self.draw_prompt_choices(row, ctx)
        schema = self.schema_text("render_create_statements", db_id)
        if isinstance(schema, Reject):
            return schema
        samples = self.schema_text(
            "render_sample_inserts", db_id, rows_per_table=self.sample_rows_per_table
        )
        if isinstance(samples, Reject):
            return samples
        schema, samples = self._fitted(db_id, schema, samples, row)
        user = self.prompt_template.build_prompt(
            engine=self.engine_name,
            schema=schema,
            sample_rows=samples,
            complexity=choices["complexity"],
            functions=choices["functions"],
            column_count=choices["column_count"],
            **({"examples": await self._examples(db_id, choices)} if self.examples_per_prompt else {}),
        )
        answers = await self.ask(user, n=1, seed=choices["llm_seed"])
        if isinstance(answers, Reject):
            return answers
        answer = answers[0] if answers else ""
        sql = extract_sql(answer)
        if not sql:
            return Reject("no_sql_block", f"answer without a fenced SQL block: {clip(answer, 200)!r}")
        return [
            {
                self.keys["output_sql_key"]: sql,
                self.keys["output_db_id_key"]: db_id,
                self.keys["output_sql_complexity_key"]: choices["complexity"],
            }
        ]
