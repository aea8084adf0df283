"""Where each part of a row comes from: the ``auto`` settings resolved against the run.

With an endpoint a capable model writes SQL, questions and reasoning (the reference's path).
Without one the bundled local model cannot (issue 16: 0 verified rows from SmolLM2-135M), so
``auto`` turns to what needs no model: SQL sampled from the database (``SQLSampler``),
questions and reasoning written from the SQL (``CanonicalQuestionGenerator``,
``CanonicalCoTGenerator``). Resolved once per pipeline, from the config alone plus whether a
local model can run here, so a rerun resolves the same way and resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlsynth.config import RunConfig, parse_hardness_mix

#: ``sql_execution_difficulty_reason`` when no endpoint grades execution difficulty
NO_SOLVER = ("not measured: execution difficulty needs a capable solver model (an endpoint, "
             "--base-url); the local model is not spent on it")


@dataclass(frozen=True)
class Sources:
    """The resolved choices of one run (no ``auto`` left)."""

    sql: str  # llm | grammar | mixed
    question: str  # llm | canonical
    cot: str  # llm | canonical
    paraphrase: bool
    #: an endpoint answers (judge, round trip and execution difficulty are worth asking)
    endpoint: bool
    hardness_mix: dict[str, float] | None
    #: one line for the user on what ``auto`` chose where it matters (None: nothing to say)
    note: str | None = None

    @property
    def needs_chat(self) -> bool:
        """Whether any step asks a chat model."""
        return (self.endpoint or self.sql != "grammar" or self.question == "llm"
                or self.cot == "llm" or self.paraphrase)

    @property
    def needs_embeddings(self) -> bool:
        """Only LLM question generation ranks its candidates by embeddings."""
        return self.question == "llm"

    @property
    def measures_execution_difficulty(self) -> bool:
        return self.endpoint


def _local_chat_missing(cfg: RunConfig) -> str | None:
    from sqlsynth.llm import local

    # local_chat_missing comes with the fast-install change (issue 16 item 5); before it,
    # constructing LocalChat is the check
    missing = getattr(local, "local_chat_missing", None)
    return missing(cfg.local_model_path or None) if missing is not None else None


def resolve_sources(cfg: RunConfig, *, model_given: bool = False, refine: bool = False,
                    chat_missing: Callable[[RunConfig], str | None] | None = None
                    ) -> Sources:
    """``cfg``'s sources with ``auto`` decided; ``paraphrase = "on"`` without any model that
    can run here is a ``ValueError`` naming the key and the install command.

    ``model_given``: the caller handed the pipeline a chat model (the reference's Python API);
    it counts as an endpoint. ``refine``: the rows are the user's own SQL, which carries no
    canonical texts (only sampled SQL does), so ``auto`` stays the LLM path there and
    ``sql_source`` grammar / mixed adds sampled variations."""
    endpoint = bool(cfg.base_url) or model_given
    model_free = not endpoint and not refine
    sql = cfg.sql_source if cfg.sql_source != "auto" else ("grammar" if model_free else "llm")
    question = cfg.question_source if cfg.question_source != "auto" else \
        ("canonical" if model_free else "llm")
    cot = cfg.cot_source if cfg.cot_source != "auto" else ("canonical" if model_free else "llm")
    paraphrase, note = False, None
    if question == "canonical" and cfg.paraphrase != "off":
        if endpoint:
            paraphrase = True
        elif cfg.paraphrase == "on":
            missing = (chat_missing or _local_chat_missing)(cfg)
            if missing is not None:
                raise ValueError(f"paraphrase = \"on\" needs a model: no --base-url, and {missing}")
            paraphrase = True
        else:
            # auto without an endpoint: the bundled 135M model's paraphrases cost more time
            # than the demo's budget and rarely pass the checks (see the README)
            note = ("no --base-url: questions are canonical templates (correct, plain), not "
                    "paraphrased; --paraphrase on uses the local model, an endpoint writes "
                    "natural ones")
    return Sources(sql=sql, question=question, cot=cot, paraphrase=paraphrase,
                   endpoint=endpoint, hardness_mix=parse_hardness_mix(cfg.hardness_mix),
                   note=note)
