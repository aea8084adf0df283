"""The attack corpus (every `*.jsonl` in sqlsynth/testing/hostile_corpus) on all three engines.

Per engine: with the read-only account and with a privileged one (the explicit opt-out), and
with the server settings that change how SQL text is read switched on (MariaDB sql_mode
NO_BACKSLASH_ESCAPES/ANSI_QUOTES/..., PostgreSQL standard_conforming_strings = off) and off.
After every attack: data checksums, files on disk (MariaDB's secure_file_priv folder and
datadir, PostgreSQL's folder, the SQLite folder), server settings, and the worker
connection's session state are checked unchanged; nothing escapes execute/explain; every
statement returns within the limit plus a hang guard.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sqlsynth.db import DatabaseManager
from sqlsynth.testing.hostile import attacks_for, load_corpus
from tests.db import dataset
from tests.db.hostile_checks import Target, run_attack

LIMIT = 1.5
HANG_GUARD = LIMIT + 2.5  # the deadline is limit + ~0.7 s; the rest is slack for a busy machine


def make_target(kind: str, request: pytest.FixtureRequest, tmp_path: Path, *,
                privileged: bool = False) -> Target:
    kw = {"timeout": LIMIT, "per_db_concurrency": 1, "max_workers": 1}
    if kind == "sqlite":
        root = tmp_path / "sqlite"
        shutil.copytree(request.getfixturevalue("sqlite_root"), root)
        manager = DatabaseManager("sqlite", {"root_path": str(root)}, **kw)
        path = manager.engine.path_of(dataset.DB_ID)
        evil = tmp_path / "evil"
        evil.mkdir()
        return Target(kind, manager, sqlite_path=path, evil_dir=evil,
                      watched_dirs=[evil, root])
    server = request.getfixturevalue("mariadb_server" if kind == "mysql" else "postgres_server")
    manager = DatabaseManager(kind, server.config(privileged=privileged),
                              allow_privileged_account=privileged, **kw)
    if kind == "mysql":
        evil_dir = server.files_dir
        watched = [server.files_dir, server.data_dir()]
    else:
        evil_dir = server.workdir / "evil"
        evil_dir.mkdir(exist_ok=True)
        if _is_root():
            shutil.chown(evil_dir, "postgres", "postgres")
        watched = [evil_dir, server.data_dir()]
    return Target(kind, manager, server=server, evil_dir=evil_dir, watched_dirs=watched)


def _is_root() -> bool:
    import os

    return os.geteuid() == 0


def run_corpus(target: Target) -> list[str]:
    manager = target.manager
    try:
        assert manager.execute(dataset.DB_ID, "SELECT 1").ok  # worker and connection up
        baseline = target.snapshot()
        session = target.session_state()
        failures = []
        for attack in attacks_for(target.kind):
            outcome = run_attack(target, attack, LIMIT, baseline, session)
            problems = list(outcome.problems)
            for what, took in (("execute", outcome.elapsed), ("explain", outcome.explain_elapsed)):
                if took > HANG_GUARD:
                    problems.append(f"{what} took {took:.1f}s (limit {LIMIT}s)")
            if problems:
                failures.append(f"{attack.source} {attack.name}: " + "; ".join(problems))
                baseline, session = outcome.after, outcome.state  # judge the next one afresh
        return failures
    finally:
        manager.close()


def test_corpus_loads_and_covers_every_engine():
    attacks = load_corpus()
    assert len(attacks) >= 90
    for kind in ("sqlite", "mysql", "postgres"):
        assert len(attacks_for(kind)) >= 25


def test_corpus_on_sqlite(request, tmp_path):
    failures = run_corpus(make_target("sqlite", request, tmp_path))
    assert not failures, "\n".join(failures)


SERVER_CASES = [
    pytest.param(kind, privileged, traps, marks=marks, id=f"{kind}-{acct}-{'traps' if traps else 'plain'}")
    for kind in ("mysql", "postgres")
    for privileged, acct in ((False, "read_only"), (True, "privileged"))
    for traps in (True, False)
    for marks in [
        [pytest.mark.servers] + ([] if (not privileged and traps) else [pytest.mark.slow])
    ]
]


@pytest.mark.parametrize(("kind", "privileged", "traps"), SERVER_CASES)
def test_corpus_on_servers(kind, privileged, traps, request, tmp_path):
    server = request.getfixturevalue("mariadb_server" if kind == "mysql" else "postgres_server")
    server.set_lexical_traps(traps)
    try:
        failures = run_corpus(make_target(kind, request, tmp_path, privileged=privileged))
    finally:
        server.set_lexical_traps(False)
    assert not failures, "\n".join(failures)
