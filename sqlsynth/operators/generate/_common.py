"""What the generation operators share: row checks, guarded LLM calls and schema text.

LLM failures split in two: ``LLMUnavailableError`` (no request can succeed) propagates and
stops the run with one message; any other failure concerns one request, so the row it served
is rejected with the reason and the run goes on.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from sqlsynth.llm.errors import LLMUnavailableError
from sqlsynth.operators.base import Operator, Reject, Row
from sqlsynth.prompts.base import chat_messages
from sqlsynth.prompts.grammars import grammar_of
from sqlsynth.sql import SQLParseError, parse_single

_SEED_RANGE = 2**31 - 1


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def draw_llm_seed(rng: random.Random) -> int:
    """A request seed drawn from the row's generator, so reruns send identical requests."""
    return rng.randrange(_SEED_RANGE)


def clip(text: str, limit: int = 200) -> str:
    """A short, one-line excerpt of a model answer for a reject's detail."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


async def achat_or_reject(llm: Any, messages: list[dict], **kwargs: Any) -> list[str] | Reject:
    """``llm.achat(messages, **kwargs)``; a per-request failure becomes ``Reject("llm_error")``."""
    try:
        return list(await llm.achat(messages, **kwargs))
    except LLMUnavailableError:
        raise
    except Exception as exc:  # noqa: BLE001 - one request failed: reject the row, go on
        return Reject("llm_error", f"{type(exc).__name__}: {exc}")


def normalized_sql(sql: str, dialect: str) -> str:
    """Canonical formatting (keyword case, whitespace, quoting) keeping every literal."""
    try:
        return parse_single(sql, dialect).sql(dialect=dialect or None, comments=False)
    except SQLParseError:
        return _folded(sql)
    except Exception:  # noqa: BLE001 - sqlglot generation errors on exotic trees
        return _folded(sql)


def _folded(sql: str) -> str:
    """Whitespace-folded text: the dedup form of SQL that sqlglot cannot handle."""
    return " ".join(sql.split()).rstrip(";").rstrip()


class SchemaTexts:
    """Per-database prompt texts from the database manager, rendered once per operator."""

    def __init__(self, database_manager: Any) -> None:
        self._db = database_manager
        self._memo: dict[tuple, str] = {}

    def get(self, method: str, db_id: str, **kwargs: Any) -> str:
        key = (method, db_id, tuple(sorted(kwargs.items())))
        if key not in self._memo:
            self._memo[key] = getattr(self._db, method)(db_id, **kwargs)
        return self._memo[key]


class GenerateOperator(Operator):
    """Base of the generation operators: input checks, schema text and the LLM request."""

    def __init__(
        self,
        database_manager: Any,
        prompt_template: Any,
        *,
        llm_serving: Any = None,
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
        return await achat_or_reject(
            self.llm_serving,
            chat_messages(self.prompt_template, user_text),
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
        missing = missing_fields(row, self.required_input_keys())
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

    def schema_text(self, method: str, db_id: str, **kwargs: Any) -> str | Reject:
        try:
            return self.schema_texts.get(method, db_id, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a broken database rejects its rows only
            return Reject("schema_error", f"db_id {db_id!r}: {type(exc).__name__}: {exc}")


def missing_fields(row: Row, keys: Iterable[str]) -> Reject | None:
    for key in keys:
        if is_blank(row.get(key)):
            return Reject("missing_field", f"field {key!r} is missing or empty")
    return None
