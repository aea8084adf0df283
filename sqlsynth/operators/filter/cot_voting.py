"""``Text2SQLCoTVotingGenerator``: keep one reasoning answer that reaches the row's answer,
and the graded candidates (``cot_candidates``) that preference pairs are made of."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, ClassVar

from sqlsynth.db.compare import comparable, query_orders_output, result_signature, results_match
from sqlsynth.db.result import ExecResult
from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.filter.decision import with_signals
from sqlsynth.operators.filter.reasoning_text import reasoning_problem
from sqlsynth.operators.helpers import clip, dialect_of, failed_execution, unknown_db
from sqlsynth.operators.quality import COT_CANDIDATES, COT_VOTE, ORIGINAL_SQL, ratio, with_check
from sqlsynth.sql import extract_sql, sql_meaning_key

if TYPE_CHECKING:
    from sqlsynth.db.neighbours import NeighbourDatabases
    from sqlsynth.db.protocol import Database

#: ``agree``: keep reasoning whose SQL returns the row's result (default); ``adopt_majority``:
#: take the majority's SQL, keep the original and re-check the question; ``replace``: the
#: pre-0.2 behaviour, the majority's SQL silently replaces the row's (kept for comparison)
COT_POLICIES = ("agree", "adopt_majority", "replace")


#: a candidate's verdict against the row's final answer: ``correct`` (same result),
#: ``wrong_result``, ``error`` (its SQL failed: ``error`` names the status), ``no_sql`` (no SQL
#: block), ``not_comparable`` (cut at the row cap: neither right nor wrong)
CANDIDATE_VERDICTS = ("correct", "wrong_result", "error", "no_sql", "not_comparable")


class Text2SQLCoTVotingGenerator(Operator):
    """Keeps one reasoning answer that reaches the row's answer, and grades every candidate.

    Each answer's final SQL block is executed (identical SQL once, all in one batch); only
    answers whose SQL runs to a complete result take part (one cut at the row cap cannot be
    compared, see ``comparable``). What happens next is the ``policy``:

    - ``agree`` (default): the row's ``SQL`` is executed too, and the kept reasoning is one whose
      SQL returns the same result (``results_match``, ordered when the row's SQL orders its
      output: the EX semantics of ``sqlsynth.db.compare``). The row's ``SQL`` is never changed.
      Among agreeing answers the vote decides: answers are grouped by their SQL's meaning
      (``sql_meaning_key``: the same query up to layout, aliases and literals),
      the largest group wins, a tie goes to the group holding the earliest answer, and the
      group's earliest answer is kept.
    - ``adopt_majority`` (opt-in, as OmniSQL does): the largest group of equal results wins
      (tie: the group with the earliest answer; its earliest answer is kept). When its SQL's
      result differs from the row's, the row takes that SQL, keeps the old one in
      ``original_SQL``, and is checked again by the ``recheck`` operators (e.g. the
      correspondence judge, the round-trip filter) against the adopted SQL.
    - ``replace``: the old behaviour, the majority's SQL replaces the row's with no check.

    With ``neighbours`` (a ``NeighbourDatabases``; ``agree`` only) an agreeing answer whose SQL
    differs in meaning key from the row's must also return the row's result on the database's
    neighbours (perturbed copies): a query that agrees by accident on the real data (an extra
    filter every stored row passes) is not kept; ``verification_signals["neighbours"]`` records
    the checked answers that held.

    With ``check_text=True`` (``agree`` only; the pipelines turn it on) an agreeing answer is
    kept only when its text agrees with its own SQL (``reasoning_text.reasoning_problem``: the
    prose names the tables and values the SQL uses and quotes no other value); another
    agreeing answer may be kept instead, and ``verification_signals["reasoning_text"]`` records
    how many passed.

    Input columns:
        - cot_responses (list[str]): the reasoning answers (``input_cot_responses_key``, default
          ``cot_responses``); dropped from the row.
        - db_id (str): the database (``input_db_id_key``, default ``db_id``).
        - SQL (str): the row's query (``input_sql_key``, default ``SQL``; not read by ``replace``).
    Output columns:
        - cot_reasoning (str): the kept answer (``output_cot_key``, default ``cot_reasoning``).
        - SQL (str): set only by ``adopt_majority`` (when adopting) and ``replace``
          (``output_sql_key``, default ``SQL``), in the guard's rendering.
        - original_SQL (str): the row's SQL before ``adopt_majority`` replaced it.
        - cot_candidates (list[dict]): every answer graded against the row's final result
          (the row's SQL; the adopted or majority SQL under ``adopt_majority``/``replace``):
          ``{text, sql, verdict, error, kept}``, verdict one of ``CANDIDATE_VERDICTS``; what
          ``sqlsynth export --format dpo`` pairs (ExCoT-style preference data).
        - cot_vote (str): ``agree`` and ``adopt_majority`` record the vote ("answers agreeing with
          the kept SQL / answers whose SQL ran", e.g. ``2/3``; ``output_vote_key``, default
          ``cot_vote``).
        - checks_passed (list[str]): ``cot_agrees_with_sql`` or ``cot_adopted_majority`` is
          appended.
    Reject reasons:
        - ``cot_disagrees_with_sql``: (``agree``) no agreeing answer; the detail shows what the
          majority answered.
        - ``cot_differs_on_neighbours``: (``neighbours``) answers agree on the real data only;
          a neighbour database tells their SQL apart from the row's.
        - ``cot_text_contradicts_sql``: (``check_text``) answers agree, but the text of each
          contradicts its SQL; the detail says how.
        - ``adopted_sql_<reason>``: (``adopt_majority``) a ``recheck`` operator rejected the
          adopted SQL with ``<reason>``; ``adopted_sql_dropped`` when it returned no row.
        - ``too_few_valid_candidates``: fewer than ``min_valid_candidates`` answers run to a
          complete result.
        - ``bad_cot_responses``: ``cot_responses`` is not a list.
        - ``unknown_db_id``: no such database.
        - ``syntax_error``, ``runtime_error``, ``timeout``, ...: the row's own SQL fails.
        - ``sql_not_comparable``: the row's result is cut at the row cap.
    Example:
        >>> op = Text2SQLCoTVotingGenerator(database_manager=db, policy="agree")
        >>> op.run(storage=storage.step(), input_cot_responses_key="cot_responses",
        ...        output_cot_key="cot_reasoning")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_cot_responses_key": "cot_responses",
        "input_db_id_key": "db_id",
        "input_sql_key": "SQL",
        "output_cot_key": "cot_reasoning",
        "output_sql_key": "SQL",
        "output_vote_key": COT_VOTE,
    }

    def __init__(self, database_manager: Database, *, min_valid_candidates: int = 1,
                 policy: str = "agree", recheck: Sequence[Operator] = (),
                 check_text: bool = False,
                 neighbours: NeighbourDatabases | None = None) -> None:
        super().__init__()
        if min_valid_candidates < 1:
            raise ValueError(f"min_valid_candidates must be >= 1, got {min_valid_candidates}")
        if policy not in COT_POLICIES:
            raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(COT_POLICIES)}")
        self.database_manager = database_manager
        self.min_valid_candidates = int(min_valid_candidates)
        self.policy = policy
        self.recheck = list(recheck)
        self.check_text = bool(check_text)
        self.neighbours = neighbours

    def required_input_keys(self) -> list[str]:
        keys = [self.keys["input_cot_responses_key"], self.keys["input_db_id_key"]]
        if self.policy != "replace":
            keys.append(self.keys["input_sql_key"])
        return keys

    async def aclose(self) -> None:
        await super().aclose()
        for op in self.recheck:
            await op.aclose()
        if self.neighbours is not None:
            self.neighbours.close()

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        responses_key = self.keys["input_cot_responses_key"]
        responses = row.get(responses_key)
        if not isinstance(responses, list):
            return Reject("bad_cot_responses",
                          f"field {responses_key!r} must be a list, got {type(responses).__name__}")
        db_id = str(row[self.keys["input_db_id_key"]])
        rejected = unknown_db(self.database_manager, db_id)
        if rejected is not None:
            return rejected

        gold_sql = None if self.policy == "replace" else str(row[self.keys["input_sql_key"]])
        candidates = [extract_sql(r) if isinstance(r, str) else None for r in responses]
        unique = list(dict.fromkeys(sql for sql in candidates if sql))
        batch = [(db_id, sql) for sql in unique] + ([(db_id, gold_sql)] if gold_sql else [])
        results = await self.database_manager.aexecute_many(batch)
        by_sql: dict[str, ExecResult] = dict(zip(unique, results))
        valid = sum(1 for sql in candidates if sql and comparable(by_sql[sql]))
        if valid < self.min_valid_candidates or valid == 0:
            errors = sorted({r.status.value if not r.ok else "truncated"
                             for r in results[:len(unique)] if not comparable(r)})
            return Reject(
                "too_few_valid_candidates",
                clip(f"{valid} of {len(responses)} answers have SQL that runs "
                     f"(need {self.min_valid_candidates}); failures: {', '.join(errors) or '-'}"),
            )
        dialect = dialect_of(self.database_manager)
        base = {k: v for k, v in row.items() if k != responses_key}
        if gold_sql is None:
            chosen = choose_by_vote(candidates, by_sql, dialect)
            assert chosen is not None  # valid > 0
            base[self.keys["output_sql_key"]] = self._stored(candidates[chosen])
            base[self.keys["output_cot_key"]] = responses[chosen]
            base[COT_CANDIDATES] = graded_candidates(responses, candidates, by_sql,
                                                     by_sql[candidates[chosen]], chosen,
                                                     dialect)
            return [base]

        gold = results[-1]
        if not gold.ok:
            return failed_execution(gold)
        if not comparable(gold):
            return Reject("sql_not_comparable", "the row's result is cut at the row cap")
        ordered = query_orders_output(gold_sql, dialect)
        agreeing = [i for i, sql in enumerate(candidates)
                    if sql and comparable(by_sql[sql])
                    and results_match(gold, by_sql[sql], ordered=ordered)]
        majority = choose_by_vote(candidates, by_sql, dialect)
        assert majority is not None  # valid > 0
        majority_agrees = majority in agreeing
        if self.policy == "adopt_majority" and not majority_agrees:
            return await self._adopt(base, responses, candidates, by_sql, majority, valid, ctx)
        if not agreeing:
            size = _group_size(candidates, by_sql, dialect, majority)
            return Reject(
                "cot_disagrees_with_sql",
                clip(f"0 of {valid} answers whose SQL ran return the row's result; the majority "
                     f"({size} of {valid}) answered {candidates[majority]!r}; row SQL: "
                     f"{gold_sql!r}", 600),
            )
        votes = len(agreeing)
        if self.neighbours is not None:
            own = sql_meaning_key(gold_sql, dialect)
            differ = [i for i in agreeing if sql_meaning_key(candidates[i], dialect) != own]
            held = []
            for i in differ:
                same = await self.neighbours.asame_meaning(db_id, gold_sql, candidates[i],
                                                           ordered=ordered)
                if same is False:
                    agreeing = [j for j in agreeing if j != i]
                else:
                    held.append(i)
            if not agreeing:
                return Reject("cot_differs_on_neighbours",
                              clip(f"{votes} of {valid} answers return the row's result here, "
                                   f"but a neighbour database tells their SQL apart from the "
                                   f"row's: {candidates[differ[0]]!r}", 600))
            if differ:
                base = with_signals(base, neighbours=ratio(len(held), len(differ)))
        if self.check_text:
            problems = {i: reasoning_problem(responses[i], dialect) for i in agreeing}
            coherent = [i for i in agreeing if problems[i] is None]
            if not coherent:
                return Reject("cot_text_contradicts_sql",
                              clip(f"{len(agreeing)} of {valid} answers return the row's result "
                                   f"but their text contradicts their SQL: "
                                   f"{problems[agreeing[0]]}", 600))
            base = with_signals(base, reasoning_text=ratio(len(coherent), len(agreeing)))
            agreeing = coherent
        chosen = choose_among_agreeing(candidates, agreeing, dialect)
        base[self.keys["output_cot_key"]] = responses[chosen]
        base[self.keys["output_vote_key"]] = ratio(votes, valid)
        base[COT_CANDIDATES] = graded_candidates(responses, candidates, by_sql, gold, chosen,
                                                 dialect, reference_sql=gold_sql)
        return [with_check(base, "cot_agrees_with_sql")]

    def _stored(self, sql: str | None) -> str | None:
        """SQL as stored: the guard's rendering when it differs (same tree as the reasoning's)."""
        canonical = getattr(self.database_manager, "canonical_sql", None)
        return (canonical(sql) if callable(canonical) and sql else None) or sql

    async def _adopt(self, base: Row, responses: list, candidates: list[str | None],
                     by_sql: dict[str, ExecResult], majority: int, valid: int,
                     ctx: StepContext) -> RowOutcome:
        """The ``adopt_majority`` policy when the majority's result is not the row's."""
        dialect = dialect_of(self.database_manager)
        sql_key = self.keys["output_sql_key"]
        adopted = {**base, ORIGINAL_SQL: base.get(self.keys["input_sql_key"]),
                   sql_key: self._stored(candidates[majority]),
                   self.keys["output_cot_key"]: responses[majority],
                   self.keys["output_vote_key"]: ratio(
                       _group_size(candidates, by_sql, dialect, majority), valid),
                   COT_CANDIDATES: graded_candidates(responses, candidates, by_sql,
                                                     by_sql[candidates[majority]], majority,
                                                     dialect)}
        rows: list[Row] = [adopted]
        for op in self.recheck:
            outcome = await op.aprocess_row(rows[0], ctx)
            if isinstance(outcome, Reject):
                return Reject(f"adopted_sql_{outcome.reason}",
                              clip(f"adopted {candidates[majority]!r}: {outcome.detail}", 600))
            if not outcome:
                return Reject("adopted_sql_dropped", f"{op.step_name} returned no row")
            rows = outcome
        return [with_check(rows[0], "cot_adopted_majority")]


