"""``ExecutionDifficultyNotMeasured``: the execution-difficulty label, honestly absent."""

from __future__ import annotations

from typing import ClassVar

from sqlsynth.operators.base import Operator, Row, RowOutcome, StepContext

#: why a row's ``sql_execution_difficulty`` is null
DIFFICULTY_REASON = "sql_execution_difficulty_reason"


class ExecutionDifficultyNotMeasured(Operator):
    """Stands in for ``SQLExecutionClassifier`` where no capable solver answers.

    Execution difficulty is how often a capable model solves the row; a small local model
    solves almost nothing, so its count would label every row ``extra`` while costing most of
    a run's time. Without an endpoint the pipelines write the label as not measured instead:
    ``null`` with the reason beside it, which the export, data card and review app show as
    such (``sql_component_difficulty``, Spider's hardness, is still measured).

    Input columns:
        - none read.
    Output columns:
        - sql_execution_difficulty (None): ``output_difficulty_key``.
        - sql_execution_difficulty_reason (str): why (``output_reason_key``).
    Reject reasons:
        - none.
    Example:
        >>> ExecutionDifficultyNotMeasured("no endpoint").run(storage=storage.step())
    """

    default_keys: ClassVar[dict[str, str]] = {
        "output_difficulty_key": "sql_execution_difficulty",
        "output_reason_key": DIFFICULTY_REASON,
    }

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def required_input_keys(self) -> list[str]:
        return []

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        return [{**row, self.keys["output_difficulty_key"]: None,
                 self.keys["output_reason_key"]: self.reason}]
