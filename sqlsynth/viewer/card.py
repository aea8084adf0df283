"""``sqlsynth report``: one self-contained HTML data card of a run (inline CSS and SVG only).

Nothing in the page loads from anywhere: no scripts, fonts, images or styles outside the file,
so it opens offline, can be mailed or attached to a dataset, and shows the same thing forever.
"""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

from sqlsynth.viewer.charts import bar_chart, funnel_chart
from sqlsynth.viewer.highlight import highlight_sql
from sqlsynth.viewer.pricing import load_prices
from sqlsynth.viewer.run_folder import REPORT_FILE, RunFolder
from sqlsynth.viewer.sql_features import FEATURES
from sqlsynth.viewer.summary import run_summary, sample_rows

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1d2330;
background:#f6f7f9}
main{max-width:1040px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid
#d8dde6;padding-bottom:4px}
.meta{color:#5a6474}.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.tile{background:#fff;border:1px solid #d8dde6;border-radius:6px;padding:10px 16px;min-width:120px}
.tile b{display:block;font-size:22px}table{border-collapse:collapse;background:#fff;margin:6px 0}
td,th{border:1px solid #d8dde6;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}.empty{color:#8a93a3}
pre.sql{background:#fff;border:1px solid #d8dde6;padding:8px;white-space:pre-wrap;margin:4px 0}
.k{color:#1f4fa8;font-weight:600}.s{color:#a33d12}.n{color:#0d7a52}.i{color:#5b2a86}
.sample{background:#fff;border:1px solid #d8dde6;border-radius:6px;padding:10px;margin:10px 0}
.sample .q{font-weight:600}.chart text{fill:#1d2330}
@media (max-width:800px){.grid{grid-template-columns:1fr}}
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(head: list[str], rows: list[list[Any]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    out = ["<table><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(
            f'<td class="num">{_e(v)}</td>' if i in numeric else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row)) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _section(title: str, body: str, anchor: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{body}</section>'


def _run_info(runs: list[dict[str, Any]]) -> str:
    if not runs:
        return '<p class="empty">no run record (sqlsynth_runs.jsonl) in this folder</p>'
    rows = [[r.get("finished", ""), r.get("pipeline", ""), r.get("db", ""),
             ", ".join(r.get("db_ids") or []) or "all", r.get("model", ""),
             r.get("embedding_model", ""), r.get("seed", "")] for r in runs]
    return _table(["finished", "pipeline", "database", "db_ids", "model", "embedding", "seed"],
                  rows)


def _usage(summary: dict[str, Any]) -> str:
    lines = summary["usage"]
    if not lines:
        return '<p class="empty">no LLM usage recorded</p>'
    rows = [[u["model"], u["requests"], u["cache_hits"], u["prompt_tokens"],
             u["completion_tokens"], "tokens only (no price)" if u["usd"] is None
             else f"${u['usd']:.4f}"] for u in lines]
    total = summary["total_usd"]
    note = ("" if total is None else
            f"<p>Estimated cost: <b>${total:.4f}</b> (list prices per million tokens; "
            "edit with <code>--prices</code>).</p>")
    return _table(["model", "requests", "cache hits", "prompt tokens", "completion tokens",
                   "estimated cost"], rows, {1, 2, 3, 4}) + note


def _samples(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="empty">no final rows</p>'
    out = []
    for row in rows:
        labels = " · ".join(_e(row[k]) for k in ("db_id", "question_type",
                                                 "sql_component_difficulty",
                                                 "sql_execution_difficulty") if row.get(k))
        evidence = (f'<div class="meta">evidence: {_e(row["evidence"])}</div>'
                    if row.get("evidence") else "")
        out.append(f'<div class="sample"><div class="meta">{labels}</div>'
                   f'<div class="q">{_e(row.get("question", ""))}</div>{evidence}'
                   f'<pre class="sql">{highlight_sql(str(row.get("SQL", "")))}</pre></div>')
    return "".join(out)


def _quality(quality: dict[str, dict[str, Any]]) -> str:
    if not quality:
        return '<p class="empty">no quality fields in these rows</p>'
    parts = []
    for name, q in quality.items():
        if q["kind"] == "number":
            parts.append(_table([name, "n", "mean", "min", "max"],
                                [["", q["n"], f"{q['mean']:.3g}", q["min"], q["max"]]],
                                {1, 2, 3, 4}))
        else:
            parts.append(f"<h3>{_e(name)}</h3>" + bar_chart(q["counts"], title=name))
    return "".join(parts)


def _training(t: dict[str, Any]) -> str:
    """Pass rates (RL), preference pairs (DPO) and benchmark overlaps, as the exports see them."""
    rate, pref, cont = t["pass_rate"], t["preference"], t["contamination"]
    parts = ["<h3>Solver pass rate (RL selection)</h3>"]
    if rate["measured"]:
        parts += [bar_chart(rate["buckets"], title="pass rate"),
                  (f'<p class="meta">{rate["measured"]} rows measured; {rate["learnable"]} in '
                   "the learnable band 0.1-0.9 (<code>export --format rl --pass-rate-between "
                   "0.1 0.9</code>)</p>")]
    else:
        parts.append('<p class="empty">no pass rate measured</p>')
    parts.append("<h3>Preference pairs (DPO)</h3>")
    parts.append(_table(["", "rows"], [["rows giving a pair", pref["rows_paired"]]]
                        + [[f"rejected answer: {k}", v]
                           for k, v in sorted(pref["rejected_reasons"].items())]
                        + [[f"no pair: {k}", v] for k, v in sorted(pref["unpaired"].items())],
                        {1}))
    parts.append("<h3>Benchmark contamination</h3>")
    if not cont["checked"]:
        parts.append('<p class="empty">not checked (<code>sqlsynth decontaminate --benchmark '
                     "PATH</code>)</p>")
    else:
        report = cont["report"] or {}
        names = ", ".join(f"{b.get('name')} ({b.get('items')} items)"
                          for b in report.get("benchmarks") or [])
        parts.append(f'<p class="meta">{cont["flagged"]} of {cont["checked"]} rows overlap'
                     + (f" {_e(names)}" if names else "")
                     + (f"; {report.get('dropped')} dropped" if report.get("dropped") else "")
                     + "</p>")
        parts.append(_table(["overlap", "matches"],
                            [[f"benchmark {k}", v] for k, v in cont["by_benchmark"]]
                            + [[f"kind {k}", v] for k, v in cont["by_kind"]], {1}))
    return "".join(parts)


def _capped_chart(items: list[tuple[str, int]], title: str, cap: int = 40) -> str:
    """The ``cap`` largest bars, and a line saying what the rest add up to."""
    rest = items[cap:]
    note = (f'<p class="meta">… and {len(rest)} more ({sum(v for _, v in rest)} rows)</p>'
            if rest else "")
    return bar_chart(items[:cap], title=title) + note


def render_card(folder: RunFolder, prices: dict[str, tuple[float, float]] | None = None) -> str:
    """The data card of ``folder`` as one HTML document."""
    s = run_summary(folder, prices if prices is not None else load_prices())
    c = s["counts"]
    tiles = "".join(f'<div class="tile"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in [
        ("final rows", c["rows"]), ("rejected rows", c["rejects"]),
        ("databases", c["databases"]), ("steps", c["steps"]),
        ("estimated cost", "n/a" if s["total_usd"] is None else f"${s['total_usd']:.4f}"),
    ])
    funnel = [(f"{f['step']} {f['name']}", int(f["rows_in"] or 0), int(f["rows_out"] or 0))
              for f in s["funnel"]]
    funnel_rows = [[f["step"], f["name"], f["rows_in"], f["rows_out"],
                    ", ".join(f"{k}: {v}" for k, v in f["rejects"].items()) or "-",
                    f["seconds"], "yes" if f["done"] else "no"] for f in s["funnel"]]
    unmeasured = s.get("not_measured", {})
    difficulty = "".join(
        f"<div><h3>{_e(name.replace('sql_', '').replace('_', ' '))}</h3>"
        + (f'<p class="empty">{_e(unmeasured[name])}</p>'
           if name in unmeasured and not any(n for _, n in items)
           else bar_chart(items, title=name)) + "</div>"
        for name, items in s["difficulty"].items())
    labels = "".join(f"<div><h3>{_e(name)}</h3>{bar_chart(items, title=name)}</div>"
                     for name, items in s["labels"].items())
    rows_n = max(1, c["rows"])
    features = bar_chart(s["features"], title="SQL features") + _table(
        ["feature", "meaning"], [[n, FEATURES.get(n, "sqlglot could not parse it")]
                                 for n, _ in s["features"]])
    reasons = bar_chart(s["reject_reasons"][:20], title="reject reasons", color="#b6503b")
    groups = _table(["step", "operator", "reason", "rows"],
                    [[g["step"], g["step_name"], g["reason"], g["count"]]
                     for g in s["reject_groups"]], {0, 3})
    made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    body = "".join([
        (f"<h1>sqlsynth data card</h1><div class=\"meta\">{_e(s['folder'])} · rows from "
         f"{_e(s['rows_source'])} · written {made}</div>"),
        f'<div class="tiles">{tiles}</div>',
        _section("How it was made", _run_info(s["runs"]), "runs"),
        _section("Funnel: rows in and out per step", funnel_chart(funnel) + _table(
            ["step", "operator", "in", "out", "dropped (reason: count)", "seconds", "finished"],
            funnel_rows, {0, 2, 3, 5}), "funnel"),
        _section("Why rows were dropped", reasons + groups, "rejects"),
        _section("Difficulty", f'<div class="grid">{difficulty}</div>', "difficulty"),
        _section(f"SQL feature coverage ({s['dialect']}; rows using each, of {rows_n})",
                 features, "features"),
        _section("Rows per database", _capped_chart(s["per_database"], "rows per database"),
                 "databases"),
        _section("Question styles and SQL kinds",
                 f'<div class="grid">{labels}</div>' if labels
                 else '<p class="empty">no labels</p>', "labels"),
        _section("Quality fields", _quality(s["quality"]), "quality"),
        _section("Training data: pass rates, preference pairs, contamination",
                 _training(s["training"]), "training"),
        _section("LLM usage and estimated cost", _usage(s), "usage"),
        _section("Sample rows", _samples(sample_rows(folder.rows)), "samples"),
    ])
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>sqlsynth data card: {_e(Path(s['folder']).name)}</title>"
            f"<style>{CSS}</style></head><body><main>{body}</main></body></html>\n")


def write_card(folder_path: str | Path, out: str | Path | None = None,
               prices_path: str | None = None) -> Path:
    """Write the card of a run folder (default ``<folder>/report.html``); returns its path."""
    from sqlsynth.storage.atomic import write_bytes_atomic

    folder = RunFolder.load(folder_path)
    target = Path(out) if out else folder.path / REPORT_FILE
    write_bytes_atomic(target, render_card(folder, load_prices(prices_path)).encode("utf-8"))
    return target
