"""The base of the generation operators: input checks, schema text and the LLM request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlsynth.operators.base import Operator, Reject, Row
from sqlsynth.operators.helpers import SchemaTexts, achat_or_reject, missing_field
from sqlsynth.prompts.base import chat_messages
from sqlsynth.prompts.fit import budget_of, fit_schema
from sqlsynth.prompts.grammars import grammar_of

#: tokens kept for a prompt's instructions and fields besides the schema and the row's texts
PROMPT_ROOM = 400


def fit_schema_text(database_manager: Any, llm: Any, db_id: str, full: str, focus: str) -> str:
    """``full`` (the compact schema with examples), cut to ``llm``'s context when it would not
    fit beside ``focus`` (the row's texts): the tables ``focus`` names first, then their
    foreign-key neighbours, as ``ask`` cuts its prompts (``sqlsynth.prompts.fit``)."""
    budget = budget_of(llm)
    if budget is None:
        return full
    room = budget.limit - PROMPT_ROOM - budget.count(focus)
    if budget.count(full) <= room:
        return full
    from sqlsynth.db.schema import render_schema_with_examples

    engine = getattr(database_manager, "engine_name", "SQLite")
    schema = database_manager.get_schema(db_id)
    fitted, dropped = fit_schema(schema, focus, lambda candidate: budget.count(
        render_schema_with_examples(candidate, engine)) <= room)
    return render_schema_with_examples(fitted, engine) if dropped else full

if TYPE_CHECKING:
    from sqlsynth.db.protocol import Database
    from sqlsynth.llm.base import ChatModel


class GenerateOperator(Operator):
    """Base of the generation operators: input checks, schema text and the LLM request."""

    def __init__(
        self,
        database_manager: Database,
        prompt_template: Any,
        *,
        llm_serving: ChatModel | None = None,
        temperature: float = 0.8,
        max_tokens: int | None = None,
    ) -> None:
        super().__init__()
        self.database_manager = database_manager
        self.prompt_template = prompt_template
        self.llm_serving = llm_serving
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.schema_texts = SchemaTexts(database_manager)

    async def ask(self, user_text: str, *, n: int, seed: int,
                  grammar_attribute: str = "output_grammar") -> list[str] | Reject:
        """``n`` answers to the template's system message plus ``user_text``.

        The template's grammar (``grammar_attribute``), when it declares one, constrains the
        answer's format on backends that support it.
        """
        kwargs: dict[str, Any] = {}
        grammar = grammar_of(self.prompt_template, grammar_attribute)
        if grammar is not None:
            kwargs["grammar"] = grammar
        messages = chat_messages(self.prompt_template, user_text)
        budget = budget_of(self.llm_serving)
        if budget is not None and not budget.fits(messages):
            # a verdict on this prompt, known before sending: never an endpoint failure
            return Reject("prompt_too_long",
                          f"{budget.messages_tokens(messages)} prompt tokens; the model's "
                          f"context of {budget.window} leaves {budget.limit} for a prompt")
        return await achat_or_reject(
            self.llm_serving,
            messages,
            n=n,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=seed,
            **kwargs,
        )

    @property
    def dialect(self) -> str:
        return getattr(self.database_manager, "dialect", "sqlite")

    @property
    def engine_name(self) -> str:
        return getattr(self.database_manager, "engine_name", "SQLite")

    def check_row(self, row: Row, db_id_key: str) -> Reject | None:
        """Missing required fields first, then an unknown database."""
        missing = missing_field(row, self.required_input_keys())
        if missing is not None:
            return missing
        db_id = row[db_id_key]
        if not self.database_manager.database_exists(str(db_id)):
            return Reject("unknown_db_id", f"field {db_id_key!r}: no database {db_id!r}")
        return None

    def checked_schema(self, row: Row, db_id_key: str) -> str | Reject:
        """The compact schema (with example values) of a row that passes ``check_row``."""
        rejected = self.check_row(row, db_id_key)
        if rejected is not None:
            return rejected
        return self.schema_text("render_schema_with_examples", str(row[db_id_key]))

    def fitted_schema(self, row: Row, db_id_key: str, focus_keys: tuple[str, ...] = ()
                      ) -> str | Reject:
        """``checked_schema``, cut to the model's context when the whole one would not fit.

        The tables the row's texts (``focus_keys``: its SQL, question, evidence) name come
        first, then their foreign-key neighbours, as ``ask`` cuts its prompts
        (``sqlsynth.prompts.fit``). A prompt that still does not fit is rejected by ``ask``
        as ``prompt_too_long``.
        """
        full = self.checked_schema(row, db_id_key)
        if isinstance(full, Reject):
            return full
        focus = " ".join(str(row.get(key) or "") for key in focus_keys)
        return fit_schema_text(self.database_manager, self.llm_serving, str(row[db_id_key]),
                               full, focus)

    def schema_text(self, method: str, db_id: str, **kwargs: Any) -> str | Reject:
        try:
            return self.schema_texts.get(method, db_id, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a broken database rejects its rows only
            return Reject("schema_error", f"db_id {db_id!r}: {type(exc).__name__}: {exc}")
