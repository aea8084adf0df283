"""Text-to-SQL synthesis pipeline: edit freely (operators, sizes, prompts, endpoint).

Run:  python text2sql_pipeline_gen.py
With no endpoint set in sqlsynth.toml the embedded local model is used (no key needed).
"""

from sqlsynth import (
    FileStorage,
    RunConfig,
    SelectSQLGeneratorPrompt,
    SQLComponentClassifier,
    SQLExecutabilityFilter,
    SQLExecutionClassifier,
    SQLGenerator,
    Text2SQLCorrespondenceFilter,
    Text2SQLCorrespondenceFilterPrompt,
    Text2SQLCoTGenerator,
    Text2SQLCotGeneratorPrompt,
    Text2SQLCoTVotingGenerator,
    Text2SQLPromptGenerator,
    Text2SQLPromptGeneratorPrompt,
    Text2SQLQuestionGenerator,
    Text2SQLQuestionGeneratorPrompt,
    factory,
)
from sqlsynth.commands import close_run
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
        )
        self.sql_executability_filter_step2 = SQLExecutabilityFilter(database_manager=database_manager)
        self.text2sql_question_generator_step3 = Text2SQLQuestionGenerator(
            llm_serving=self.llm_serving,
            embedding_serving=self.embedding_serving,
            database_manager=database_manager,
            question_candidates_num=config.question_candidates,
            prompt_template=Text2SQLQuestionGeneratorPrompt(),
        )
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
        self.sql_cot_voting_generator_step7 = Text2SQLCoTVotingGenerator(database_manager=database_manager)
        self.sql_component_classifier_step8 = SQLComponentClassifier(
            difficulty_thresholds=[2, 4, 6], difficulty_labels=["easy", "medium", "hard", "extra"]
        )
        self.sql_execution_classifier_step9 = SQLExecutionClassifier(
            llm_serving=self.llm_serving,
            database_manager=database_manager,
            num_generations=config.execution_generations,
            difficulty_thresholds=[2, 5, 9],
            difficulty_labels=["extra", "hard", "medium", "easy"],
        )

    def summary(self):
        """Rows in/out per step, for the end-of-run table."""
        return self.storage.summary()

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
            self.text2sql_question_generator_step3.run(
                storage=self.storage.step(), input_sql_key=sql_key, input_db_id_key=db_id_key,
                output_question_key=question_key, output_evidence_key=evidence_key,
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
            self.sql_cot_generator_step6.run(
                storage=self.storage.step(), input_sql_key=sql_key, input_question_key=question_key,
                input_db_id_key=db_id_key, input_evidence_key=evidence_key,
                output_cot_key="cot_reasoning",
            )
            self.sql_cot_voting_generator_step7.run(
                storage=self.storage.step(), input_cot_responses_key="cot_responses",
                input_db_id_key=db_id_key, output_cot_key="cot_reasoning",
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
    config = RunConfig.load()
    pipeline = Text2SQLGenerationPipeline(config)
    try:
        pipeline.forward()
    finally:
        close_run(pipeline, config)  # the summary, and final.jsonl for `sqlsynth export`
