"""Text-to-SQL refinement pipeline over existing {db_id, SQL} rows: edit freely.

Run:  python text2sql_pipeline_refine.py      (set `input` and `db` in sqlsynth.toml)
The pipeline class wires the reference's ten steps; subclass it or copy its forward() to change
the steps. Every field your input rows already have is kept.
"""

from sqlsynth import RunConfig, Text2SQLRefine_APIPipeline
from sqlsynth.commands import close_run

if __name__ == "__main__":
    config = RunConfig.load()
    pipeline = Text2SQLRefine_APIPipeline(config=config)
    try:
        pipeline.forward()
    finally:
        close_run(pipeline, config)  # the summary, and final.jsonl for `sqlsynth export`
