"""``Pipeline``: an ordered list of steps whose columns are checked before anything runs.

A step is an operator plus the ``input_*``/``output_*`` key names its ``run()`` takes. From
those keys each step declares the columns it needs and the columns it adds, so ``compile()``
can walk the steps in order and fail, naming the step and the column, when a step would read a
column that neither the input file nor an earlier step provides: a typo in a key costs nothing
instead of a run's worth of LLM calls.

Two kinds of operator can be steps. sqlsynth operators (``sqlsynth.operators.base.Operator``)
stream row by row. An operator written against the reference's storage contract (a class with
``run(storage, input_..._key=..., output_..._key=...)`` that calls ``storage.read("dataframe")``
and ``storage.write(df)``) runs as a whole-table step; its contract is read from its
``run()`` signature.

A pipeline only describes; executors (``sqlsynth.executors``) run it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlsynth.errors import PipelineCompileError
from sqlsynth.operators.base import Operator


def creates_rows(operator: Any) -> bool:
    """Whether the operator makes its rows itself (overrides ``plan_sources``), ignoring input."""
    return isinstance(operator, Operator) and (
        type(operator).plan_sources is not Operator.plan_sources
    )


def _signature_keys(operator: Any) -> dict[str, str]:
    """``input_*``/``output_*`` keyword defaults of a reference-style ``run()``."""
    try:
        params = inspect.signature(operator.run).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {
        p.name: p.default
        for p in params
        if p.name.startswith(("input_", "output_")) and isinstance(p.default, str)
    }


@dataclass
class Step:
    """One operator of a pipeline and the key names its ``run()`` is called with."""

    operator: Any
    keys: dict[str, str] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            self.name = type(self.operator).__name__

    @property
    def streams(self) -> bool:
        """sqlsynth operators stream row by row; reference-style ones take the whole table."""
        return isinstance(self.operator, Operator)

    def bound_keys(self) -> dict[str, str]:
        """Every key of the step with its column: the operator's defaults, then ``keys``."""
        if self.streams:
            self.operator.bind(**self.keys)
            return dict(self.operator.keys)
        return {**_signature_keys(self.operator), **self.keys}

    @property
    def inputs(self) -> list[str]:
        """Columns each row must bring to this step."""
        keys = self.bound_keys()
        if self.streams:
            return self.operator.input_columns
        return [column for key, column in keys.items() if key.startswith("input_")]

    @property
    def outputs(self) -> list[str]:
        """Columns this step adds to its rows."""
        keys = self.bound_keys()
        if self.streams:
            return self.operator.output_columns
        return [column for key, column in keys.items() if key.startswith("output_")]


class Pipeline:
    """Steps in order; ``compile()`` checks that every step's input columns exist.

    >>> from sqlsynth.operators.eval import SQLComponentClassifier
    >>> p = Pipeline([Step(SQLComponentClassifier(), {"input_sql_key": "query"})])
    >>> p.compile(input_columns=["db_id", "SQL"])
    Traceback (most recent call last):
    ...
    sqlsynth.errors.PipelineCompileError: step 1 (SQLComponentClassifier): input column 'query' \
is neither in the input (db_id, SQL) nor made by an earlier step
    """

    def __init__(self, steps: Sequence[Step | Any], *, name: str = "pipeline") -> None:
        self.name = name
        self.steps: list[Step] = [s if isinstance(s, Step) else Step(s) for s in steps]
        self.compiled = False
        #: (pipeline class, RunConfig) that rebuilds this pipeline elsewhere, or None
        self.recipe: tuple[Any, Any] | None = None
        #: the pipeline class instance that built this one, whose models count the run's LLM
        #: usage (an executor whose work runs elsewhere adds it there), or None
        self.source: Any = None

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        names = ", ".join(step.name for step in self.steps)
        return f"Pipeline({self.name!r}: {names})"

    def columns_after(self, input_columns: Iterable[str] | None = None) -> list[list[str]]:
        """The columns every row has after each step (what a later step may read)."""
        available = set(input_columns or ())
        out = []
        for step in self.steps:
            available = set(step.outputs) | (set() if creates_rows(step.operator) else available)
            out.append(sorted(available))
        return out

    def compile(self, input_columns: Iterable[str] | None = None) -> Pipeline:
        """Bind every step's keys and check the columns connect; raises before any work.

        ``input_columns`` are the columns of the first entry file's rows; ``None`` means they
        are unknown (no rows), and only columns that must come from an earlier step are
        checked.
        """
        if not self.steps:
            raise PipelineCompileError(f"{self.name}: no steps")
        known_input = None if input_columns is None else sorted(set(input_columns))
        available: set[str] = set(known_input or ())
        from_input = True  # rows still carry the input's columns (no source step yet)
        for number, step in enumerate(self.steps, start=1):
            try:
                inputs, outputs = step.inputs, step.outputs
            except TypeError as exc:  # unknown keyword in keys: the operator names it
                raise PipelineCompileError(f"step {number} ({step.name}): {exc}") from None
            if creates_rows(step.operator):
                available, from_input = set(outputs), False
                continue
            for column in inputs:
                if column in available or (from_input and known_input is None):
                    continue
                where = (f"neither in the input ({', '.join(known_input or []) or 'no columns'}) "
                         "nor made by an earlier step" if from_input
                         else "not made by an earlier step")
                raise PipelineCompileError(
                    f"step {number} ({step.name}): input column {column!r} is {where}"
                )
            available |= set(outputs)
        self.compiled = True
        return self

    def record(self, storage: Any) -> None:
        """Hand each step to ``storage`` in order, the way the reference's ``forward()`` does."""
        for step in self.steps:
            step.operator.run(storage=storage.step(), **step.keys)
