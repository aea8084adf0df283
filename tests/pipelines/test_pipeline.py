"""``Pipeline.compile()``: the steps' columns must connect before any LLM call or query."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlsynth.config import RunConfig
from sqlsynth.errors import PipelineCompileError, is_user_error
from sqlsynth.operators.eval import SQLComponentClassifier
from sqlsynth.operators.filter import SQLExecutabilityFilter
from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline, Text2SQLRefine_APIPipeline
from sqlsynth.pipelines.pipeline import Pipeline, Step
from sqlsynth.testing import ScriptedOpenAIServer
from sqlsynth.testing.pipeline_responder import PipelineResponder


@pytest.fixture
def server():
    with ScriptedOpenAIServer(PipelineResponder()) as srv:
        yield srv


def _config(out: Path, server: ScriptedOpenAIServer, **kw) -> RunConfig:
    return RunConfig(out=str(out), base_url=server.base_url, model="scripted",
                     embedding_model="scripted-emb", generate_num=2, question_candidates=2,
                     cot_samples=2, execution_generations=2, **kw)


class MistypedGeneration(Text2SQLGeneration_APIPipeline):
    """The prompt step reads a question column nobody writes."""

    def steps(self) -> list[Step]:
        steps = super().steps()
        prompt = next(s for s in steps if s.operator is self.prompt_generator)
        prompt.keys["input_question_key"] = "questoin"
        return steps


def test_generation_compile_names_step_and_column_and_spends_nothing(
    tmp_path: Path, server: ScriptedOpenAIServer
) -> None:
    pipeline = MistypedGeneration(config=_config(tmp_path, server))
    with pytest.raises(PipelineCompileError) as info:
        pipeline.forward()
    message = str(info.value)
    number = 1 + [s.operator for s in pipeline.steps()].index(pipeline.prompt_generator)
    assert f"step {number} (Text2SQLPromptGenerator)" in message
    assert "'questoin'" in message and "not made by an earlier step" in message
    assert is_user_error(info.value)
    assert server.requests == [], "compile() fails before any LLM call"
    assert not list(tmp_path.glob("*_step*.jsonl")), "and before any step runs"


def test_refine_compile_checks_the_input_file_columns(
    tmp_path: Path, server: ScriptedOpenAIServer
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"db_id": "retail_orders", "query": "SELECT 1"}) + "\n")
    pipeline = Text2SQLRefine_APIPipeline(config=_config(tmp_path / "out", server,
                                                         input=str(rows)))
    with pytest.raises(PipelineCompileError) as info:
        pipeline.compile()
    message = str(info.value)
    assert "step 1 (SQLExecutabilityFilter)" in message
    assert "'SQL'" in message and "(db_id, query)" in message
    assert server.requests == []


def test_reference_pipelines_compile(tmp_path: Path, server: ScriptedOpenAIServer) -> None:
    for cls in (Text2SQLGeneration_APIPipeline, Text2SQLRefine_APIPipeline):
        pipeline = cls(config=_config(tmp_path, server)).compile()
        assert pipeline.compiled
        assert pipeline.recipe[0] is cls
        last = pipeline.columns_after(["db_id", "SQL"])[-1]
        assert {"SQL", "db_id", "question", "prompt", "cot_reasoning",
                "sql_execution_difficulty"} <= set(last)


def test_unknown_key_is_a_compile_error_naming_the_step() -> None:
    pipeline = Pipeline([Step(SQLComponentClassifier(), {"input_sqll_key": "SQL"})])
    with pytest.raises(PipelineCompileError, match=r"step 1 \(SQLComponentClassifier\).*"
                       "input_sqll_key"):
        pipeline.compile(["SQL"])


def test_later_step_sees_columns_of_earlier_steps_and_of_the_input() -> None:
    component = SQLComponentClassifier()
    second = SQLComponentClassifier()
    pipeline = Pipeline([
        Step(component, {"input_sql_key": "SQL", "output_difficulty_key": "level"}),
        Step(second, {"input_sql_key": "level", "output_difficulty_key": "again"}),
    ])
    assert pipeline.compile(["SQL", "db_id"]).compiled
    assert pipeline.columns_after(["SQL", "db_id"]) == [
        ["SQL", "db_id", "level"], ["SQL", "again", "db_id", "level"]]


def test_unknown_input_columns_are_not_guessed() -> None:
    """No rows in the input: columns it would bring are not checked, later ones are."""
    executability = SQLExecutabilityFilter(database_manager=None)
    assert Pipeline([Step(executability)]).compile(None).compiled
    pipeline = Pipeline([Step(executability), Step(SQLComponentClassifier(),
                                                   {"input_sql_key": "sql"})])
    assert pipeline.compile(None).compiled  # "sql" could still come from the input
    with pytest.raises(PipelineCompileError, match="'sql'"):
        pipeline.compile(["SQL", "db_id"])


class ReferenceStyleScorer:
    """Written as the reference documents operators: whole table in, whole table out."""

    def run(self, storage, input_sql_key: str = "SQL", output_length_key: str = "sql_length"):
        frame = storage.read("dataframe")
        frame[output_length_key] = frame[input_sql_key].str.len()
        storage.write(frame)


def test_reference_style_operator_declares_its_contract_from_run() -> None:
    step = Step(ReferenceStyleScorer(), {"output_length_key": "n"})
    assert step.inputs == ["SQL"] and step.outputs == ["n"]
    with pytest.raises(PipelineCompileError, match="'SQL'"):
        Pipeline([step]).compile(["db_id"])


def test_cli_reports_a_compile_error_as_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], server: ScriptedOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sqlsynth.cli import main

    original = Text2SQLGeneration_APIPipeline.steps

    def mistyped(self):  # as MistypedGeneration, on the class the command builds
        steps = original(self)
        next(s for s in steps if s.operator is self.prompt_generator).keys[
            "input_question_key"] = "questoin"
        return steps

    monkeypatch.setattr(Text2SQLGeneration_APIPipeline, "steps", mistyped)
    code = main(["generate", "--num", "2", "--out", str(tmp_path / "out"),
                 "--base-url", server.base_url, "--model", server.model_name])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "(Text2SQLPromptGenerator): input column 'questoin'" in err
    assert "Traceback" not in err
    assert not [r for r in server.requests if r["path"].endswith("/chat/completions")
                and r["body"].get("max_tokens") != 1], "no paid call before the error"


@pytest.mark.parametrize(("script", "reference"), [
    ("text2sql_pipeline_gen.py", Text2SQLGeneration_APIPipeline),
    ("text2sql_pipeline_refine.py", Text2SQLRefine_APIPipeline),
])
def test_init_scripts_run_the_pipeline_definition(
    tmp_path: Path, server: ScriptedOpenAIServer, script: str, reference: type
) -> None:
    """What `sqlsynth init` writes subclasses the definition: the same steps, no copy."""
    import runpy
    from importlib import resources

    path = tmp_path / script
    path.write_text(resources.files("sqlsynth.templates").joinpath(script).read_text("utf-8"))
    namespace = runpy.run_path(str(path), run_name="scaffold")
    scaffold_cls = next(v for v in namespace.values()
                        if isinstance(v, type) and issubclass(v, reference) and v is not reference)
    cfg = _config(tmp_path / "out", server)
    scaffold, original = scaffold_cls(config=cfg), reference(config=cfg)
    assert [(s.name, s.keys) for s in scaffold.steps()] == \
        [(s.name, s.keys) for s in original.steps()]
    assert scaffold.compile().compiled
