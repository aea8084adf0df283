"""The two Text-to-SQL data pipelines, wired as the reference wires them.

Wiring only: which operators, in which order, with which keys (``steps()``, the one definition
that ``forward()``, the executors and the ``sqlsynth init`` scripts share). ``compile()`` checks
that the steps' columns connect; ``forward()`` hands the compiled pipeline to an executor (the
local streaming one by default), so rows flow through all steps at once; every step still
writes its own file, and a rerun resumes from the last finished step with cached LLM answers.

Besides the reference's steps, both pipelines verify each row by default (each switch is a
``RunConfig`` field): degenerate results (``synthesis_reject_results`` /
``refine_reject_results``), deterministic question checks before the judge
(``question_checks``), round-trip verification before the reasoning is paid for
(``roundtrip``; its solver answers are shared with ``SQLExecutionClassifier``), reasoning that
must reach the row's answer (``cot_policy``) and duplicates by meaning (``dedup_by_meaning``).

Where SQL, questions and reasoning come from is ``sql_source`` / ``question_source`` /
``cot_source`` (``sqlsynth.pipelines.sources``): with no endpoint and no model handed in,
grammar SQL (``SQLSampler``), canonical questions and canonical reasoning, no judge or round
trip for a canonical question (correct by construction; the row says so), and execution
difficulty recorded as not measured. ``paraphrase`` adds ``Text2SQLQuestionParaphraser``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlsynth import factory
from sqlsynth.config import RunConfig
from sqlsynth.db.neighbours import NeighbourDatabases
from sqlsynth.operators.eval import (
    ExecutionDifficultyNotMeasured,
    PromptSolver,
    SharedSolver,
    SQLComponentClassifier,
    SQLExecutionClassifier,
)
from sqlsynth.operators.filter import (
    SQLExecutabilityFilter,
    SQLExecutionFilter,
    Text2SQLCorrespondenceFilter,
    Text2SQLCoTVotingGenerator,
    Text2SQLQuestionFilter,
    Text2SQLRoundTripFilter,
)
from sqlsynth.operators.generate import (
    CanonicalCoTGenerator,
    CanonicalQuestionGenerator,
    MixedSQLSource,
    SampledVariationGenerator,
    SQLGenerator,
    SQLSampler,
    SQLVariationGenerator,
    Text2SQLCoTGenerator,
    Text2SQLPromptGenerator,
    Text2SQLQuestionGenerator,
    Text2SQLQuestionParaphraser,
)
from sqlsynth.pipelines.pipeline import Pipeline, Step
from sqlsynth.pipelines.sources import NO_SOLVER, resolve_sources
from sqlsynth.prompts import (
    SelectSQLGeneratorPrompt,
    SQLVariationGeneratorPrompt,
    Text2SQLCorrespondenceFilterPrompt,
    Text2SQLCotGeneratorPrompt,
    Text2SQLPromptGeneratorPrompt,
    Text2SQLQuestionGeneratorPrompt,
)
from sqlsynth.storage import FileStorage

SQL_KEY = "SQL"
DB_ID_KEY = "db_id"
QUESTION_KEY = "question"
EVIDENCE_KEY = "evidence"
#: sampled SQL of the drawn level shown in each LLM SQL prompt of ``sql_source = "mixed"``
MIXED_EXAMPLES = 3


class _Text2SQLPipelineBase:
    """Shared parts: configuration, storage, models, and the question-to-label steps."""

    first_entry_default = "empty.jsonl"
    refines = False  # the rows are the user's own SQL (see ``resolve_sources``)

    def __init__(
        self,
        db_root_path: str = "",
        *,
        config: RunConfig | None = None,
        llm_serving: Any = None,
        embedding_serving: Any = None,
        database_manager: Any = None,
        execution_solver: Any = None,
        first_entry_file_name: str | None = None,
        streaming: bool = True,
    ) -> None:
        cfg = config or RunConfig()
        if db_root_path:
            cfg = cfg.merged({"db": db_root_path})
        self.config = cfg
        self.streaming = streaming
        self.db_root_path = cfg.db or factory.example_databases()
        self.database_manager = database_manager or factory.make_database_manager(cfg)
        # a model handed in is a capable one (the reference's API): auto picks the LLM path
        self.sources = resolve_sources(cfg, model_given=llm_serving is not None,
                                       refine=self.refines)
        if llm_serving is None and embedding_serving is None:
            # one cache and one --concurrency for both kinds of request; no model is built
            # (nor must be installed) for a path that asks none
            cache = factory.llm_cache(cfg) if self.sources.needs_chat else None
            limit = factory.request_limit(cfg)
            if self.sources.needs_chat:
                llm_serving = factory.make_chat_model(cfg, cache, limit)
            if self.sources.needs_embeddings:
                embedding_serving = factory.make_embedding_model(cfg, cache, limit)
        elif llm_serving is None or embedding_serving is None:
            cache = factory.llm_cache(cfg)
            llm_serving = llm_serving or factory.make_chat_model(cfg, cache)
            embedding_serving = embedding_serving or factory.make_embedding_model(cfg, cache)
        self.llm_serving = llm_serving
        self.embedding_serving = embedding_serving
        self.storage = FileStorage(
            first_entry_file_name=first_entry_file_name or self._first_entry(cfg),
            cache_path=cfg.out,
            file_name_prefix=cfg.file_name_prefix,
            cache_type=cfg.cache_type,
            seed=cfg.seed,
            concurrency=cfg.concurrency,
            max_line_bytes=cfg.max_line_bytes,
        )
        db = self.database_manager
        self.canonical_question_generator = CanonicalQuestionGenerator(db) \
            if self.sources.question == "canonical" else None
        self.canonical_cot_generator = CanonicalCoTGenerator(db) \
            if self.sources.cot == "canonical" else None
        self.question_generator = Text2SQLQuestionGenerator(
            llm_serving=self.llm_serving,
            embedding_serving=self.embedding_serving,
            database_manager=db,
            question_candidates_num=cfg.question_candidates,
            prompt_template=Text2SQLQuestionGeneratorPrompt(),
        )
        self.question_filter = Text2SQLQuestionFilter(database_manager=db) \
            if cfg.question_checks else None
        self.correspondence_filter = Text2SQLCorrespondenceFilter(
            llm_serving=self.llm_serving,
            database_manager=db,
            prompt_template=Text2SQLCorrespondenceFilterPrompt(),
            # with the round trip the judge's NO is one signal: the round trip decides
            defer_no=bool(cfg.roundtrip) and cfg.roundtrip_policy == "evidence",
        )
        self.prompt_generator = Text2SQLPromptGenerator(
            database_manager=db, prompt_template=Text2SQLPromptGeneratorPrompt()
        )
        self.cot_generator = Text2SQLCoTGenerator(
            llm_serving=self.llm_serving,
            database_manager=db,
            sampling_num=cfg.cot_samples,
            prompt_template=Text2SQLCotGeneratorPrompt(),
        )
        if execution_solver is None and cfg.execution_solver != "prompt":
            execution_solver = factory.make_solver(cfg, db, self.llm_serving,
                                                   self.embedding_serving)
        solver = execution_solver if execution_solver is not None \
            else PromptSolver(self.llm_serving)
        if cfg.roundtrip:
            # one set of solver answers for both the round-trip check and the difficulty label
            solver = SharedSolver(solver)
        self.roundtrip_filter = Text2SQLRoundTripFilter(
            llm_serving=self.llm_serving,
            database_manager=db,
            num_generations=cfg.execution_generations,
            min_agree=cfg.roundtrip_min_agree or None,
            solver=solver,
            policy=cfg.roundtrip_policy,
        ) if cfg.roundtrip else None
        recheck = [op for op in (self.correspondence_filter, self.roundtrip_filter) if op]
        self.cot_voter = Text2SQLCoTVotingGenerator(
            database_manager=db, min_valid_candidates=cfg.min_valid_candidates,
            policy=cfg.cot_policy, check_text=cfg.reasoning_check,
            neighbours=NeighbourDatabases(db, cfg.neighbour_databases)
            if cfg.neighbour_databases and getattr(db, "db_type", None) == "sqlite" else None,
            recheck=recheck if cfg.cot_policy == "adopt_majority" else (),
        )
        self.component_classifier = SQLComponentClassifier(
            difficulty_thresholds=[2, 4, 6], difficulty_labels=["easy", "medium", "hard", "extra"]
        )
        self.execution_classifier = SQLExecutionClassifier(
            llm_serving=self.llm_serving,
            database_manager=db,
            num_generations=cfg.execution_generations,
            # shares of the generations: 0-20 % solved is extra, up to 50 % hard, 90 % medium
            difficulty_thresholds=[0.2, 0.5, 0.9],
            difficulty_labels=["extra", "hard", "medium", "easy"],
            solver=solver,
            threshold_fractions=True,
        ) if self.sources.measures_execution_difficulty else ExecutionDifficultyNotMeasured(NO_SOLVER)
        self.paraphraser = Text2SQLQuestionParaphraser(
            llm_serving=self.llm_serving, database_manager=db,
            temperature=min(cfg.temperature, 0.7),
            # the steps that verify questions, applied to the rewrite: with an endpoint the
            # judge and the round trip too (a local model's verdicts are no evidence)
            verifiers=[op for op in (
                self.question_filter,
                *((self.correspondence_filter, self.prompt_generator, self.roundtrip_filter)
                  if self.sources.endpoint else ())) if op is not None],
        ) if self.sources.paraphrase else None

    def _first_entry(self, cfg: RunConfig) -> str:
        from sqlsynth.examples import example_file

        return cfg.input or str(example_file(self.first_entry_default))

    def _result_filter(self, reject_results: list[str],
                       checked_when: str | None = None) -> SQLExecutionFilter | None:
        """The degenerate-result step, or None when the pipeline rejects no result kind."""
        if not reject_results:
            return None
        return SQLExecutionFilter(database_manager=self.database_manager,
                                  timeout=self.config.query_timeout,
                                  reject_results=reject_results,
                                  results_checked_when=checked_when)

    def _question_to_labels(self) -> list[Step]:
        """Steps shared by both pipelines, from question generation to the two difficulties."""
        question_keys = {
            "input_sql_key": SQL_KEY,
            "input_db_id_key": DB_ID_KEY,
            "output_question_key": QUESTION_KEY,
            "output_evidence_key": EVIDENCE_KEY,
        }
        steps = [Step(self.canonical_question_generator or self.question_generator,
                      question_keys)]
        if self.question_filter is not None:
            steps.append(Step(self.question_filter, {
                "input_sql_key": SQL_KEY,
                "input_question_key": QUESTION_KEY,
                "input_evidence_key": EVIDENCE_KEY,
            }))
        if self.paraphraser is not None:
            steps.append(Step(self.paraphraser, {
                "input_sql_key": SQL_KEY,
                "input_db_id_key": DB_ID_KEY,
                "input_question_key": QUESTION_KEY,
                "input_evidence_key": EVIDENCE_KEY,
            }))
        steps += [
            Step(self.correspondence_filter, {
                "input_sql_key": SQL_KEY,
                "input_db_id_key": DB_ID_KEY,
                "input_question_key": QUESTION_KEY,
                "input_evidence_key": EVIDENCE_KEY,
            }),
            Step(self.prompt_generator, {
                "input_question_key": QUESTION_KEY,
                "input_db_id_key": DB_ID_KEY,
                "input_evidence_key": EVIDENCE_KEY,
                "output_prompt_key": "prompt",
            }),
        ]
        if self.roundtrip_filter is not None:
            # before the reasoning: a row the solver cannot lead back to its SQL pays no CoT
            steps.append(Step(self.roundtrip_filter, {
                "input_sql_key": SQL_KEY,
                "input_db_id_key": DB_ID_KEY,
                "input_prompt_key": "prompt",
                "input_question_key": QUESTION_KEY,
                "input_evidence_key": EVIDENCE_KEY,
            }))
        steps += [
            Step(self.canonical_cot_generator or self.cot_generator, {
                "input_sql_key": SQL_KEY,
                "input_question_key": QUESTION_KEY,
                "input_db_id_key": DB_ID_KEY,
                "input_evidence_key": EVIDENCE_KEY,
                "output_cot_key": "cot_reasoning",
            }),
            Step(self.cot_voter, {
                "input_cot_responses_key": "cot_responses",
                "input_db_id_key": DB_ID_KEY,
                "input_sql_key": SQL_KEY,
                "output_cot_key": "cot_reasoning",
            }),
            Step(self.component_classifier, {
                "input_sql_key": SQL_KEY,
                "output_difficulty_key": "sql_component_difficulty",
            }),
            Step(self.execution_classifier, {
                "input_sql_key": SQL_KEY,
                "input_db_id_key": DB_ID_KEY,
                "input_prompt_key": "prompt",
                "output_difficulty_key": "sql_execution_difficulty",
            } if isinstance(self.execution_classifier, SQLExecutionClassifier) else {
                "output_difficulty_key": "sql_execution_difficulty",
            }),
        ]
        return steps

    def steps(self) -> list[Step]:
        """The pipeline's definition: which operators, in which order, with which keys.

        The one place the steps are listed: ``forward()``, every executor and the scripts
        ``sqlsynth init`` writes all run this list; override it to add, drop or reorder steps.
        """
        raise NotImplementedError

    def compile(self) -> Pipeline:
        """The steps as a checked ``Pipeline``: fails naming step and column before any work."""
        pipeline = Pipeline(self.steps(), name=type(self).__name__)
        # how another process rebuilds this pipeline (Ray tasks): models do not travel
        pipeline.recipe = (type(self), self.config)
        pipeline.source = self
        return pipeline.compile(input_columns=self._input_columns(pipeline))

    def _input_columns(self, pipeline: Pipeline) -> list[str] | None:
        """Columns of the first entry file's rows; None when no step reads them or none exist."""
        from sqlsynth.pipelines.pipeline import creates_rows

        path = Path(self.storage.first_entry_file_name or "")
        if creates_rows(pipeline.steps[0].operator) or not path.is_file():
            return None  # a missing file is the executor's error to report, with its name
        rows = self.storage.read_input(1)
        return sorted({key for row in rows for key in row}) if rows else None

    def forward(self, executor: Any = None) -> None:
        """Compile, then run with ``executor`` (default: the local streaming executor)."""
        from sqlsynth.executors.local import LocalExecutor

        pipeline = self.compile()
        (executor or LocalExecutor(streaming=self.streaming)).run(pipeline, self.storage)

    def summary(self) -> Any:
        return self.storage.summary()


