"""What each ``sqlsynth`` subcommand does, as plain functions of parsed arguments."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlsynth.config import CONFIG_FILE_NAME, RunConfig
from sqlsynth.pipelines.finish import close_run
from sqlsynth.storage.final import FINAL_FILE, final_row, write_final

ConfigMaker = Callable[..., RunConfig]
BUNDLED = "bundled examples"  # the run folder's name for the databases shipped in the package


def cmd_init(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    from sqlsynth.scaffold import write_scaffold

    for path in write_scaffold(Path(args.dir), force=args.force):
        print(f"wrote {path}")
    return 0


def cmd_schema(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    from sqlsynth.factory import make_database_manager

    cfg = make_config(args)
    _note_bundled_databases(cfg)
    db = make_database_manager(cfg)
    render = {
        "create": db.render_create_statements,
        "inserts": db.render_sample_inserts,
        "compact": db.render_schema_with_examples,
    }[args.format]
    for db_id in db.list_databases():
        print(f"-- database: {db_id} ({db.engine_name})")
        print(render(db_id))
        print()
    return 0


def _run_pipeline(pipeline_cls: Any, cfg: RunConfig, *, command: str,
                  identity: dict[str, Any], database_manager: Any = None) -> int:
    """Claim the run folder, run, write ``final.jsonl``; NO_RESULT when no row survived."""
    import time

    from sqlsynth.errors import ExitCode
    from sqlsynth.factory import make_executor
    from sqlsynth.run_folder import claim

    claim(cfg.out, command, {"pipeline": pipeline_cls.__name__, **identity})
    if cfg.shard:
        _run_one_shard(pipeline_cls, cfg)
        return ExitCode.OK
    started = time.time()
    pipeline = pipeline_cls(config=cfg, database_manager=database_manager)
    try:
        pipeline.forward(make_executor(cfg))
    finally:
        final = close_run(pipeline, cfg, started)
    if not _count_lines(final):
        rejects = Path(cfg.out) / f"{cfg.file_name_prefix}_rejects.jsonl"
        why = f"; why rows were dropped: {rejects}" if rejects.exists() else ""
        print(f"warning: the run produced 0 final rows{why}", file=sys.stderr)
        return ExitCode.NO_RESULT
    return ExitCode.OK


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def _checked_endpoints(cfg: RunConfig, *, chat: bool = True, embeddings: bool = True
                       ) -> RunConfig:
    """Preflight: every endpoint the command needs answers, before the first paid call."""
    from sqlsynth.preflight import preflight

    cfg, notes = preflight(cfg, chat=chat, embeddings=embeddings)
    for note in notes:
        print(f"endpoint ok: {note}", file=sys.stderr)
    return cfg


def _note_sources(cfg: RunConfig, *, refine: bool = False) -> Any:
    """Where SQL, questions and reasoning will come from; one line when ``auto`` chose the
    model-free path (``sqlsynth.pipelines.sources``)."""
    from sqlsynth.pipelines.sources import resolve_sources

    sources = resolve_sources(cfg, refine=refine)
    if not sources.endpoint and not refine:
        print(f"no --base-url: SQL from {sources.sql}, questions {sources.question}, "
              f"reasoning {sources.cot}; execution difficulty not measured", file=sys.stderr)
    if sources.note:
        print(f"note: {sources.note}", file=sys.stderr)
    return sources


def _note_bundled_databases(cfg: RunConfig) -> None:
    """One line when no database was named: the run uses the bundled example databases."""
    if not cfg.db:
        print("no --db given (nor db in sqlsynth.toml): using the bundled example databases",
              file=sys.stderr)


def _databases_with_data(cfg: RunConfig) -> Any:
    """The database manager, with databases that hold no rows left out (and said so)."""
    from sqlsynth.factory import make_database_manager, skip_empty_databases

    _note_bundled_databases(cfg)
    manager = make_database_manager(cfg)
    for db_id in skip_empty_databases(manager):
        print(f"skipping database {db_id!r}: it has no tables with rows", file=sys.stderr)
    return manager


def _data_identity(cfg: RunConfig) -> dict[str, Any]:
    """What makes a run over other data another run; a database URL without its password."""
    from sqlsynth.db.url import database_identity

    return {"db": database_identity(cfg.db) if cfg.db else BUNDLED,
            "db_ids": sorted(cfg.db_ids)}


def _run_one_shard(pipeline_cls: Any, cfg: RunConfig) -> None:
    from sqlsynth.executors.shard import ShardSpec, run_shard, shard_config

    spec = ShardSpec.parse(cfg.shard)
    folder = run_shard(pipeline_cls, shard_config(cfg, spec), spec).folder
    print(f"shard {spec.index}/{spec.count} done in {folder}; when every shard is done: "
          f"sqlsynth merge --out {cfg.out}", file=sys.stderr)


def cmd_merge(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    from sqlsynth.executors.shard import merge_shards

    cfg = make_config(args)
    merge_shards(args.out, prefix=cfg.file_name_prefix, cache_type=cfg.cache_type)
    final = write_final(Path(args.out), cfg.file_name_prefix, cfg.cache_type)
    print(f"final rows: {final}", file=sys.stderr)
    return 0


def cmd_generate(args: argparse.Namespace, make_config: ConfigMaker,
                 pipeline_cls: Any = None) -> int:
    from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline

    pipeline_cls = pipeline_cls or Text2SQLGeneration_APIPipeline
    cfg = make_config(args)
    manager = _databases_with_data(cfg)
    cfg = _checked_endpoints(cfg, embeddings=_note_sources(cfg).needs_embeddings)
    return _run_pipeline(pipeline_cls, cfg, command="generate",
                         identity=_data_identity(cfg), database_manager=manager)


def cmd_refine(args: argparse.Namespace, make_config: ConfigMaker,
               pipeline_cls: Any = None) -> int:
    from sqlsynth.pipelines import Text2SQLRefine_APIPipeline
    from sqlsynth.refine_input import parse_field_map, prepare_refine_input
    from sqlsynth.run_folder import claim

    pipeline_cls = pipeline_cls or Text2SQLRefine_APIPipeline
    cfg = make_config(args)
    if not cfg.input:
        raise ValueError("refine needs its input rows: --input FILE, or input in sqlsynth.toml")
    source = Path(cfg.input)
    if not source.is_file():
        raise FileNotFoundError(f"refine input not found: {cfg.input}")
    from sqlsynth.storage import InputFormatError
    from sqlsynth.storage.formats import iter_numbered_rows

    # the whole file is read once (streamed) before the run folder is claimed: a malformed
    # input is reported by its line, and touches no run folder
    if not sum(1 for _ in iter_numbered_rows(cfg.input, max_line_bytes=cfg.max_line_bytes)):
        raise InputFormatError(cfg.input, "the refine input has no rows (the file is empty)")
    identity = {**_data_identity(cfg), "input": str(source.resolve())}
    claim(cfg.out, "refine", {"pipeline": pipeline_cls.__name__, **identity})
    manager = _databases_with_data(cfg)
    prepared, notes = prepare_refine_input(
        source, Path(cfg.out), manager.list_databases(),
        parse_field_map(list(cfg.field_map or [])),
        db_label=cfg.db or "the bundled example databases")
    for note in notes:
        print(f"refine input: {note}", file=sys.stderr)
    cfg = _checked_endpoints(cfg, embeddings=_note_sources(cfg, refine=True).needs_embeddings)
    cfg = cfg.merged({"input": str(prepared)})
    return _run_pipeline(pipeline_cls, cfg, command="refine", identity=identity,
                         database_manager=manager)


def _rows_for_export(path: Path) -> list[dict[str, Any]]:
    from sqlsynth.storage import read_rows

    if not path.exists():
        # the readers treat an absent file as "no rows", which would export nothing, silently
        raise FileNotFoundError(f"export input not found: {path}")
    if path.is_dir():
        candidate = path / FINAL_FILE
        if not candidate.exists():
            raise FileNotFoundError(f"{path} has no {FINAL_FILE}; run generate/refine first")
        path = candidate
    return [final_row(r) for r in read_rows(path)]


def cmd_export(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    from sqlsynth.export import export_rows, push_to_hub

    if getattr(args, "push_to_hub", None) and args.format != "hf":
        raise ValueError("--push-to-hub needs --format hf")
    source = Path(args.input)
    rows = _rows_for_export(source)
    provenance = None
    if source.is_dir():
        from sqlsynth.viewer.provenance import provenance_of
        from sqlsynth.viewer.review import apply_review

        rows, dropped = apply_review(rows, source, keep_marks=getattr(args, "keep_review", False))
        if dropped:
            print(f"left out {dropped} rows marked 'reject' in review")
        provenance = provenance_of(source, rows)
    report = None
    if getattr(args, "decontaminate", None):
        rows, report = _decontaminated(args, source, rows, args.decontaminate)
    elif getattr(args, "benchmark", None):
        raise ValueError("--benchmark needs --decontaminate flag or drop")
    rl, manager = (_rl_settings(args, source) if args.format == "rl" else (None, None))
    dpo = _dpo_settings(args) if args.format == "dpo" else None
    try:
        summary = export_rows(rows, args.out, args.format, provenance=provenance,
                              license=getattr(args, "license", None) or "unknown",
                              quality_fields=not getattr(args, "drop_quality_fields", False),
                              rl=rl, database_manager=manager, dpo=dpo)
    finally:
        if manager is not None:
            manager.close()
    where = ", ".join(str(p) for p in summary.paths) or args.out
    if report is not None:
        print(_contamination_line(report))
    print(f"exported {summary.written} rows to {where} ({args.format})")
    if summary.skipped:
        print(f"skipped {summary.skipped}: {summary.reasons}")
    for note in summary.notes:
        print(f"note: {note}")
    if not summary.written:
        from sqlsynth.errors import ExitCode

        why = f" ({len(rows)} rows read, every one skipped)" if rows else \
            f" ({source} holds no rows)"
        print(f"warning: exported 0 rows{why}; nothing to train on", file=sys.stderr)
        return ExitCode.NO_RESULT
    if getattr(args, "push_to_hub", None):
        url = push_to_hub(args.out, args.push_to_hub, private=args.private)
        print(f"pushed {args.out} to {url}")
    return 0


def _run_database(args: argparse.Namespace, source: Path) -> str | None:
    """``--db``, else the database the run folder recorded (None: none known)."""
    db = getattr(args, "db", None)
    if db is None and source.is_dir():
        from sqlsynth.viewer.run_folder import RunFolder

        db = RunFolder.load(source).database()
    return db


def _decontaminated(args: argparse.Namespace, source: Path, rows: list[dict[str, Any]],
                    mode: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows checked against ``--benchmark`` (flagged or dropped) and the report."""
    from sqlsynth.db import DatabaseManager
    from sqlsynth.decontamination import (
        DecontaminationOptions,
        Decontaminator,
        decontaminate,
        load_benchmark,
        schema_reader,
    )

    specs = getattr(args, "benchmark", None) or []
    if not specs:
        raise ValueError("decontamination needs --benchmark PATH (e.g. the Spider dev folder)")
    benchmarks = []
    for spec in specs:
        name, sep, path = spec.partition("=")
        benchmarks.append(load_benchmark(path, name) if sep and name and not Path(spec).exists()
                          else load_benchmark(spec))
    for value, flag in ((args.question_threshold, "--question-threshold"),
                        (args.schema_threshold, "--schema-threshold")):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{flag} must be between 0 and 1, got {value}")
    if args.ngram < 1:
        raise ValueError(f"--ngram must be >= 1, got {args.ngram}")
    db = _run_database(args, source)
    manager = DatabaseManager.from_path_or_url(db) if db and "***" not in db else None
    try:
        options = DecontaminationOptions(
            question_threshold=args.question_threshold, ngram=args.ngram,
            schema_threshold=args.schema_threshold,
            sql_needs_schema=not args.sql_without_schema,
            dialect=manager.dialect if manager is not None else "sqlite")
        return decontaminate(rows, Decontaminator(benchmarks, options), mode,
                             schema_reader(manager) if manager is not None else None)
    finally:
        if manager is not None:
            manager.close()


