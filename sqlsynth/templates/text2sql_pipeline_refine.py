"""Text-to-SQL refinement pipeline over existing {db_id, SQL} rows: edit freely.

Run:  python text2sql_pipeline_refine.py      (set `input` and `db` in sqlsynth.toml)
The pipeline class wires the reference's ten steps plus the verification steps (switched in
sqlsynth.toml: refine_reject_results, question_checks, roundtrip, cot_policy, dedup_by_meaning);
subclass it or copy its forward() to change the steps. Every field your input rows already have is kept.
"""

from sqlsynth import RunConfig, Text2SQLRefine_APIPipeline

if __name__ == "__main__":
    config = RunConfig.load()
    pipeline = Text2SQLRefine_APIPipeline(config=config)
    pipeline.forward()
