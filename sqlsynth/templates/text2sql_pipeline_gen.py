"""Text-to-SQL synthesis pipeline: edit freely (operators, sizes, prompts, endpoint).

Run:  python text2sql_pipeline_gen.py
With no endpoint set in sqlsynth.toml the embedded local model is used (no key needed).
Besides the reference's nine steps it verifies every row (degenerate results, question
checks, round-trip, reasoning that reaches the row's answer); sqlsynth.toml switches each off
(synthesis_reject_results = [], question_checks, roundtrip, cot_policy = "replace").
"""

from sqlsynth import (
    FileStorage,
    PromptSolver,
    RunConfig,
    SelectSQLGeneratorPrompt,
    SharedSolver,
    SQLComponentClassifier,
    SQLExecutabilityFilter,
    SQLExecutionClassifier,
    SQLExecutionFilter,
    SQLGenerator,
    Text2SQLCorrespondenceFilter,
    Text2SQLCorrespondenceFilterPrompt,
    Text2SQLCoTGenerator,
    Text2SQLCotGeneratorPrompt,
    Text2SQLCoTVotingGenerator,
    Text2SQLPromptGenerator,
    Text2SQLPromptGeneratorPrompt,
    Text2SQLQuestionFilter,
    Text2SQLQuestionGenerator,
    Text2SQLQuestionGeneratorPrompt,
    Text2SQLRoundTripFilter,
    factory,
)
from sqlsynth.examples import example_file


