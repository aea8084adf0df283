"""RL prompts: one record per row, in verl's or TRL's column layout.

* ``verl``: ``data_source``, ``prompt`` (chat messages), ``ability`` (``text2sql``),
  ``reward_model`` = ``{"style": "rule", "ground_truth": <gold SQL>}``, ``extra_info`` =
  ``{index, id, db_id, database, dialect, gold_result_fingerprint, hardness, pass_rate,
  question}`` - what verl's RL dataset reads and hands to ``compute_score``.
* ``trl``: ``prompt`` (chat messages, TRL's conversational form) and the same facts as plain
  columns (``gold_sql`` instead of ``ground_truth``), which ``GRPOTrainer`` passes to reward
  functions by name.

``database`` is a template the trainer resolves (``sqlsynth.reward.resolve_database``):
``sqlite:///{db_root}``, or the server URL with ``{user}``/``{password}`` for the account.
The pass rate is the execution classifier's measurement (``sql_execution_pass_rate``, else the
round-trip filter's ``roundtrip_agreement``: the same solver, the same count).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

RL_LAYOUTS = ("verl", "trl")
ABILITY = "text2sql"
PASS_RATE_FIELDS = ("sql_execution_pass_rate", "roundtrip_agreement")


def pass_rate(row: Mapping[str, Any]) -> float | None:
    """The row's solver pass rate in [0, 1], from ``c/n`` (or a number); None if unmeasured."""
    for name in PASS_RATE_FIELDS:
        value = row.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and "/" in value:
            top, _, bottom = value.partition("/")
            try:
                n, d = int(top), int(bottom)
            except ValueError:
                continue
            if d > 0:
                return n / d
    return None


def database_template(db: str | None) -> str:
    """The ``database`` a trainer resolves: no path of this machine, no account, no secret."""
    from sqlalchemy.engine import make_url

    if not db or "://" not in db or db.startswith("sqlite:"):
        return "sqlite:///{db_root}"
    url = make_url(db)
    port = f":{url.port}" if url.port else ""
    return f"{url.drivername}://{{user}}:{{password}}@{url.host or 'localhost'}{port}"


@dataclass(frozen=True)
class RLOptions:
    layout: str = "verl"
    pass_rate_between: tuple[float, float] | None = None
    database: str = "sqlite:///{db_root}"
    dialect: str = "sqlite"
    data_source: str = "sqlsynth"
    split: str = "train"


def rl_records(plain: Iterable[tuple[int, dict[str, Any]]], options: RLOptions,
               skip: Callable[[int, str], None],
               fingerprint: Callable[[str, str], tuple[str | None, str | None]] | None = None,
               ) -> list[dict[str, Any]]:
    """RL records of ``(input position, row)`` pairs; ``skip(position, reason)`` for the rest.

    ``fingerprint(db_id, gold_sql)`` gives ``(fingerprint, None)`` or ``(None, why not)``;
    without it the records carry no fingerprint (no database to run the gold on).
    """
    if options.layout not in RL_LAYOUTS:
        raise ValueError(f"unknown RL layout {options.layout!r}; choose one of "
                         f"{', '.join(RL_LAYOUTS)}")
    band = options.pass_rate_between
    records = []
    for index, row in plain:
        missing = next((k for k in ("prompt", "SQL", "db_id")
                        if not isinstance(row.get(k), str) or not row[k].strip()), None)
        if missing:
            skip(index, f"missing {missing!r}")
            continue
        rate = pass_rate(row)
        if band is not None:
            if rate is None:
                skip(index, "no pass rate measured")
                continue
            if not band[0] <= rate <= band[1]:
                skip(index, f"pass rate outside [{band[0]:g}, {band[1]:g}]")
                continue
        found = None
        if fingerprint is not None:
            found, why = fingerprint(row["db_id"], row["SQL"])
            if found is None:
                skip(index, f"gold does not give a comparable result: {why}")
                continue
        facts = {"id": None if row.get("id") is None else str(row["id"]),
                 "db_id": row["db_id"], "database": options.database,
                 "dialect": options.dialect, "gold_result_fingerprint": found,
                 "hardness": row.get("sql_component_difficulty"), "pass_rate": rate,
                 "question": row.get("question")}
        messages = [{"role": "user", "content": row["prompt"]}]
        if options.layout == "verl":
            records.append({"data_source": options.data_source, "prompt": messages,
                            "ability": ABILITY,
                            "reward_model": {"style": "rule", "ground_truth": row["SQL"]},
                            "extra_info": {"index": len(records), "split": options.split,
                                           **facts}})
        else:
            records.append({"prompt": messages, "gold_sql": row["SQL"], **facts})
    return records


def gold_fingerprints(manager: Any) -> Callable[[str, str], tuple[str | None, str | None]]:
    """``fingerprint(db_id, gold_sql)`` over a ``DatabaseManager``."""
    from sqlsynth.db.compare import query_orders_output
    from sqlsynth.reward.matching import result_fingerprint

    def fingerprint(db_id: str, sql: str) -> tuple[str | None, str | None]:
        result = manager.execute(db_id, sql)
        found = result_fingerprint(result, ordered=query_orders_output(sql, manager.dialect))
        if found is None:
            return None, ("cut at the row cap" if result.ok else
                          f"{result.status.value}: {result.error}")
        return found, None

    return fingerprint


__all__ = ["RL_LAYOUTS", "RLOptions", "database_template", "gold_fingerprints", "pass_rate",
           "rl_records"]