def graded_candidates(responses: list, candidates: list[str | None],
                      results: dict[str, ExecResult], reference: ExecResult, kept: int,
                      dialect: str, *, reference_sql: str | None = None) -> list[dict]:
    """Each answer with its verdict against ``reference`` (the row's final result).

    Order matters as EX does: by ``reference_sql``'s ORDER BY when given, else by the kept
    answer's SQL's.
    """
    order_sql = reference_sql or candidates[kept]
    ordered = bool(order_sql) and query_orders_output(order_sql, dialect)
    graded = []
    for i, (text, sql) in enumerate(zip(responses, candidates)):
        error = None
        if not sql:
            verdict = "no_sql"
        elif not results[sql].ok:
            verdict, error = "error", results[sql].status.value
        elif not comparable(results[sql]):
            verdict = "not_comparable"
        elif results_match(reference, results[sql], ordered=ordered):
            verdict = "correct"
        else:
            verdict = "wrong_result"
        graded.append({"text": text if isinstance(text, str) else None, "sql": sql,
                       "verdict": verdict, "error": error, "kept": i == kept})
    return graded


def _group_size(candidates: list[str | None], results: dict[str, ExecResult], dialect: str,
                index: int) -> int:
    """How many answers return the same result as answer ``index``."""
    sql = candidates[index]
    assert sql is not None
    ordered = query_orders_output(sql, dialect)
    key = result_signature(results[sql], ordered=ordered)
    return sum(1 for other in candidates
               if other and comparable(results[other])
               and result_signature(results[other], ordered=ordered) == key)


