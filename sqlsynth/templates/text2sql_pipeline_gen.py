"""Text-to-SQL synthesis pipeline: edit freely (steps, operator parameters, prompts).

Run:  python text2sql_pipeline_gen.py
Databases, endpoint, sizes, seed, solver and executor come from sqlsynth.toml (written next to
this file by `sqlsynth init`); with no endpoint set the embedded local model is used.

The steps are sqlsynth's own definition, `Text2SQLGeneration_APIPipeline.steps()`, so this
script never drifts from `sqlsynth generate`. Change them in `steps()` below: set an
operator's parameters, drop a step, or insert your own (a sqlsynth operator, or one written
for the reference's `storage.read("dataframe")` / `storage.write(df)` contract).
`compile()` checks that every step's input columns exist before any LLM call.
"""

from sqlsynth import RunConfig, Step, Text2SQLGeneration_APIPipeline, factory
from sqlsynth.pipelines.finish import close_run


class Text2SQLGenerationPipeline(Text2SQLGeneration_APIPipeline):
    def steps(self) -> list[Step]:
        steps = super().steps()
        # parameters of the operators the steps use, e.g.
        self.question_generator.question_candidates_num = self.config.question_candidates
        self.component_classifier.difficulty_thresholds = [2, 4, 6]
        return steps


if __name__ == "__main__":
    config = RunConfig.load()
    pipeline = Text2SQLGenerationPipeline(config=config)
    print(pipeline.compile())
    try:
        pipeline.forward(factory.make_executor(config))
    finally:
        close_run(pipeline, config)  # the summary, and final.jsonl for `sqlsynth export`