class Text2SQLGeneration_APIPipeline(_Text2SQLPipelineBase):
    """Synthesis: SQL from the databases themselves, then questions, prompts, CoT and labels."""

    def __init__(self, db_root_path: str = "", **kwargs: Any) -> None:
        super().__init__(db_root_path, **kwargs)
        cfg, kind = self.config, self.sources.sql
        self.sql_generator = SQLGenerator(
            llm_serving=self.llm_serving,
            database_manager=self.database_manager,
            generate_num=cfg.generate_num,
            prompt_template=SelectSQLGeneratorPrompt(),
            seed=cfg.seed,
            dedup_by_meaning=cfg.dedup_by_meaning,
            examples_per_prompt=MIXED_EXAMPLES if kind == "mixed" else 0,
        ) if kind in ("llm", "mixed") else None
        self.sql_sampler = SQLSampler(
            self.database_manager, cfg.generate_num, seed=cfg.seed,
            hardness_mix=self.sources.hardness_mix, dedup_by_meaning=cfg.dedup_by_meaning,
        ) if kind in ("grammar", "mixed") else None
        self.sql_source = MixedSQLSource(self.sql_sampler, self.sql_generator,
                                         cfg.generate_num) if kind == "mixed" else \
            self.sql_generator or self.sql_sampler
        self.sql_executability_filter = SQLExecutabilityFilter(
            database_manager=self.database_manager
        )
        self.result_filter = self._result_filter(self.config.synthesis_reject_results)

    def steps(self) -> list[Step]:
        steps = [
            Step(self.sql_source, {
                "output_sql_key": SQL_KEY,
                "output_db_id_key": DB_ID_KEY,
                "output_sql_complexity_key": "sql_complexity_type",
            }),
            Step(self.sql_executability_filter,
                 {"input_sql_key": SQL_KEY, "input_db_id_key": DB_ID_KEY}),
        ]
        if self.result_filter is not None:
            steps.append(Step(self.result_filter,
                              {"input_sql_key": SQL_KEY, "input_db_id_key": DB_ID_KEY}))
        return steps + self._question_to_labels()