def choose_among_agreeing(candidates: list[str | None], agreeing: list[int], dialect: str) -> int:
    """Among answers that all return the row's result, the earliest answer of the largest group
    of equal SQL meaning (``sql_meaning_key``); a tie goes to the group with the earliest
    answer."""
    groups: dict[str, list[int]] = {}
    for i in agreeing:
        sql = candidates[i]
        assert sql is not None
        groups.setdefault(sql_meaning_key(sql, dialect), []).append(i)
    best = min(groups.values(), key=lambda members: (-len(members), members[0]))
    return best[0]


def choose_by_vote(
    candidates: list[str | None], results: dict[str, ExecResult], dialect: str
) -> int | None:
    """Index of the majority's candidate, or None when no candidate's SQL ran.

    Deterministic: biggest group of equal results; a tie goes to the group whose first member
    comes first; the group's first member is chosen.
    """
    groups: dict[Hashable, list[int]] = {}
    for i, sql in enumerate(candidates):
        if not sql or not comparable(results[sql]):
            continue  # failed, or cut at the row cap: its answer cannot be compared
        key = result_signature(results[sql], ordered=query_orders_output(sql, dialect))
        groups.setdefault(key, []).append(i)
    if not groups:
        return None
    best = min(groups.values(), key=lambda members: (-len(members), members[0]))
    return best[0]
