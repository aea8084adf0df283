"""Text-to-SQL refinement pipeline over existing {db_id, SQL} rows: edit freely.

Run:  python text2sql_pipeline_refine.py      (set `input` and `db` in sqlsynth.toml)
The input is read as `sqlsynth refine` reads it: Spider's `query` and BIRD's `SQL`/`evidence`
as they are, other names through `field_map` in sqlsynth.toml (`--map`). The steps are
sqlsynth's own definition, `Text2SQLRefine_APIPipeline.steps()` (the reference's steps plus the
verification steps), so this script never drifts from `sqlsynth refine`; change them in
`steps()` below. Every field your input rows already have is kept, unless it contradicts a
rewritten SQL or a new question (Spider's tokens and parse). `compile()` checks, before any LLM
call, that the input file has the columns the steps read. The run goes to ./cache_refine unless
`out` is set (the generation script's is ./cache), and a folder of another run is refused.
"""

from sqlsynth import Step, Text2SQLRefine_APIPipeline
from sqlsynth.cli import run_script


class Text2SQLRefinePipeline(Text2SQLRefine_APIPipeline):
    def steps(self) -> list[Step]:
        steps = super().steps()
        # parameters of the operators the steps use, e.g.
        self.sql_variation_generator.num_variations = self.config.num_variations
        return steps


if __name__ == "__main__":
    # exactly what `sqlsynth refine` does, with this class: settings from sqlsynth.toml and the
    # environment, the endpoint preflight, its own run folder, the summary, final.jsonl,
    # report.html, one-line errors and the README's exit codes
    raise SystemExit(run_script(Text2SQLRefinePipeline, "refine"))
