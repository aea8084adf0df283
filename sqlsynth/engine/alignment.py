"""Knowledge alignment: for each keyword, the knowledge entry whose keyword is most similar.

Similarity is the cosine of embeddings (the paper's choice). Without an embedding model we
fall back to hashed character trigrams, which still ranks "California" next to "california"
and is deterministic; the trace says which was used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sqlsynth.engine.knowledge import KnowledgeEntry

_HASH_DIM = 1024


def char_ngram_vectors(texts: Sequence[str], n: int = 3) -> np.ndarray:
    """Bag of hashed character n-grams (padded, casefolded) per text."""
    out = np.zeros((len(texts), _HASH_DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        padded = f"  {' '.join(text.casefold().split())} "
        for j in range(len(padded) - n + 1):
            digest = hashlib.blake2b(padded[j : j + n].encode(), digest_size=4).digest()
            out[i, int.from_bytes(digest, "little") % _HASH_DIM] += 1.0
    return out


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    a_norm = np.linalg.norm(a, axis=1, keepdims=True)
    b_norm = np.linalg.norm(b, axis=1, keepdims=True)
    a = a / np.where(a_norm == 0, 1, a_norm)
    b = b / np.where(b_norm == 0, 1, b_norm)
    return a @ b.T


@dataclass(frozen=True)
class Choice:
    keyword: str
    entry: KnowledgeEntry
    similarity: float
    runner_ups: tuple[tuple[KnowledgeEntry, float], ...] = ()


def choose_entries(
    keywords: Sequence[str],
    entries: Sequence[KnowledgeEntry],
    similarity: np.ndarray,
    *,
    min_similarity: float,
    priority: dict[tuple, int] | None = None,
) -> tuple[list[Choice], list[dict]]:
    """Best entry per keyword (row of `similarity`), ties broken by `priority` (lower first).

    Ties are common: one question's probes may confirm several values for the same keyword,
    and they all carry that keyword. Keywords below `min_similarity` get nothing.
    """
    priority = priority or {}
    choices: list[Choice] = []
    skipped: list[dict] = []
    for i, keyword in enumerate(keywords):
        if not entries:
            skipped.append({"keyword": keyword, "reason": "knowledge table is empty"})
            continue
        scores = similarity[i]
        order = sorted(
            range(len(entries)),
            key=lambda j: (-round(float(scores[j]), 5), priority.get(entries[j].key(), 1 << 30), j),
        )
        best = order[0]
        if float(scores[best]) < min_similarity:
            skipped.append(
                {"keyword": keyword, "reason": f"best similarity {float(scores[best]):.3f} "
                 f"below {min_similarity}", "best": entries[best].to_dict()}
            )
            continue
        runner = tuple((entries[j], float(scores[j])) for j in order[1:3])
        choices.append(Choice(keyword, entries[best], float(scores[best]), runner))
    return choices, skipped
