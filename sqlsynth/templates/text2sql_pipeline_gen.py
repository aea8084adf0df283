"""Text-to-SQL synthesis pipeline: edit freely (steps, operator parameters, prompts).

Run:  python text2sql_pipeline_gen.py
Databases, endpoint, sizes, seed, solver and executor come from sqlsynth.toml (written next to
this file by `sqlsynth init`); with no endpoint set the embedded local model is used.

The steps are sqlsynth's own definition, `Text2SQLGeneration_APIPipeline.steps()`, so this
script never drifts from `sqlsynth generate`. Change them in `steps()` below: set an
operator's parameters, drop a step, or insert your own (a sqlsynth operator, or one written
for the reference's `storage.read("dataframe")` / `storage.write(df)` contract).
`compile()` checks that every step's input columns exist before any LLM call. The run goes to
./cache unless `out` is set (the refinement script's is ./cache_refine), and a folder of
another run is refused.
"""

from sqlsynth import Step, Text2SQLGeneration_APIPipeline
from sqlsynth.cli import run_script


class Text2SQLGenerationPipeline(Text2SQLGeneration_APIPipeline):
    def steps(self) -> list[Step]:
        steps = super().steps()
        # parameters of the operators the steps use, e.g.
        self.question_generator.question_candidates_num = self.config.question_candidates
        self.component_classifier.difficulty_thresholds = [2, 4, 6]
        return steps


if __name__ == "__main__":
    # exactly what `sqlsynth generate` does, with this class: settings from sqlsynth.toml and the
    # environment, the endpoint preflight, its own run folder, the summary, final.jsonl,
    # report.html, one-line errors and the README's exit codes
    raise SystemExit(run_script(Text2SQLGenerationPipeline, "generate"))
