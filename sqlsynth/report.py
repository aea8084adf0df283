"""The end-of-run summary: rows in/out per step with drop reasons, LLM usage, wall time."""

from __future__ import annotations

from typing import Any


def _stats(model: Any) -> dict[str, Any]:
    stats = getattr(model, "stats", None)
    return stats.snapshot() if stats is not None else {}


def print_run_summary(pipeline: Any) -> None:
    """Print a rich table of the run to stderr (the terminal), whatever stage it stopped at."""
    from rich.console import Console
    from rich.table import Table

    steps = pipeline.summary()
    if not steps:
        return  # stopped before any step started (bad input, unreachable database): no table
    console = Console(stderr=True)
    table = Table(title="sqlsynth run summary")
    for col in ("step", "operator", "in", "out", "dropped (reason: count)", "seconds"):
        table.add_column(col, justify="right" if col in {"in", "out", "seconds"} else "left")
    for step in steps:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(step.get("rejects", {}).items()))
        table.add_row(
            str(step.get("step")),
            str(step.get("name")),
            str(step.get("rows_in", "")),
            str(step.get("rows_out", "")),
            reasons or "-",
            f"{step.get('seconds', 0.0):.1f}" + (" (resumed)" if step.get("resumed") else ""),
        )
    console.print(table)
    usage = Table(title="LLM usage")
    for col in ("model", "requests", "cache hits", "retries", "failures", "prompt tok", "completion tok"):
        usage.add_column(col)
    seen: set[int] = set()
    for model in (pipeline.llm_serving, pipeline.embedding_serving):
        if model is None or id(model) in seen:
            continue
        seen.add(id(model))
        s = _stats(model)
        usage.add_row(
            str(getattr(model, "model", type(model).__name__)),
            *(str(s.get(k, 0)) for k in (
                "requests", "cache_hits", "retries", "failures", "prompt_tokens",
                "completion_tokens",
            )),
        )
    console.print(usage)
