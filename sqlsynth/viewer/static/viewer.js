/* sqlsynth review app: plain DOM code, no libraries, nothing loaded from elsewhere.
   Text from the run folder is always set as textContent; only SQL highlighted (and escaped)
   by the server is inserted as HTML. */
"use strict";

const state = {offset: 0, limit: 50, total: 0, selected: null, summary: null,
               rowsAsked: 0, rejectsAsked: 0};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function getJSON(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function fillSelect(select, values) {
  for (const value of values) select.append(el("option", {value: value, text: value}));
}

function params(form) {
  const data = new FormData(form);
  const out = new URLSearchParams();
  for (const [k, v] of data.entries()) if (v) out.set(k, v);
  return out;
}

function badge(mark) {
  if (!mark) return el("span", {class: "meta", text: "-"});
  return el("span", {class: "badge " + mark.status, text: mark.status});
}

/* ---------------------------------------------------------------- rows */

async function loadRows() {
  const query = params(document.getElementById("row-filters"));
  query.set("offset", state.offset); query.set("limit", state.limit);
  const asked = ++state.rowsAsked;
  const data = await getJSON("/api/rows?" + query.toString());
  if (asked !== state.rowsAsked) return;  // a newer filter's answer is on its way
  state.total = data.total;
  const body = document.querySelector("#row-table tbody");
  body.replaceChildren();
  for (const row of data.rows) {
    const tr = el("tr", {class: "row", "data-key": row.key, onclick: () => showRow(row.key)},
      el("td", {text: row.index + 1}), el("td", {text: row.db_id ?? ""}),
      el("td", {text: row.question ?? ""}), el("td", {text: row.difficulty ?? ""}),
      el("td", {text: row.execution ?? ""}), el("td", {text: row.style ?? ""}),
      el("td", {class: "mark"}, badge(row.mark)));
    if (row.key === state.selected) tr.classList.add("selected");
    body.append(tr);
  }
  const last = Math.min(state.offset + data.rows.length, data.total);
  document.getElementById("row-count").textContent =
    data.total ? `rows ${state.offset + 1}–${last} of ${data.total}` : "no rows match";
  document.getElementById("prev").disabled = state.offset === 0;
  document.getElementById("next").disabled = last >= data.total;
}

function fieldTable(row) {
  const skip = new Set(["question", "evidence", "SQL", "cot_reasoning", "prompt", "cot_responses",
                        "cot_candidates"]);
  const table = el("table", {class: "fields"});
  for (const [k, v] of Object.entries(row)) {
    if (skip.has(k)) continue;
    const text = typeof v === "object" ? JSON.stringify(v) : String(v);
    table.append(el("tr", {}, el("th", {text: k}), el("td", {text: text})));
  }
  return table;
}

function resultTable(res) {
  if (res.status !== "ok") {
    return el("p", {class: "error", text: `${res.status}: ${res.error || ""}`});
  }
  const table = el("table", {id: "result-table"});
  table.append(el("tr", {}, ...res.columns.map(c => el("th", {text: c}))));
  for (const r of res.rows) table.append(el("tr", {}, ...r.map(v => el("td", {text: v ?? "NULL"}))));
  const note = `${res.rows.length}${res.truncated ? "+" : ""} rows in ${res.elapsed} s`;
  return el("div", {}, el("div", {class: "meta", text: note}), el("div", {class: "result"}, table));
}

async function showRow(key) {
  state.selected = key;
  for (const tr of document.querySelectorAll("#row-table tbody tr"))
    tr.classList.toggle("selected", tr.dataset.key === key);
  const data = await getJSON("/api/rows/" + key);
  const row = data.row;
  const sql = el("pre", {class: "sql", id: "detail-sql"});
  sql.innerHTML = data.sql_html;  // escaped and highlighted by the server
  const result = el("div", {id: "detail-result"}, el("p", {class: "meta", text: "running…"}));
  const note = el("textarea", {id: "mark-note", placeholder: "note (optional)"});
  note.value = data.mark ? data.mark.note || "" : "";
  const status = el("span", {id: "mark-status"}, badge(data.mark));
  const save = async (value) => {
    const saved = await getJSON(`/api/rows/${key}/mark`, {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({status: value, note: note.value})});
    status.replaceChildren(badge(saved.mark));
    const cell = document.querySelector(`#row-table tr[data-key="${key}"] td.mark`);
    if (cell) cell.replaceChildren(badge(saved.mark));
    showMarks(saved.marks);
  };
  const detail = document.getElementById("detail");
  detail.replaceChildren(
    el("div", {class: "meta", text: `${row.db_id ?? ""} · row ${data.index + 1}`}),
    el("h2", {id: "detail-question", text: row.question ?? ""}),
    row.evidence ? el("p", {}, el("b", {text: "evidence: "}), row.evidence) : null,
    sql,
    el("h3", {text: "Result (run now, read-only)"}), result,
    el("div", {class: "actions"},
      el("button", {class: "accept", id: "accept", type: "button", onclick: () => save("accept")}, "Accept"),
      el("button", {class: "reject", id: "reject", type: "button", onclick: () => save("reject")}, "Reject"),
      el("button", {class: "clear", id: "clear", type: "button", onclick: () => save(null)}, "Clear"),
      note, status),
    el("h3", {text: "Labels and quality fields"}), fieldTable(row),
    row.cot_reasoning ? el("details", {open: ""}, el("summary", {text: "reasoning"}),
      el("pre", {text: row.cot_reasoning})) : null,
    row.prompt ? el("details", {}, el("summary", {text: "training prompt"}),
      el("pre", {text: row.prompt})) : null,
    Array.isArray(row.cot_candidates) ? el("details", {},
      el("summary", {text: `graded reasoning answers (${row.cot_candidates.length})`}),
      ...row.cot_candidates.map(c => el("div", {class: "candidate"},
        el("b", {text: `${c.verdict}${c.error ? " (" + c.error + ")" : ""}${c.kept ? " · kept" : ""}`}),
        el("pre", {text: c.sql ?? "(no SQL)"})))) : null);
  try {
    result.replaceChildren(resultTable(await getJSON(`/api/rows/${key}/result`)));
  } catch (error) {
    result.replaceChildren(el("p", {class: "error", text: String(error)}));
  }
}

function showMarks(marks) {
  document.getElementById("folder").textContent =
    `${state.summary.folder} · ${marks.accept} accepted · ${marks.reject} rejected`;
}

/* ---------------------------------------------------------------- rejects */

async function loadRejects() {
  const asked = ++state.rejectsAsked;
  const data = await getJSON("/api/rejects?" + params(document.getElementById("reject-filters")));
  if (asked !== state.rejectsAsked) return;
  document.getElementById("reject-count").textContent = `${data.total} rejected rows`;
  const box = document.getElementById("reject-groups");
  box.replaceChildren();
  for (const g of data.groups) {
    const group = el("details", {class: "group"},
      el("summary", {text: `step ${g.step} ${g.step_name} — ${g.reason} (${g.count})`}));
    for (const item of g.items) {
      const sql = el("pre", {class: "sql"});
      sql.innerHTML = item.sql_html;
      const row = item.row || {};
      group.append(el("div", {class: "item"},
        el("div", {class: "meta", text: row.db_id ?? ""}),
        row.question ? el("div", {text: row.question}) : null, sql,
        el("div", {class: "error", text: item.detail ?? ""})));
    }
    if (g.count > g.items.length)
      group.append(el("p", {class: "meta", text: `… and ${g.count - g.items.length} more`}));
    box.append(group);
  }
}

/* ---------------------------------------------------------------- overview */

function showOverview(s) {
  const cost = s.total_usd === null ? "n/a" : "$" + s.total_usd.toFixed(4);
  const tiles = document.getElementById("tiles");
  tiles.replaceChildren(...[["final rows", s.counts.rows], ["rejected rows", s.counts.rejects],
    ["databases", s.counts.databases], ["steps", s.counts.steps], ["estimated cost", cost]]
    .map(([k, v]) => el("div", {class: "tile"}, el("b", {text: v}), k)));
  const funnel = document.querySelector("#funnel tbody");
  funnel.replaceChildren(...s.funnel.map(f => el("tr", {},
    el("td", {text: f.step}), el("td", {text: f.name}), el("td", {text: f.rows_in ?? ""}),
    el("td", {text: f.rows_out ?? ""}),
    el("td", {text: Object.entries(f.rejects).map(([k, v]) => `${k}: ${v}`).join(", ") || "-"}),
    el("td", {text: f.seconds ?? ""}))));
  const usage = document.querySelector("#usage tbody");
  usage.replaceChildren(...s.usage.map(u => el("tr", {},
    el("td", {text: u.model}), el("td", {text: u.requests}), el("td", {text: u.cache_hits}),
    el("td", {text: u.prompt_tokens}), el("td", {text: u.completion_tokens}),
    el("td", {text: u.usd === null ? "tokens only (no price)" : "$" + u.usd.toFixed(4)}))));
  const t = s.training, lines = [];
  lines.push(["pass rate measured", t.pass_rate.measured],
             ["pass rate in the learnable band 0.1-0.9", t.pass_rate.learnable]);
  for (const [bucket, n] of t.pass_rate.buckets) if (n) lines.push([`pass rate ${bucket}`, n]);
  lines.push(["rows giving a preference pair", t.preference.rows_paired]);
  for (const [k, v] of Object.entries(t.preference.rejected_reasons))
    lines.push([`pair's rejected answer: ${k}`, v]);
  for (const [k, v] of Object.entries(t.preference.unpaired)) lines.push([`no pair: ${k}`, v]);
  lines.push(["rows checked against benchmarks", t.contamination.checked],
             ["rows overlapping a benchmark", t.contamination.flagged]);
  for (const [k, v] of t.contamination.by_benchmark) lines.push([`overlaps ${k}`, v]);
  for (const [k, v] of t.contamination.by_kind) lines.push([`overlap kind ${k}`, v]);
  document.querySelector("#training tbody").replaceChildren(...lines.map(([k, v]) =>
    el("tr", {}, el("td", {text: k}), el("td", {text: v}))));
  document.getElementById("usage-note").textContent = s.usage.length ?
    "Estimated from list prices per million tokens; unknown models show tokens only." :
    "No LLM usage recorded for this folder.";
}

/* ---------------------------------------------------------------- wiring */

function showTab(name) {
  for (const tab of document.querySelectorAll(".tab"))
    tab.classList.toggle("active", tab.dataset.tab === name);
  for (const panel of document.querySelectorAll(".panel"))
    panel.classList.toggle("hidden", panel.id !== name);
  if (name === "rejects") loadRejects().catch(report);
}

function report(error) {
  document.getElementById("row-count").textContent = "error: " + error.message;
}

async function start() {
  const s = await getJSON("/api/summary");
  state.summary = s;
  const o = s.options;
  fillSelect(document.getElementById("f-db"), o.db);
  fillSelect(document.getElementById("f-reject-db"), o.db);
  fillSelect(document.getElementById("f-difficulty"), o.difficulty);
  fillSelect(document.getElementById("f-execution"), o.execution);
  fillSelect(document.getElementById("f-style"), o.style);
  fillSelect(document.getElementById("f-sort"), o.sort);
  fillSelect(document.getElementById("f-step"), o.step);
  fillSelect(document.getElementById("f-reason"), o.reason);
  showMarks(s.marks);
  showOverview(s);
  for (const tab of document.querySelectorAll(".tab"))
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  const rowForm = document.getElementById("row-filters");
  const reload = () => { state.offset = 0; loadRows().catch(report); };
  rowForm.addEventListener("input", reload);
  rowForm.addEventListener("submit", (event) => { event.preventDefault(); reload(); });
  const rejectForm = document.getElementById("reject-filters");
  rejectForm.addEventListener("input", () => loadRejects().catch(report));
  rejectForm.addEventListener("submit", (event) => { event.preventDefault(); loadRejects().catch(report); });
  document.getElementById("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - state.limit); loadRows().catch(report); });
  document.getElementById("next").addEventListener("click", () => {
    state.offset += state.limit; loadRows().catch(report); });
  await loadRows();
  document.body.dataset.ready = "1";
}

start().catch(report);
