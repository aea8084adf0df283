"""The operator contract shared by every pipeline step.

An operator does one thing to one row at a time (``aprocess_row``), so the streaming runner can
push each row through all steps without waiting for the slowest row of a step. The reference
API's ``run(storage=..., **keys)`` is kept: it binds the key names, then either runs the step
eagerly over the step's input file or, inside ``FileStorage.streaming()``, records the step for
the streaming runner.
"""

from __future__ import annotations

import hashlib
import json
import random
from abc import ABC, abstractmethod
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, ClassVar

Row = dict[str, Any]


@dataclass(frozen=True)
class Reject:
    """Why a row left the pipeline; written to the rejects file, never silently dropped."""

    reason: str
    detail: str = ""


RowOutcome = list[Row] | Reject


@dataclass
class StepContext:
    """What a step may use besides the row: the run's seed and the step's identity."""

    step_index: int
    step_name: str
    seed: int = 42
    extras: dict[str, Any] = field(default_factory=dict)

    def rng_for(self, row: Row, salt: str = "") -> random.Random:
        """A random generator derived from the row's content, not its position.

        Content-derived seeds make a resumed run (whose rows may be re-numbered) draw exactly
        the same choices as the uninterrupted run, so cached LLM answers replay.
        """
        payload = json.dumps(row, sort_keys=True, default=str, ensure_ascii=False)
        digest = hashlib.sha256(f"{self.seed}|{self.step_name}|{salt}|{payload}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))


MODEL_ATTRIBUTES = ("llm_serving", "embedding_serving", "solver")


class Operator(ABC):
    """Base class of all pipeline steps.

    Subclasses set ``keys`` defaults in ``default_keys`` and implement ``aprocess_row``.
    Source operators (those that create rows from databases rather than from input rows, such
    as ``SQLGenerator``) override ``plan_sources``; the rows it returns are fed to
    ``aprocess_row`` instead of the step's input rows.
    """

    #: reference keyword name -> default column name, e.g. {"input_sql_key": "SQL"}
    default_keys: ClassVar[dict[str, str]] = {}
    #: ``input_*`` keys whose column may be absent (the step then does without it)
    optional_inputs: ClassVar[frozenset[str]] = frozenset()
    #: the step only decides: its output is its input row, unchanged, or a ``Reject``. The
    #: runner may then start the next steps on a row while this one decides.
    verdict_only: ClassVar[bool] = False

    def __init__(self) -> None:
        self.keys: dict[str, str] = dict(self.default_keys)

    @property
    def step_name(self) -> str:
        return type(self).__name__

    def bind(self, **keys: str) -> None:
        """Set the column names a ``run()`` call passes; unknown keywords are an error."""
        unknown = sorted(set(keys) - set(self.default_keys))
        if unknown:
            raise TypeError(
                f"{self.step_name}.run() got unexpected keyword(s) {unknown}; "
                f"accepted: {sorted(self.default_keys)}"
            )
        self.keys.update({k: v for k, v in keys.items() if v is not None})

    def required_input_keys(self) -> list[str]:
        """Column names every input row must have (checked before any LLM call).

        By default every bound ``input_*`` key except those in ``optional_inputs``; operators
        whose needs depend on their configuration override it.
        """
        return [column for key, column in self.keys.items()
                if key.startswith("input_") and key not in self.optional_inputs]

    @property
    def input_columns(self) -> list[str]:
        """The declared contract: columns a row must bring to this step."""
        return list(self.required_input_keys())

    @property
    def output_columns(self) -> list[str]:
        """The declared contract: columns this step adds to (or sets on) its rows."""
        return [column for key, column in self.keys.items() if key.startswith("output_")]

    def plan_sources(self, ctx: StepContext) -> list[Row] | None:
        """Rows to process when this step creates data instead of transforming input rows."""
        return None

    def dedup_key(self, row: Row) -> Hashable | None:
        """Rows with an equal key are duplicates; the runner keeps the first in input order."""
        return None

    @abstractmethod
    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        """Turn one row into zero or more output rows, or a ``Reject`` with a reason."""

    async def aclose(self) -> None:
        """Release per-run resources, called on the loop that ran the step.

        The models an operator uses keep one HTTP client per event loop; closing them here, on
        that loop, is what keeps a client from being collected after its loop has closed (which
        asyncio reports as "Event loop is closed"). Shared models close idempotently.
        Subclasses that hold more (caches of executed gold SQL, ...) extend this.
        """
        from sqlsynth.llm.base import aclose_models

        await aclose_models(*(getattr(self, name, None) for name in MODEL_ATTRIBUTES))

    def run(self, storage: Any, **keys: str) -> None:
        """Reference API: bind key names and run this step on ``storage`` (a storage step)."""
        self.bind(**keys)
        storage.run_operator(self)