def _contamination_line(report: dict[str, Any]) -> str:
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(report["by_kind"].items())) or "-"
    names = ", ".join(f"{b['name']} ({b['items']} items)" for b in report["benchmarks"])
    action = f", dropped {report['dropped']}" if report["mode"] == "drop" else ""
    return (f"decontamination against {names}: {report['flagged']} of {report['rows']} rows "
            f"overlap{action} (kinds: {kinds})")


def cmd_decontaminate(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    from sqlsynth.storage.atomic import write_bytes_atomic
    from sqlsynth.storage.formats import strict_json

    source = Path(args.input)
    rows = _rows_for_export(source)
    if args.out:
        out = Path(args.out)
    elif source.is_dir() and args.mode == "flag":
        out = source / FINAL_FILE
    else:
        raise ValueError("--out is needed (a run folder's final.jsonl is rewritten in place "
                         "only with --mode flag)")
    kept, report = _decontaminated(args, source, rows, args.mode)
    write_bytes_atomic(out, "".join(strict_json(r) + "\n" for r in kept).encode("utf-8"))
    report_path = Path(args.report) if args.report else out.parent / "contamination.json"
    write_bytes_atomic(report_path, (strict_json(report, indent=2) + "\n").encode("utf-8"))
    print(_contamination_line(report))
    print(f"wrote {len(kept)} rows to {out}; report: {report_path}")
    return 0


def _dpo_settings(args: argparse.Namespace) -> Any:
    from sqlsynth.training.dpo import DPO_LAYOUTS, DPOOptions

    layout = getattr(args, "layout", None) or "trl"
    if layout not in DPO_LAYOUTS:
        raise ValueError(f"--format dpo takes --layout {', '.join(DPO_LAYOUTS)}, not {layout}")
    return DPOOptions(layout=layout, pairs_per_row=getattr(args, "pairs_per_row", 1))


def _rl_settings(args: argparse.Namespace, source: Path) -> tuple[Any, Any]:
    """The RL export's options and the database its gold SQL runs on (None: none known)."""
    from sqlsynth.db import DatabaseManager
    from sqlsynth.training.rl import RLOptions, database_template

    band = getattr(args, "pass_rate_between", None)
    if band is not None and not 0.0 <= band[0] <= band[1] <= 1.0:
        raise ValueError(f"--pass-rate-between needs 0 <= LOW <= HIGH <= 1, got {band[0]} "
                         f"{band[1]}")
    db = _run_database(args, source)
    manager = DatabaseManager.from_path_or_url(db) if db and "***" not in db else None
    layout = getattr(args, "layout", None) or "verl"
    if layout not in ("verl", "trl"):
        raise ValueError(f"--format rl takes --layout verl or trl, not {layout}")
    options = RLOptions(layout=layout,
                        pass_rate_between=tuple(band) if band else None,
                        database=database_template(db),
                        dialect=manager.dialect if manager is not None else "sqlite")
    return options, manager


def cmd_view(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    from sqlsynth.viewer.app import serve

    return serve(args.run_dir, db=args.db, port=args.port, prices=args.prices,
                 query_timeout=args.query_timeout)


def cmd_report(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    from sqlsynth.viewer.card import write_card

    path = write_card(args.run_dir, args.out, args.prices)
    print(f"data card: {path}")
    print(f"review rows in the browser: sqlsynth view {args.run_dir}")
    return 0


def cmd_ask(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    from sqlsynth.cli.ask import run_ask
    from sqlsynth.run_folder import claim

    cfg = make_config(args)
    if not args.question and not args.questions:
        raise ValueError("ask: give a question, or --questions FILE")
    cfg = _checked_endpoints(cfg)
    claim(cfg.out, "ask", _data_identity(cfg) | {"db_ids": []})
    return run_ask(cfg, question=args.question, questions_file=args.questions,
                   out=args.answers, show_trace=args.trace, knowledge_file=args.knowledge,
                   as_json=args.json)


def cmd_eval(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    from sqlsynth.cli.eval import run_eval
    from sqlsynth.run_folder import claim

    cfg = make_config(args)
    if args.questions:
        cfg = _checked_endpoints(cfg)
        claim(cfg.out, "eval", _data_identity(cfg))
    return run_eval(cfg, pred=args.pred, gold=args.gold, questions=args.questions,
                    json_out=args.json_out, out=args.answers, flags=args)


def cmd_demo(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    """Synthesis on the bundled databases without a key, then an export.

    With no endpoint that is grammar SQL with canonical questions and reasoning (no model
    needed, so it works on the base install); the source flags choose otherwise."""
    from sqlsynth.export import export_rows
    from sqlsynth.pipelines import Text2SQLGeneration_APIPipeline

    out = Path(args.out)
    chosen = {key: getattr(args, key, None) for key in (
        "sql_source", "question_source", "cot_source", "paraphrase", "hardness_mix")}
    cfg = RunConfig(
        db="", out=str(out), generate_num=args.generate_num, base_url="",
        local_model_path=args.local_model_path,
        question_candidates=2, cot_samples=2, execution_generations=3, concurrency=1,
    ).merged({k: v for k, v in chosen.items() if v is not None})
    _note_sources(cfg)
    code = _run_pipeline(Text2SQLGeneration_APIPipeline, cfg, command="demo",
                         identity=_data_identity(cfg))
    final = out / FINAL_FILE
    rows = _rows_for_export(final)
    export_dir = out / "llamafactory"
    if export_dir.exists():
        shutil.rmtree(export_dir)
    summary = export_rows(rows, export_dir, "llamafactory-alpaca")
    print(f"demo: {len(rows)} final rows; LLaMA-Factory export: {summary.written} rows in {export_dir}")
    print(f"demo: edit {CONFIG_FILE_NAME} (sqlsynth init) to point at your databases and endpoint")
    return code


def cmd_config(args: argparse.Namespace, make_config: ConfigMaker) -> int:
    """``config show``: each effective value and where it came from."""
    from sqlsynth.config import KEY_HELP, toml_value

    loaded = make_config(args, with_sources=True)
    width = max(len(k) for k in KEY_HELP)
    if loaded.file is not None:
        print(f"# config file: {loaded.file}")
    cfg = loaded.config
    for key, value in vars(cfg).items():
        source = loaded.sources.get(key, "default")
        if key in ("model", "embedding_model") and not value and cfg.base_url:
            source += ", asked from the server's /models at run time"
        print(f"{key:<{width}} = {toml_value(value):<30}  # {source}")
    return 0
