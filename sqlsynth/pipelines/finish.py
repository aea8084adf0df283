"""The end of a run: the summary table, the run record, the data card and where to look next.

``close_run`` does all of it, whatever stopped the run (the commands and the ``init`` scripts
call it).

``print_run_summary`` prints rows in/out per step with drop reasons and the LLM usage.
``record_run`` appends what the run was (database, models, seed) and what it paid for to
``<out>/sqlsynth_runs.jsonl``, the only place token usage outlives the process; the viewer, the
data card and the Hugging Face card read it. ``finish_run`` writes ``<out>/report.html`` and
prints its path and the ``sqlsynth view`` command.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlsynth.config import RunConfig
from sqlsynth.db.url import database_identity
from sqlsynth.redaction import redact_secrets
from sqlsynth.storage.final import write_final


def _stats(model: Any) -> dict[str, Any]:
    stats = getattr(model, "stats", None)
    return stats.snapshot() if stats is not None else {}


def print_run_summary(pipeline: Any) -> None:
    """Print a rich table of the run to stderr (the terminal), whatever stage it stopped at."""
    from rich.console import Console

    from sqlsynth.progress import verbosity

    if verbosity() < 0:
        return
    from rich.table import Table

    steps = pipeline.summary()
    if not steps:
        return  # stopped before any step started (bad input, unreachable database): no table
    # in a log (not a terminal) rich would squeeze the tables to 80 columns
    console = Console(stderr=True, **({} if sys.stderr.isatty() else {"width": 200}))
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


def _models(pipeline: Any) -> list[Any]:
    seen: dict[int, Any] = {}
    for model in (getattr(pipeline, "llm_serving", None),
                  getattr(pipeline, "embedding_serving", None)):
        if model is not None:
            seen.setdefault(id(model), model)
    return list(seen.values())


def run_record(pipeline: Any, started: float | None = None) -> dict[str, Any]:
    """What ran (pipeline, database, models, seed) and the LLM usage this process paid for."""
    cfg = pipeline.config
    chat, embed = getattr(pipeline, "llm_serving", None), getattr(pipeline, "embedding_serving",
                                                                   None)
    db = getattr(pipeline, "db_root_path", "") or cfg.db
    usage = {}
    for model in _models(pipeline):
        counts = _stats(model)
        if counts:
            usage[str(getattr(model, "model", type(model).__name__))] = counts
    now = time.time()
    return {
        "pipeline": type(pipeline).__name__,
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started or now)),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "db": database_identity(db),
        "db_ids": list(cfg.db_ids or []),
        "dialect": str(getattr(getattr(pipeline, "database_manager", None), "dialect", "")
                       or "sqlite"),
        "input": str(Path(cfg.input).resolve()) if cfg.input else "",
        "base_url": redact_secrets(cfg.base_url) if cfg.base_url else "local",
        "model": str(getattr(chat, "model", "")) if chat is not None else "",
        "embedding_model": str(getattr(embed, "model", "")) if embed is not None else "",
        "seed": cfg.seed,
        "steps": [{k: s.get(k) for k in ("step", "name", "rows_in", "rows_out", "resumed")}
                  for s in pipeline.summary()],
        "usage": usage,
    }


def record_run(pipeline: Any, started: float | None = None) -> Path | None:
    """Append this run's record to ``<out>/sqlsynth_runs.jsonl`` (never fails the run).

    A run that did nothing (no step ran, no request was paid) leaves no record.
    """
    from sqlsynth.viewer.run_folder import RUNS_FILE

    out = Path(pipeline.config.out)
    record = run_record(pipeline, started)
    if not record["steps"] and not any(u.get("requests") for u in record["usage"].values()):
        return None  # nothing ran (bad input, refused folder): the folder stays as it was
    try:
        line = json.dumps(record, ensure_ascii=False, default=str)
        out.mkdir(parents=True, exist_ok=True)
        with (out / RUNS_FILE).open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError as exc:
        print(f"could not record the run in {out / RUNS_FILE}: {exc}", file=sys.stderr)
        return None
    return out / RUNS_FILE


def finish_run(out: str | Path) -> Path | None:
    """Write the data card of the run folder and print where it is and how to review rows."""
    from sqlsynth.viewer.card import write_card

    try:
        card = write_card(out)
    except Exception as exc:  # noqa: BLE001 - the rows are written; a card failure is a note
        print(f"could not write the data card: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None
    print(f"data card: {card}", file=sys.stderr)
    print(f"review rows in the browser: sqlsynth view {out}", file=sys.stderr)
    return card


def close_run(pipeline: Any, cfg: RunConfig, started: float | None = None, *,
              finished: bool | None = None) -> Path | None:
    """What every run does at its end, whatever stopped it: the summary table on stderr and
    the run record; then, for a run that finished, ``final.jsonl`` from the last step and the
    data card (also called by the ``init`` scripts).

    A run that stopped (incomplete, interrupted, failed) writes no ``final.jsonl``: its last
    written step file is not the last step, and a final file must only hold finished rows.
    ``finished=None`` means "called from a ``finally`` block": the run finished unless an
    exception is propagating.
    """
    if finished is None:
        finished = sys.exc_info()[0] is None
    try:
        print_run_summary(pipeline)
        record_run(pipeline, started)
    finally:
        final = write_final(Path(cfg.out), cfg.file_name_prefix, cfg.cache_type) \
            if finished else None
    if final is None:
        return None
    print(f"final rows: {final}", file=sys.stderr)
    finish_run(cfg.out)
    return final