class Text2SQLRefine_APIPipeline(_Text2SQLPipelineBase):
    """Refinement: existing {db_id, SQL} rows, filtered and varied, then the same question-to-label
    steps."""

    first_entry_default = "refine_input.jsonl"
    refines = True

    def __init__(self, db_root_path: str = "", **kwargs: Any) -> None:
        super().__init__(db_root_path, **kwargs)
        self.sql_executability_filter = SQLExecutabilityFilter(
            database_manager=self.database_manager
        )
        kind = self.sources.sql
        self.sql_variation_generator = SQLVariationGenerator(
            llm_serving=self.llm_serving,
            database_manager=self.database_manager,
            num_variations=self.config.num_variations,
            prompt_template=SQLVariationGeneratorPrompt(),
            dedup_by_meaning=self.config.dedup_by_meaning,
        ) if kind in ("llm", "mixed") else None
        self.sampled_variation_generator = SampledVariationGenerator(
            self.database_manager, num_variations=self.config.num_variations,
            seed=self.config.seed, dedup_by_meaning=self.config.dedup_by_meaning,
        ) if kind in ("grammar", "mixed") else None
        self.sql_executability_filter_after_variation = SQLExecutabilityFilter(
            database_manager=self.database_manager
        )
        self.result_filter = self._result_filter(
            self.config.refine_reject_results,
            None if self.config.refine_check_original_results else "sql_variation_type")

    def steps(self) -> list[Step]:
        steps = [
            Step(self.sql_executability_filter,
                 {"input_sql_key": SQL_KEY, "input_db_id_key": DB_ID_KEY}),
        ]
        for variations in (self.sql_variation_generator, self.sampled_variation_generator):
            if variations is not None:
                steps.append(Step(variations, {
                    "input_sql_key": SQL_KEY,
                    "input_db_id_key": DB_ID_KEY,
                    "output_sql_variation_type_key": "sql_variation_type",
                }))
        steps += [
            Step(self.sql_executability_filter_after_variation,
                 {"input_sql_key": SQL_KEY, "input_db_id_key": DB_ID_KEY}),
        ]
        if self.result_filter is not None:
            steps.append(Step(self.result_filter,
                              {"input_sql_key": SQL_KEY, "input_db_id_key": DB_ID_KEY}))
        return steps + self._question_to_labels()
