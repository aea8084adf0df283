"""Question overlap: word n-grams weighted by how rare they are among the benchmark's questions.

Text-to-SQL questions are short and templated ("What are the names of ..."), so a plain n-gram
overlap flags every question that shares the benchmark's phrasing. Each n-gram (n = 1 ... N)
is weighted by its inverse document frequency over the benchmark's questions, and the score of
a pair is the weight of the n-grams they share over the smaller side's total weight (the
overlap coefficient): 1.0 when one question's n-grams are all in the other, near 0 when they
share only stock phrasing. Values are one token - numbers, quoted text and capitalised names
inside the sentence (``singers from France older than 30`` ~ ``singers from Germany older
than 45``) - and a trailing plural ``s`` is dropped, so a changed literal does not hide an
overlap.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence

_WORD = re.compile(r"[A-Za-z0-9]+")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_SENTENCE_END = re.compile(r"[.?!:;]\s*$")
VALUE = "0"


def question_tokens(text: str) -> list[str]:
    """Lower-cased words, accents folded, a plural ``s`` dropped; values (numbers, quoted text,
    capitalised words after the first) as one ``0``.

    >>> question_tokens("How many singers from New York are older than 30?")
    ['how', 'many', 'singer', 'from', '0', 'are', 'older', 'than', '0']
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    folded = _QUOTED.sub(" 1 ", folded)
    out: list[str] = []
    first = True
    for match in _WORD.finditer(folded):
        word = match.group()
        starts = first or bool(_SENTENCE_END.search(folded[:match.start()]))
        first = False
        if word.isdigit() or (not starts and word[0].isupper() and word != "I"):
            if not out or out[-1] != VALUE:
                out.append(VALUE)
            continue
        word = word.lower()
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def ngrams(tokens: Sequence[str], max_n: int) -> set[tuple[str, ...]]:
    """Every word n-gram of ``tokens`` for n = 1 ... ``max_n``."""
    return {tuple(tokens[i:i + n]) for n in range(1, max_n + 1)
            for i in range(len(tokens) - n + 1)}


class QuestionIndex:
    """The benchmark's questions, for the best overlap of a new question.

    Example:
        >>> index = QuestionIndex(["How many singers do we have?", "List all song names."])
        >>> best = index.best("How many singers do we have in total?")
        >>> best[0], round(best[1], 2)
        (0, 0.54)
    """

    def __init__(self, questions: Sequence[str], max_n: int = 1) -> None:
        self.max_n = max_n
        self._grams = [ngrams(question_tokens(q or ""), max_n) for q in questions]
        df: Counter[tuple[str, ...]] = Counter()
        for grams in self._grams:
            df.update(grams)
        total = max(len(questions), 1)
        self._unseen = math.log(total + 1)  # an n-gram no benchmark question has
        self._idf = {g: math.log((total + 1) / (count + 1)) + 1e-3 for g, count in df.items()}
        self._postings: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, grams in enumerate(self._grams):
            for g in grams:
                self._postings[g].append(i)
        self._norm = [math.sqrt(sum(self._idf[g] ** 2 for g in grams)) for grams in self._grams]

    def __len__(self) -> int:
        return len(self._grams)

    def weight(self, gram: tuple[str, ...]) -> float:
        return self._idf.get(gram, self._unseen)

    def scores(self, question: str) -> dict[int, float]:
        """Cosine similarity with every benchmark question sharing an n-gram with it."""
        grams = ngrams(question_tokens(question or ""), self.max_n)
        if not grams:
            return {}
        norm = math.sqrt(sum(self.weight(g) ** 2 for g in grams))
        shared: dict[int, float] = defaultdict(float)
        for g in grams:
            for i in self._postings.get(g, ()):
                shared[i] += self._idf[g] ** 2
        return {i: w / (norm * self._norm[i]) for i, w in shared.items() if self._norm[i] > 0}

    def best(self, question: str) -> tuple[int, float] | None:
        """The most overlapping benchmark question (its position, score), or None."""
        scores = self.scores(question)
        if not scores:
            return None
        i = max(scores, key=lambda k: (scores[k], -k))
        return i, min(scores[i], 1.0)


__all__ = ["QuestionIndex", "ngrams", "question_tokens"]
