"""The token stream Spider's ``process_sql.tokenize`` produces, reimplemented.

Spider's parser does not read SQL with a SQL lexer: it swaps every ``'`` for ``"``, replaces
each quoted span by a placeholder, runs NLTK's English word tokenizer over the rest, lowercases
every token, puts the quoted spans back (case kept), and glues ``!``/``>``/``<`` to a following
``=`` token. What the official parser can read therefore depends on that word tokenizer, so the
convention has to reproduce it: ``a=b`` stays one token (no match), ``<>`` becomes ``<`` ``>``
(no match), ``IN (1,2)`` keeps ``1,2`` as one token, and so on.

The word splitting below follows the rules of NLTK's ``NLTKWordTokenizer`` (3.9/3.10) that can
fire on text without quote characters (by the time it runs, every ``'`` and ``"`` has become a
placeholder). NLTK's sentence splitter (Punkt), which ``word_tokenize`` runs first, is not
reproduced: it needs a trained model, and on SQL it can only matter where ``.``, ``?`` or ``!``
is followed by white space.
"""

from __future__ import annotations

import re

#: Rewrites applied in order, each padding some characters with spaces (NLTK's order).
_PADDING: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("([\u00ab\u201c\u2018\u201e]|`+)"), r" \1 "),          # opening quote marks
    (re.compile(r"([^.])(\.)([\])}>\u00bb\u201d\u2019 ]*)\s*$"), r"\1 \2 \3 "),  # last period
    (re.compile(r"([:,])([^\d])"), r" \1 \2"),                         # , or : before non-digit
    (re.compile(r"([:,])$"), r" \1 "),
    (re.compile(r"\.{2,}"), r" \g<0> "),                                # ellipsis
    (re.compile(r"[;@#$%&]"), r" \g<0> "),
    (re.compile("[\u2012-\u2015]"), r" \g<0> "),                         # dashes
    (re.compile(r"([^.])(\.)([\])}>]*)\s*$"), r"\1 \2\3 "),
    (re.compile(r"[?!]"), r" \g<0> "),
    (re.compile(r"[*]"), r" \g<0> "),
    (re.compile(r"[\][(){}<>]"), r" \g<0> "),                          # brackets
    (re.compile(r"--"), r" -- "),
)
_CLOSING_QUOTES = re.compile("([\u00bb\u201d\u2019])")
#: Words NLTK splits in two (MacIntyre's contractions without an apostrophe).
_SPLIT_WORDS = tuple(re.compile(p, re.IGNORECASE) for p in (
    r"\b(can)(not)\b", r"\b(gim)(me)\b", r"\b(gon)(na)\b", r"\b(got)(ta)\b",
    r"\b(lem)(me)\b", r"\b(wan)(na)(?=\s)",
))
_GLUE_BEFORE_EQ = ("!", ">", "<")


class SpiderTokenizeError(ValueError):
    """Spider's tokenizer rejects the text (an odd number of quote characters)."""


def word_split(text: str) -> list[str]:
    """Split quote-free text as NLTK's word tokenizer does (see the module docstring)."""
    for pattern, replacement in _PADDING:
        text = pattern.sub(replacement, text)
    text = " " + text + " "
    text = _CLOSING_QUOTES.sub(r" \1 ", text)
    text = re.sub(r"\s+", " ", text)
    for pattern in _SPLIT_WORDS:
        text = pattern.sub(r" \1 \2 ", text)
    return text.split()


def spider_tokens(sql: str) -> list[str]:
    """Tokens of ``sql`` as Spider's ``process_sql.tokenize`` returns them."""
    text = str(sql).replace("'", '"')
    quotes = [i for i, ch in enumerate(text) if ch == '"']
    if len(quotes) % 2:
        raise SpiderTokenizeError("unexpected quote")
    literals: dict[str, str] = {}
    # pairs are taken from the end: (q[-2], q[-1]), (q[-4], q[-3]), ...; positions are those of
    # the original text because every later span has already been replaced
    for k in range(len(quotes) - 1, 0, -2):
        start, end = quotes[k - 1], quotes[k]
        key = f"__val_{start}_{end}__"
        literals[key] = text[start:end + 1]
        text = text[:start] + key + text[end + 1:]
    tokens = [literals.get(tok.lower(), tok.lower()) for tok in word_split(text)]
    for pos in reversed([i for i, tok in enumerate(tokens) if tok == "="]):
        before = tokens[pos - 1]  # position -1 wraps to the last token, as in Spider
        if before in _GLUE_BEFORE_EQ:
            tokens = tokens[:pos - 1] + [before + "="] + tokens[pos + 1:]
    return tokens
