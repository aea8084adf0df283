"""Preference pairs from execution-graded reasoning (ExCoT-style DPO data).

The CoT vote grades every reasoning answer of a row against the row's result
(``cot_candidates``: ``{text, sql, verdict, error, kept}``). A pair is a **chosen** answer that
reaches the row's answer (the one the vote kept, so ``cot_reasoning``, else the first correct
one) and a **rejected** one that does not: a wrong result first (the hardest negative), then an
error, then an answer with no SQL. A row whose answers all reach its result (or that has one
answer only, as canonical rows do) gives no pair; the reason is counted.

Layouts:

* ``trl``: TRL's conversational preference form, ``prompt`` (user message), ``chosen`` and
  ``rejected`` (one assistant message each), which ``DPOTrainer`` reads as it is; written as
  parquet and JSONL.
* ``llamafactory-alpaca``: ``instruction``/``input``/``chosen``/``rejected``, plus a
  ``dataset_info.json`` entry with ``"ranking": true``.
* ``llamafactory-sharegpt``: ``conversations`` plus ``chosen``/``rejected`` messages, with its
  ranking entry.

Every record also carries ``id``, ``db_id``, ``question``, ``SQL`` (the row's), ``chosen_sql``,
``rejected_sql``, ``rejected_reason`` (``wrong_result``, ``error``, ``no_sql``) and
``rejected_error`` (the failing status); trainers drop columns they do not read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DPO_LAYOUTS = ("trl", "llamafactory-alpaca", "llamafactory-sharegpt")
#: the rejected answer's kinds, the hardest negative first
REJECTED_ORDER = ("wrong_result", "error", "no_sql")
CANDIDATES_FIELD = "cot_candidates"


@dataclass(frozen=True)
class DPOOptions:
    layout: str = "trl"
    pairs_per_row: int = 1
    """at most this many pairs per row, one per distinct rejected answer"""


@dataclass
class PairCounts:
    """How many pairs were made, by the rejected answer's kind (for the summary and the card)."""

    rows_paired: int = 0
    pairs: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)

    def add(self, reason: str) -> None:
        self.by_reason[reason] += 1
        self.pairs += 1


def _chosen(row: Mapping[str, Any], graded: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    correct = [c for c in graded if c.get("verdict") == "correct" and _text(c)]
    kept = [c for c in correct if c.get("kept")]
    return (kept or correct or [None])[0]


def _text(candidate: Mapping[str, Any]) -> str | None:
    text = candidate.get("text")
    return text if isinstance(text, str) and text.strip() else None


def _rejected(graded: list[Mapping[str, Any]], limit: int) -> list[Mapping[str, Any]]:
    """Distinct failing answers, wrong results first, then errors, then no SQL."""
    failing = [c for c in graded if c.get("verdict") in REJECTED_ORDER and _text(c)]
    failing.sort(key=lambda c: REJECTED_ORDER.index(c["verdict"]))  # stable: answer order kept
    seen: set[str] = set()
    out = []
    for candidate in failing:
        text = _text(candidate)
        if text in seen:
            continue
        seen.add(text)
        out.append(candidate)
    return out[:limit]


def no_pair_reason(row: Mapping[str, Any]) -> str | None:
    """Why a row gives no preference pair (None: it gives one)."""
    graded = row.get(CANDIDATES_FIELD)
    if not isinstance(graded, list):
        return "no graded candidates (cot_candidates absent: a run before the field, or no vote)"
    graded = [c for c in graded if isinstance(c, Mapping)]
    if _chosen(row, graded) is None:
        return "no candidate reaches the row's answer"
    if not _rejected(graded, 1):
        return ("no failing candidate (every answer reaches the row's answer)" if len(graded) > 1
                else "one candidate only (nothing to prefer it to)")
    return None


def _record(layout: str, prompt: str, chosen: str, rejected: str) -> dict[str, Any]:
    if layout == "trl":
        return {"prompt": [{"role": "user", "content": prompt}],
                "chosen": [{"role": "assistant", "content": chosen}],
                "rejected": [{"role": "assistant", "content": rejected}]}
    if layout == "llamafactory-alpaca":
        return {"instruction": prompt, "input": "", "chosen": chosen, "rejected": rejected}
    return {"conversations": [{"from": "human", "value": prompt}],
            "chosen": {"from": "gpt", "value": chosen},
            "rejected": {"from": "gpt", "value": rejected}}


def preference_records(plain: Iterable[tuple[int, dict[str, Any]]], options: DPOOptions,
                       skip: Callable[[int, str], None], counts: PairCounts | None = None,
                       ) -> list[dict[str, Any]]:
    """Pair records of ``(input position, row)`` pairs; ``skip(position, reason)`` for the rest."""
    if options.layout not in DPO_LAYOUTS:
        raise ValueError(f"unknown DPO layout {options.layout!r}; choose one of "
                         f"{', '.join(DPO_LAYOUTS)}")
    if options.pairs_per_row < 1:
        raise ValueError(f"pairs_per_row must be >= 1, got {options.pairs_per_row}")
    counts = counts if counts is not None else PairCounts()
    records = []
    for index, row in plain:
        prompt = row.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            skip(index, "missing 'prompt'")
            continue
        reason = no_pair_reason(row)
        if reason:
            skip(index, reason)
            continue
        graded = [c for c in row[CANDIDATES_FIELD] if isinstance(c, Mapping)]
        chosen = _chosen(row, graded)
        assert chosen is not None  # no_pair_reason checked it
        counts.rows_paired += 1
        for rejected in _rejected(graded, options.pairs_per_row):
            counts.add(rejected["verdict"])
            records.append({
                **_record(options.layout, prompt, _text(chosen) or "", _text(rejected) or ""),
                "id": None if row.get("id") is None else str(row["id"]),
                "db_id": row.get("db_id"), "question": row.get("question"),
                "SQL": row.get("SQL"), "chosen_sql": chosen.get("sql"),
                "rejected_sql": rejected.get("sql"), "rejected_reason": rejected["verdict"],
                "rejected_error": rejected.get("error"),
            })
    return records


def pair_counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What a DPO export of ``rows`` would give: rows paired, pairs by reason, rows unpaired by
    reason (one pair per row); the data card's preference section."""
    paired = 0
    by_reason: Counter[str] = Counter()
    unpaired: Counter[str] = Counter()
    for row in rows:
        reason = no_pair_reason(row)
        if reason:
            unpaired[reason] += 1
            continue
        paired += 1
        graded = [c for c in row[CANDIDATES_FIELD] if isinstance(c, Mapping)]
        by_reason[_rejected(graded, 1)[0]["verdict"]] += 1
    return {"rows_paired": paired, "rejected_reasons": dict(by_reason),
            "unpaired": dict(unpaired)}


__all__ = ["DPO_LAYOUTS", "DPOOptions", "PairCounts", "no_pair_reason", "pair_counts",
           "preference_records"]