class Text2SQLGenerationPipeline:
    def __init__(self, config: RunConfig):
        self.storage = FileStorage(
            first_entry_file_name=str(example_file("empty.jsonl")),
            cache_path=config.out,
            file_name_prefix=config.file_name_prefix,
            cache_type=config.cache_type,
            seed=config.seed,
        )
        self.llm_serving = factory.make_chat_model(config)
        self.embedding_serving = factory.make_embedding_model(config)
        database_manager = factory.make_database_manager(config)

        self.sql_generator_step1 = SQLGenerator(
            llm_serving=self.llm_serving,
            database_manager=database_manager,
            generate_num=config.generate_num,
            prompt_template=SelectSQLGeneratorPrompt(),
            dedup_by_meaning=config.dedup_by_meaning,
        )
        self.sql_executability_filter_step2 = SQLExecutabilityFilter(database_manager=database_manager)
        # empty, all-NULL or capped results answer nothing a user asked for
        self.result_filter = SQLExecutionFilter(
            database_manager=database_manager, reject_results=config.synthesis_reject_results
        ) if config.synthesis_reject_results else None
        self.text2sql_question_generator_step3 = Text2SQLQuestionGenerator(
            llm_serving=self.llm_serving,
            embedding_serving=self.embedding_serving,
            database_manager=database_manager,
            question_candidates_num=config.question_candidates,
            prompt_template=Text2SQLQuestionGeneratorPrompt(),
        )
        # cheap deterministic checks before the LLM judge
        self.question_filter = Text2SQLQuestionFilter() if config.question_checks else None
        self.text2sql_correspondence_filter_step4 = Text2SQLCorrespondenceFilter(
            llm_serving=self.llm_serving,
            database_manager=database_manager,
            prompt_template=Text2SQLCorrespondenceFilterPrompt(),
        )
        self.text2sql_prompt_generator_step5 = Text2SQLPromptGenerator(
            database_manager=database_manager, prompt_template=Text2SQLPromptGeneratorPrompt()
        )
        self.sql_cot_generator_step6 = Text2SQLCoTGenerator(
            llm_serving=self.llm_serving,
            database_manager=database_manager,
            sampling_num=config.cot_samples,
            prompt_template=Text2SQLCotGeneratorPrompt(),
        )
        # one set of solver answers serves the round-trip check and the execution difficulty
        solver = SharedSolver(PromptSolver(self.llm_serving))
        self.roundtrip_filter = Text2SQLRoundTripFilter(
            llm_serving=self.llm_serving,
            database_manager=database_manager,
            num_generations=config.execution_generations,
            min_agree=config.roundtrip_min_agree or None,
            solver=solver,
        ) if config.roundtrip else None
        # the kept reasoning must return the row's result; the row's SQL is never replaced
        self.sql_cot_voting_generator_step7 = Text2SQLCoTVotingGenerator(
            database_manager=database_manager, policy=config.cot_policy,
            recheck=[self.text2sql_correspondence_filter_step4]
            if config.cot_policy == "adopt_majority" else (),
        )
        self.sql_component_classifier_step8 = SQLComponentClassifier(
            difficulty_thresholds=[2, 4, 6], difficulty_labels=["easy", "medium", "hard", "extra"]
        )
        self.sql_execution_classifier_step9 = SQLExecutionClassifier(
            llm_serving=self.llm_serving,
            database_manager=database_manager,
            num_generations=config.execution_generations,
            difficulty_thresholds=[2, 5, 9],
            difficulty_labels=["extra", "hard", "medium", "easy"],
            solver=solver,
        )

    def forward(self):
        sql_key, db_id_key, question_key, evidence_key = "SQL", "db_id", "question", "evidence"
        # Inside streaming(), rows flow through all steps at once; remove it to run step by step.
        with self.storage.streaming():
            self.sql_generator_step1.run(
                storage=self.storage.step(), output_sql_key=sql_key, output_db_id_key=db_id_key,
                output_sql_complexity_key="sql_complexity_type",
            )
            self.sql_executability_filter_step2.run(
                storage=self.storage.step(), input_sql_key=sql_key, input_db_id_key=db_id_key
            )
            if self.result_filter:
                self.result_filter.run(
                    storage=self.storage.step(), input_sql_key=sql_key, input_db_id_key=db_id_key
                )
            self.text2sql_question_generator_step3.run(
                storage=self.storage.step(), input_sql_key=sql_key, input_db_id_key=db_id_key,
                output_question_key=question_key, output_evidence_key=evidence_key,
            )
            if self.question_filter:
                self.question_filter.run(
                    storage=self.storage.step(), input_sql_key=sql_key,
                    input_question_key=question_key, input_evidence_key=evidence_key,
                )
            self.text2sql_correspondence_filter_step4.run(
                storage=self.storage.step(), input_sql_key=sql_key, input_db_id_key=db_id_key,
                input_question_key=question_key, input_evidence_key=evidence_key,
            )
            self.text2sql_prompt_generator_step5.run(
                storage=self.storage.step(), input_question_key=question_key,
                input_db_id_key=db_id_key, input_evidence_key=evidence_key,
                output_prompt_key="prompt",
            )
            if self.roundtrip_filter:
                self.roundtrip_filter.run(
                    storage=self.storage.step(), input_sql_key=sql_key, input_db_id_key=db_id_key,
                    input_prompt_key="prompt", input_question_key=question_key,
                    input_evidence_key=evidence_key,
                )
            self.sql_cot_generator_step6.run(
                storage=self.storage.step(), input_sql_key=sql_key, input_question_key=question_key,
                input_db_id_key=db_id_key, input_evidence_key=evidence_key,
                output_cot_key="cot_reasoning",
            )
            self.sql_cot_voting_generator_step7.run(
                storage=self.storage.step(), input_cot_responses_key="cot_responses",
                input_db_id_key=db_id_key, input_sql_key=sql_key, output_cot_key="cot_reasoning",
            )
            self.sql_component_classifier_step8.run(
                storage=self.storage.step(), input_sql_key=sql_key,
                output_difficulty_key="sql_component_difficulty",
            )
            self.sql_execution_classifier_step9.run(
                storage=self.storage.step(), input_sql_key=sql_key, input_db_id_key=db_id_key,
                input_prompt_key="prompt", output_difficulty_key="sql_execution_difficulty",
            )


if __name__ == "__main__":
    Text2SQLGenerationPipeline(RunConfig.load()).forward()
