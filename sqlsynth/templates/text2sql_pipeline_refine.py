"""Text-to-SQL refinement pipeline over existing {db_id, SQL} rows: edit freely.

Run:  python text2sql_pipeline_refine.py      (set `input` and `db` in sqlsynth.toml)
The steps are sqlsynth's own definition, `Text2SQLRefine_APIPipeline.steps()` (the reference's
steps plus the verification steps), so this script never drifts from `sqlsynth refine`; change them in `steps()` below.
Every field your input rows already have is kept. `compile()` checks, before any LLM call,
that the input file has the columns the steps read.
"""

from sqlsynth import RunConfig, Step, Text2SQLRefine_APIPipeline, factory
from sqlsynth.pipelines.finish import close_run


class Text2SQLRefinePipeline(Text2SQLRefine_APIPipeline):
    def steps(self) -> list[Step]:
        steps = super().steps()
        # parameters of the operators the steps use, e.g.
        self.sql_variation_generator.num_variations = self.config.num_variations
        return steps


if __name__ == "__main__":
    config = RunConfig.load()
    pipeline = Text2SQLRefinePipeline(config=config)
    print(pipeline.compile())
    try:
        pipeline.forward(factory.make_executor(config))
    finally:
        close_run(pipeline, config)  # the summary, and final.jsonl for `sqlsynth export`
