"""``Text2SQLCorrespondenceFilter``: an LLM judge of whether question and SQL agree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlsynth.llm.errors import LLMError, LLMUnavailableError
from sqlsynth.operators.base import Operator, Reject, Row, RowOutcome, StepContext
from sqlsynth.operators.filter.decision import canonical_verified, verified_upstream
from sqlsynth.operators.helpers import check_row, clip
from sqlsynth.operators.quality import JUDGE_VERDICT, with_check
from sqlsynth.prompts.base import chat_messages
from sqlsynth.prompts.correspondence import Text2SQLCorrespondenceFilterPrompt, parse_verdict
from sqlsynth.prompts.fit import budget_of
from sqlsynth.prompts.grammars import grammar_of

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel

_SEED_RANGE = 2**31 - 1


class Text2SQLCorrespondenceFilter(Operator):
    """Keeps a row when an LLM judge answers that its SQL answers its question on this schema.

    The judge must end its answer with exactly one ``VERDICT: YES`` / ``VERDICT: NO`` line
    (see ``sqlsynth.prompts.correspondence``); it is asked at temperature 0 with a seed
    derived from the row, so reruns hit the response cache; the template's ``output_grammar``
    constrains the answer to that format where the backend supports it.

    With ``defer_no=True`` (the pipelines set it when the round trip runs) a NO is evidence,
    not a veto: the row goes on with ``judge_verdict`` ``no`` and the judge's reason in
    ``judge_reason``, and ``Text2SQLRoundTripFilter`` decides (a round trip that reaches the
    row's result overrules it; otherwise the row is rejected there as ``judged_inconsistent``).

    Input columns:
        - SQL (str): the query (``input_sql_key``, default ``SQL``).
        - question (str): the question (``input_question_key``, default ``question``).
        - db_id (str): the database (``input_db_id_key``, default ``db_id``).
        - evidence (str, optional): the hint (``input_evidence_key``, default ``evidence``).
    Output columns:
        - judge_verdict (str): ``"yes"`` on kept rows; ``"no"`` on rows passed on by
          ``defer_no`` (``output_verdict_key``, default ``judge_verdict``).
        - judge_reason (str): the judge's reason for a deferred NO.
        - checks_passed (list[str]): ``"judge"`` is appended (see ``sqlsynth.operators.quality``).
    Rows whose question is canonical (``question_source``) pass without a request, with
    ``verification_rule`` / ``verification_level`` saying why; a verified paraphrase passes
    as the paraphrase step left it (``verified_upstream``).

    Reject reasons:
        - ``judged_inconsistent``: the judge answered NO (detail: the judge's reason); with
          ``defer_no`` the round-trip step rejects instead, unless it overrules the NO.
        - ``prompt_too_long``: the prompt exceeds the model's context even with the schema cut
          to the tables the row names.
        - ``unparseable_verdict``: no verdict line (detail: the end of the answer).
        - ``llm_error``: the request failed (``LLMUnavailableError`` stops the run instead).
        - ``missing_field``: ``SQL``, ``question`` or ``db_id`` is missing or empty.
        - ``unknown_db_id``: no such database.
        - ``schema_error``: the database's schema cannot be rendered.
    Example:
        >>> op = Text2SQLCorrespondenceFilter(llm_serving=llm, database_manager=db)
        >>> op.run(storage=storage.step(), input_sql_key="SQL", input_question_key="question")
    """

    default_keys: ClassVar[dict[str, str]] = {
        "input_sql_key": "SQL",
        "input_db_id_key": "db_id",
        "input_question_key": "question",
        "input_evidence_key": "evidence",
        "output_verdict_key": JUDGE_VERDICT,
    }

    def __init__(self, llm_serving: ChatModel, database_manager: Database, prompt_template: Any = None,
                 *, max_tokens: int | None = None, defer_no: bool = False) -> None:
        super().__init__()
        self.llm_serving = llm_serving
        self.database_manager = database_manager
        self.prompt_template = prompt_template or Text2SQLCorrespondenceFilterPrompt()
        self.max_tokens = max_tokens
        self.defer_no = bool(defer_no)
        self._schemas: dict[str, str] = {}

    # not verdict-only: a kept row gains ``judge_verdict`` / ``checks_passed``, and running the
    # round-trip solver ahead of the judge would pay for rows the judge then rejects
    verdict_only: ClassVar[bool] = False

    def required_input_keys(self) -> list[str]:
        return [self.keys["input_sql_key"], self.keys["input_db_id_key"],
                self.keys["input_question_key"]]

    def _schema(self, db_id: str) -> str | Reject:
        if db_id not in self._schemas:
            try:
                self._schemas[db_id] = self.database_manager.render_schema_with_examples(db_id)
            except Exception as exc:  # noqa: BLE001 - a broken database rejects its rows only
                return Reject("schema_error", f"db_id {db_id!r}: {type(exc).__name__}: {exc}")
        return self._schemas[db_id]

    async def aprocess_row(self, row: Row, ctx: StepContext) -> RowOutcome:
        if verified_upstream(row):
            return [canonical_verified(row)]
        rejected = check_row(row, self.required_input_keys(), self.database_manager,
                             self.keys["input_db_id_key"])
        if rejected is not None:
            return rejected
        db_id = str(row[self.keys["input_db_id_key"]])
        schema = self._schema(db_id)
        if isinstance(schema, Reject):
            return schema
        from sqlsynth.operators.generate.base import fit_schema_text

        schema = fit_schema_text(self.database_manager, self.llm_serving, db_id, schema, " ".join(
            str(row.get(self.keys[k]) or "") for k in ("input_sql_key", "input_question_key",
                                                       "input_evidence_key")))
        user = self.prompt_template.build_prompt(
            engine=str(getattr(self.database_manager, "engine_name", "SQLite")),
            schema=schema,
            question=str(row[self.keys["input_question_key"]]),
            evidence=str(row.get(self.keys["input_evidence_key"]) or ""),
            sql=str(row[self.keys["input_sql_key"]]),
        )
        grammar = grammar_of(self.prompt_template)
        messages = chat_messages(self.prompt_template, user)
        budget = budget_of(self.llm_serving)
        if budget is not None and not budget.fits(messages):
            return Reject("prompt_too_long", f"{budget.messages_tokens(messages)} prompt tokens; "
                          f"the model's context of {budget.window} leaves {budget.limit}")
        try:
            answers = await self.llm_serving.achat(
                messages,
                n=1,
                temperature=0.0,
                max_tokens=self.max_tokens,
                seed=ctx.rng_for(row).randrange(_SEED_RANGE),
                **({"grammar": grammar} if grammar is not None else {}),
            )
        except LLMUnavailableError:
            raise
        except LLMError as exc:
            return Reject("llm_error", f"{type(exc).__name__}: {exc}")
        answer = answers[0] if answers else ""
        parse = getattr(self.prompt_template, "parse_verdict", parse_verdict)
        verdict = parse(answer)
        if verdict is None:
            return Reject("unparseable_verdict", clip(answer[-300:]))
        if not verdict.consistent:
            if self.defer_no:
                return [{**row, self.keys["output_verdict_key"]: "no",
                         "judge_reason": clip(verdict.reason, 500)}]
            return Reject("judged_inconsistent", clip(verdict.reason, 500))
        return [with_check(row, "judge",
                           **{self.keys["output_verdict_key"]: "yes"})]
