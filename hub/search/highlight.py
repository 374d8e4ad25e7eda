"""Snippets: a window of the *current* text (from the database, not the index) around the first
match, HTML-escaped, with matches wrapped in ``<mark>`` — the only markup in the output."""

from __future__ import annotations

from html import escape

from hub.search.analysis import normalize, query_pieces, word_tokens
from hub.search.query import TextTerm

SNIPPET_CHARS = 160
LEAD_CHARS = 40


def _needles(terms: list[TextTerm]) -> tuple[set[str], set[str]]:
    words: set[str] = set()
    runs: set[str] = set()
    for term in terms:
        if term.negated:
            continue
        for piece in query_pieces(term.text):
            if piece.cjk_run:
                runs.add(piece.cjk_run)
            else:
                words.update(piece.terms)
    return words, runs


def match_spans(text: str, terms: list[TextTerm]) -> list[tuple[int, int]]:
    """Merged [start, end) spans of ``text`` that the query's positive terms match."""
    words, runs = _needles(terms)
    spans: list[tuple[int, int]] = []
    if words:
        spans.extend((t.start, t.end) for t in word_tokens(text) if not t.cjk and t.term in words)
    if runs:
        norm = normalize(text)
        for run in runs:
            at = norm.text.find(run)
            while at >= 0:
                spans.append(norm.span(at, at + len(run)))
                at = norm.text.find(run, at + len(run))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, terms: list[TextTerm], *, size: int = SNIPPET_CHARS) -> str:
    spans = match_spans(text, terms)
    start = max(0, spans[0][0] - LEAD_CHARS) if spans else 0
    end = min(len(text), start + size)
    if spans and spans[0][1] > end:  # a very long match still shows whole
        end = spans[0][1]
    out: list[str] = ["…" if start > 0 else ""]
    cursor = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[cursor:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        cursor = e
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append("…")
    return " ".join("".join(out).split("\n")) if "\n" in text else "".join(out)
