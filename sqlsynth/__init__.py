"""sqlsynth: Text-to-SQL training data from databases, and a content-aware Text-to-SQL engine.

The public names below are imported on first use (PEP 562), so ``import sqlsynth`` stays
fast and never pulls in torch, llama.cpp or database drivers.
"""

from __future__ import annotations

from sqlsynth._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    # databases
    "DatabaseManager": "sqlsynth.db",
    "ExecResult": "sqlsynth.db",
    "ExecStatus": "sqlsynth.db",
    "results_match": "sqlsynth.db",
    # models
    "APILLMServing_request": "sqlsynth.llm",
    "LocalModelServing": "sqlsynth.llm",
    "OpenAIChat": "sqlsynth.llm",
    "OpenAIEmbeddings": "sqlsynth.llm",
    "LocalChat": "sqlsynth.llm",
    "LocalEmbeddings": "sqlsynth.llm",
    # storage
    "FileStorage": "sqlsynth.storage",
    # operators
    "CanonicalCoTGenerator": "sqlsynth.operators.generate",
    "CanonicalQuestionGenerator": "sqlsynth.operators.generate",
    "SQLGenerator": "sqlsynth.operators.generate",
    "SQLSampler": "sqlsynth.operators.generate",
    "SQLVariationGenerator": "sqlsynth.operators.generate",
    "Text2SQLQuestionGenerator": "sqlsynth.operators.generate",
    "Text2SQLPromptGenerator": "sqlsynth.operators.generate",
    "Text2SQLCoTGenerator": "sqlsynth.operators.generate",
    "SQLExecutabilityFilter": "sqlsynth.operators.filter",
    "SQLExecutionFilter": "sqlsynth.operators.filter",
    "Text2SQLCorrespondenceFilter": "sqlsynth.operators.filter",
    "Text2SQLCoTVotingGenerator": "sqlsynth.operators.filter",
    "Text2SQLQuestionFilter": "sqlsynth.operators.filter",
    "Text2SQLRoundTripFilter": "sqlsynth.operators.filter",
    "SharedSolver": "sqlsynth.operators.eval",
    "PromptSolver": "sqlsynth.operators.eval",
    "SQLComponentClassifier": "sqlsynth.operators.eval",
    "SQLExecutionClassifier": "sqlsynth.operators.eval",
    # prompt templates
    "SelectSQLGeneratorPrompt": "sqlsynth.prompts",
    "SQLVariationGeneratorPrompt": "sqlsynth.prompts",
    "Text2SQLQuestionGeneratorPrompt": "sqlsynth.prompts",
    "Text2SQLPromptGeneratorPrompt": "sqlsynth.prompts",
    "Text2SQLCotGeneratorPrompt": "sqlsynth.prompts",
    "Text2SQLCorrespondenceFilterPrompt": "sqlsynth.prompts",
    # pipelines, engine, evaluation
    "Text2SQLGeneration_APIPipeline": "sqlsynth.pipelines",
    "Text2SQLRefine_APIPipeline": "sqlsynth.pipelines",
    "Pipeline": "sqlsynth.pipelines.pipeline",
    "Step": "sqlsynth.pipelines.pipeline",
    "LocalExecutor": "sqlsynth.executors",
    "RayExecutor": "sqlsynth.executors",
    "ShardExecutor": "sqlsynth.executors",
    "RunConfig": "sqlsynth.config",
    "ContentAwareEngine": "sqlsynth.engine",
    "evaluate": "sqlsynth.eval",
}

__all__ = [*sorted(_EXPORTS), "__version__"]  # noqa: PLE0604 - built from _EXPORTS

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
