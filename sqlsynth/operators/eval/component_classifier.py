"""``SQLComponentClassifier``: difficulty from the SQL's components (Spider hardness)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.eval._labels import check_thresholds, label_for
from sqlsynth.operators.helpers import clip, is_blank
from sqlsynth.sql import difficulty_score, spider_hardness

DEFAULT_THRESHOLDS = (2, 4, 6)
DEFAULT_LABELS = ("easy", "medium", "hard", "extra")


class SQLComponentClassifier(Operator):
    """Labels each row's difficulty from its SQL's components (Spider hardness). No LLM, no database.

    With the default thresholds and labels the label is exactly Spider's hardness
    (``sqlsynth.sql.spider_hardness``), so it can be compared with published Spider/BIRD
    breakdowns. Custom thresholds/labels map ``sqlsynth.sql.difficulty_score`` (component1 +
    2 x nested queries + others): score <= thresholds[i] gives labels[i], above all gives the
    last label.

    Input columns:
        - SQL (str): the query (``input_sql_key``, default ``SQL``).
    Output columns:
        - sql_component_difficulty (str): the label (``output_difficulty_key``, default
          ``sql_component_difficulty``).
    Reject reasons:
        - ``empty_sql``: ``SQL`` holds no SQL.
        - ``unparseable_sql``: the SQL cannot be parsed.
    Example:
        >>> op = SQLComponentClassifier()
        >>> op.run(storage=storage.step(), input_sql_key="SQL",
        ...        output_difficulty_key="sql_component_difficulty")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "output_difficulty_key": "sql_component_difficulty",
    }

    def __init__(
        self,
        difficulty_thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
        difficulty_labels: Sequence[str] = DEFAULT_LABELS,
        *,
        dialect: str = "sqlite",
    ) -> None:
        super().__init__()
        check_thresholds(difficulty_thresholds, difficulty_labels)
        self.difficulty_thresholds = list(difficulty_thresholds)
        self.difficulty_labels = list(difficulty_labels)
        self.dialect = dialect

    @property
    def uses_spider_hardness(self) -> bool:
        return (tuple(self.difficulty_thresholds) == DEFAULT_THRESHOLDS
                and tuple(self.difficulty_labels) == DEFAULT_LABELS)

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"]]

    def classify(self, sql: str) -> str:
        """The label of one query; raises the parser's error when it cannot be parsed."""
        if self.uses_spider_hardness:
            return spider_hardness(sql, self.dialect)
        return label_for(difficulty_score(sql, self.dialect), self.difficulty_thresholds,
                         self.difficulty_labels)

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        sql = row.get(self.keys["input_sql_key"])
        if is_blank(sql) or not isinstance(sql, str):
            return Reject("empty_sql", f"field {self.keys['input_sql_key']!r} holds no SQL")
        try:
            label = self.classify(sql)
        except Exception as exc:  # noqa: BLE001 - sqlglot raises several classes on bad SQL
            return Reject("unparseable_sql", clip(f"{type(exc).__name__}: {exc}"))
        return [{**row, self.keys["output_difficulty_key"]: label}]
