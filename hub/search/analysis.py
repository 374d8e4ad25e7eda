"""Text analysis for mixed Chinese/English search, shared by indexing, querying and snippets.

Two token streams are made from one text:

* **words** — Chinese runs segmented by jieba (search mode: a long word also yields its dictionary
  sub-words), Latin words lower-cased and Porter-stemmed, SKU-like tokens (``SO-1001``,
  ``TEA-500G``: letters/digits joined by hyphens, with at least one digit) kept whole so that
  ``SO`` never matches ``SO-1002`` loosely.
* **cjk n-grams** — every CJK character (unigram) and every adjacent pair (bigram, at the
  position of its first character). A single character (``茶``) or a word jieba segments
  differently in another sentence still matches: a query run becomes a phrase of bigrams, which
  is an exact substring match.

Everything is NFKC-folded first (full-width ``ＳＯ－１００１`` → ``SO-1001``), one character at a
time so token offsets still point into the *original* text (snippets highlight the original).
The functions here are pure and whoosh-free; ``whoosh_backend`` wraps them as whoosh analyzers.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import jieba
from whoosh.lang.porter import stem as porter_stem

jieba.setLogLevel(logging.WARNING)
_jieba_lock = threading.Lock()

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
_LATIN = "0-9a-z\u00c0-\u024f"
TOKEN_RE = re.compile(rf"(?P<sku>[{_LATIN}]+(?:-[{_LATIN}]+)+)|(?P<word>[{_LATIN}]+(?:'[a-z]+)?)|(?P<cjk>[{_CJK}]+)")
CJK_RUN_RE = re.compile(rf"[{_CJK}]+")
_WORD_RE = re.compile(rf"[{_LATIN}]+")
# Combining marks and Hangul jamo can compose under NFKC (two characters become one).
_COMPOSING_RE = re.compile("[\u0300-\u036f\u1100-\u11ff\u3130-\u318f\u3099\u309a\u20d0-\u20ff\ufe20-\ufe2f]")


@dataclass(frozen=True)
class Normalized:
    """NFKC + lower-cased text and, per normalised character, its index in the original."""

    text: str
    origin: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) of normalised [start, end)."""
        return self.origin[start], self.origin[end - 1] + 1


@lru_cache(maxsize=8)
def normalize(value: str) -> Normalized:
    """Cached: indexing analyses each text twice (words and n-grams), right after each other."""
    if value.isascii():
        return Normalized(value.lower(), list(range(len(value))))
    folded = unicodedata.normalize("NFKC", value).lower()
    if len(folded) == len(value) and not _COMPOSING_RE.search(value):
        # Without composing characters each character folds to >= 1 character, so equal length
        # means one to one (the usual case: full-width forms) and offsets are unchanged.
        return Normalized(folded, list(range(len(value))))
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(value):
        folded = unicodedata.normalize("NFKC", char).lower() if ord(char) > 0x7F else char.lower()
        out.append(folded)
        origin.extend([index] * len(folded))
    return Normalized("".join(out), origin)


def fold(value: str) -> str:
    """Just the normalised text (for operator values, channel names…)."""
    return normalize(value).text


@lru_cache(maxsize=65536)
def stem_word(word: str) -> str:
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    # Only alphabetic words are stemmed: "500g" or "a4" are codes, not English.
    return porter_stem(word) if word.isalpha() else word


def _has_digit(value: str) -> bool:
    return any(c.isdigit() for c in value)


# Runs up to this length are memoised: chat repeats short runs (names, products, 已发货, 请确认)
# all the time, and jieba (a DAG + dynamic programme per run) was ~40 % of indexing CPU.
# Longer runs rarely repeat; leaving them out bounds the cache's memory (~10 MB at most).
SEGMENT_CACHE_RUN = 24


def segment(run: str, *, search_mode: bool) -> tuple[tuple[str, int, int], ...]:
    if len(run) <= SEGMENT_CACHE_RUN:
        return _segment_cached(run, search_mode)
    return _segment(run, search_mode)


@lru_cache(maxsize=65536)
def _segment_cached(run: str, search_mode: bool) -> tuple[tuple[str, int, int], ...]:
    return _segment(run, search_mode)


def _segment(run: str, search_mode: bool) -> tuple[tuple[str, int, int], ...]:
    # jieba's tokenizer keeps module-level state while it lazily loads its dictionary.
    with _jieba_lock:
        return tuple(jieba.tokenize(run, mode="search" if search_mode else "default"))


@dataclass(frozen=True)
class WordToken:
    term: str
    start: int  # offsets into the ORIGINAL text
    end: int
    cjk: bool = False


def word_tokens(value: str, *, search_mode: bool = True) -> list[WordToken]:
    """The words stream (see module doc). ``search_mode=False`` (queries) segments Chinese into
    the fewest words; an indexed text in search mode contains all of them."""
    norm = normalize(value)
    tokens: list[WordToken] = []
    for match in TOKEN_RE.finditer(norm.text):
        kind = match.lastgroup
        start = match.start()
        text = match.group()
        if kind == "sku" and _has_digit(text):
            tokens.append(WordToken(text, *norm.span(start, match.end())))
        elif kind == "word":
            tokens.append(WordToken(stem_word(text), *norm.span(start, match.end())))
        elif kind == "sku":
            # A hyphenated word without digits ("e-mail", "well-known") is ordinary words.
            for part in _WORD_RE.finditer(text):
                offset = start + part.start()
                tokens.append(WordToken(stem_word(part.group()), *norm.span(offset, start + part.end())))
        else:
            for word, s, e in segment(text, search_mode=search_mode):
                tokens.append(WordToken(word, *norm.span(start + s, start + e), cjk=True))
    return tokens


def ngram_tokens(value: str) -> Iterator[tuple[str, int]]:
    """(term, position) of CJK unigrams and bigrams. A bigram sits at the position of its first
    character, so the bigrams of a query run are consecutive positions (a phrase)."""
    norm = normalize(value).text
    pos = 0
    for match in CJK_RUN_RE.finditer(norm):
        run = match.group()
        for i, char in enumerate(run):
            yield char, pos
            if i + 1 < len(run):
                yield run[i : i + 2], pos
            pos += 1
        pos += 1  # a gap: no phrase spans two runs


def bigrams(run: str) -> list[str]:
    """The n-gram terms a query run must match in sequence (one term for 1–2 characters)."""
    if len(run) <= 2:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


@dataclass(frozen=True)
class QueryPiece:
    """One piece of a query word: Latin/SKU term(s) for the words field, or a CJK run."""

    terms: tuple[str, ...]  # words-field terms (stemmed Latin, SKU, or jieba words of a CJK run)
    cjk_run: str = ""  # non-empty: the run, matched as an n-gram substring


def query_pieces(value: str) -> list[QueryPiece]:
    """Split free text of a query into pieces, in order."""
    norm = normalize(value).text
    pieces: list[QueryPiece] = []
    for match in TOKEN_RE.finditer(norm):
        kind = match.lastgroup
        text = match.group()
        if kind == "sku" and _has_digit(text):
            pieces.append(QueryPiece((text,)))
        elif kind in ("sku", "word"):
            pieces.extend(QueryPiece((stem_word(p),)) for p in _WORD_RE.findall(text))
        else:
            words = tuple(w for w, _, _ in segment(text, search_mode=False))
            pieces.append(QueryPiece(words, cjk_run=text))
    return pieces
