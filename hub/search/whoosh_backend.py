"""``SearchBackend`` on whoosh-reloaded: one index directory per workspace.

Why the details below:

* whoosh allows one writer per directory (a lock file). ``writer()`` never waits for it
  (``timeout=0``) and raises ``IndexBusy`` instead, so a request or a second worker never blocks
  on the lock; the owner of the writer is the single indexer (``hub.search.indexer``).
* We never use ``AsyncWriter`` (pending work is lost on exit) nor a ``BufferedWriter`` shared
  between threads (it lost documents in tests here).
* The schema is pickled into the index by whoosh, so the analyzer classes must stay importable
  under these names; changing them means ``rebuild_search_index``.
* The permission filter is applied with whoosh's ``filter``/``mask`` (a bitset per search) and
  the operators are ANDed into the query, where the matcher can skip through postings.
"""

from __future__ import annotations

import logging
import shutil
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from whoosh import columns, fields, index, query, writing
from whoosh.analysis import Token, Tokenizer
from whoosh.codec import default_codec
from whoosh.index import LockError

from hub.search.analysis import bigrams, ngram_tokens, query_pieces, word_tokens
from hub.search.backend import Hit, HitPage, IndexBusy, IndexDoc, SearchFilters, SearchRequest
from hub.search.query import TextTerm

logger = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ACL_CACHE_SEGMENTS = 512
SEARCHERS_PER_THREAD = 32


def seconds(value: datetime) -> int:
    """Unsigned 32-bit epoch seconds (good until 2106): half the range terms of 64 bits."""
    return max(0, (value - _EPOCH) // timedelta(seconds=1))


def _tag(name: str, value: object) -> str:
    return f"{name}:{value}"


class WordTokenizer(Tokenizer):
    """The words stream of ``hub.search.analysis`` as a whoosh analyzer."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for pos, word in enumerate(word_tokens(value)):
            token.text = word.term
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = word.term
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar, token.endchar = start_char + word.start, start_char + word.end
            yield token


class CjkNgramTokenizer(Tokenizer):
    """CJK unigrams + bigrams (bigram at its first character's position)."""

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        items = [(value, 0)] if not tokenize else ngram_tokens(value)
        for text, pos in items:
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos
            yield token


def make_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),
        oid=fields.STORED(),
        version=fields.STORED(),
        # Every filterable attribute is a "name:value" token of this one field: whoosh's cost
        # per document grows with the number of fields (measured ~1.4x faster commits than one
        # field per attribute).
        tags=fields.KEYWORD(lowercase=False, scorable=False),
        created=fields.NUMERIC(numtype=int, bits=32, signed=False, sortable=True),
        # The acl keys again, as a per-document column: newest-first checks each matched
        # document against the asker's keys (a set lookup) instead of building a docnum set of
        # every readable document (200k entries for 200 conversations at 1M messages).
        aclcol=fields.COLUMN(columns.VarBytesColumn()),
        body=fields.TEXT(analyzer=WordTokenizer(), phrase=True),
        cjk=fields.TEXT(analyzer=CjkNgramTokenizer(), phrase=True),
    )


def _fields_of(doc: IndexDoc) -> dict[str, Any]:
    return {
        "id": doc.doc_id,
        "oid": doc.object_id,
        "version": doc.version,
        "tags": " ".join(
            [
                _tag("kind", doc.kind),
                _tag("in", doc.container_id),
                _tag("from", doc.author_id or 0),
                *(_tag("acl", key) for key in doc.acl),
                *(_tag("mention", u) for u in doc.mentions),
                *(_tag("has", h) for h in doc.has),
                *(_tag("is", flag) for flag in doc.flags),
            ]
        ),
        "created": seconds(doc.created_at),
        "aclcol": " ".join(doc.acl).encode(),
        "body": doc.text,
        "cjk": doc.text,
    }


def _codec() -> Any:
    """whoosh's default codec, minus per-block length statistics.

    With them on, flushing a segment reads every posting's document length back from the
    length column (~25 % of commit CPU here). They only tighten the upper score bound whoosh
    uses to skip blocks in relevance top-N; without them the bound is looser (still an upper
    bound, so results are the same). The per-document lengths BM25 scores with are still written.
    """
    codec = default_codec()
    codec.length_stats = False
    return codec


class _Writer:
    def __init__(self, writer: writing.SegmentWriter, clear: bool) -> None:
        self._writer = writer
        self._clear = clear

    def upsert(self, doc: IndexDoc) -> None:
        if self._clear:
            self._writer.add_document(**_fields_of(doc))
        else:
            self._writer.update_document(**_fields_of(doc))

    def delete(self, doc_id: str) -> None:
        if not self._clear:
            self._writer.delete_by_term("id", doc_id)

    def commit(self) -> None:
        self._writer.commit(mergetype=writing.CLEAR if self._clear else None)

    def cancel(self) -> None:
        self._writer.cancel()


# --- queries -----------------------------------------------------------------------------------


def _any_of(name: str, values: tuple[object, ...]) -> query.Query:
    terms = [query.Term("tags", _tag(name, v)) for v in values]
    return terms[0] if len(terms) == 1 else query.Or(terms)


def _text_query(term: TextTerm) -> query.Query | None:
    pieces = query_pieces(term.text)
    if not pieces:
        return None
    if term.phrase and len(pieces) > 1 and not any(p.cjk_run for p in pieces):
        return query.Phrase("body", [p.terms[0] for p in pieces])
    parts: list[query.Query] = []
    for piece in pieces:
        if not piece.cjk_run:
            parts.append(query.Term("body", piece.terms[0]))
            continue
        grams = bigrams(piece.cjk_run)
        # The n-gram phrase is an exact substring match: it finds single characters and words
        # jieba segments differently in the document. Word terms add ranking (and, unquoted,
        # also match the words apart from each other, like English words).
        ngram = query.Term("cjk", grams[0]) if len(grams) == 1 else query.Phrase("cjk", grams)
        if term.phrase:
            parts.append(ngram)
            continue
        words = [query.Term("body", w) for w in piece.terms]
        parts.append(query.Or([words[0] if len(words) == 1 else query.And(words), ngram]))
    return parts[0] if len(parts) == 1 else query.And(parts)


def compile_query(request: SearchRequest, *, dates: bool = True) -> query.Query:
    """The whoosh query. ``dates=False`` leaves the date range out (newest-first checks it on
    the ``created`` column instead: a ``NumericRange`` is an OR of many terms, costly to
    rebuild for every scan window)."""
    positive = [q for t in request.terms if not t.negated and (q := _text_query(t)) is not None]
    negative = [q for t in request.terms if t.negated and (q := _text_query(t)) is not None]
    f = request.filters
    clauses: list[query.Query] = list(positive)
    if f.kinds is not None:
        clauses.append(_any_of("kind", f.kinds))
    if f.containers is not None:
        clauses.append(_any_of("in", f.containers))
    if f.authors is not None:
        clauses.append(_any_of("from", f.authors))
    if f.mentions is not None:
        clauses.append(_any_of("mention", f.mentions))
    clauses.extend(query.Term("tags", _tag("has", h)) for h in f.has)
    clauses.extend(query.Term("tags", _tag("is", flag)) for flag in f.flags)
    if dates and (f.since is not None or f.until is not None):
        start = seconds(f.since) if f.since else None
        end = seconds(f.until) if f.until else None
        clauses.append(query.NumericRange("created", start, end, endexcl=True))
    main: query.Query = query.Every() if not clauses else clauses[0] if len(clauses) == 1 else query.And(clauses)
    negative.extend(_exclusions(f))
    if negative:
        main = query.AndNot(main, negative[0] if len(negative) == 1 else query.Or(negative))
    return main


def _exclusions(f: SearchFilters) -> list[query.Query]:
    excluded: list[query.Query] = []
    for name, values in (("in", f.not_containers), ("from", f.not_authors), ("mention", f.not_mentions)):
        if values:
            excluded.append(_any_of(name, values))
    excluded.extend(query.Term("tags", _tag("has", h)) for h in f.not_has)
    excluded.extend(query.Term("tags", _tag("is", flag)) for flag in f.not_flags)
    return excluded


def _impossible(f: SearchFilters) -> bool:
    empty = (f.allowed_acl, f.kinds, f.containers, f.authors, f.mentions)
    return any(values is not None and len(values) == 0 for values in empty)


FIRST_WINDOW = 1024


def _newest_first(
    searcher: Any,
    q: query.Query,
    allowed: frozenset[bytes] | None,
    denied: frozenset[bytes],
    want: int,
    span: tuple[int | None, int | None] = (None, None),
) -> tuple[list[int], int, bool]:
    """Newest-first without matching the whole index: returns (docnums, total, total exact?).

    Documents are added in time order (live traffic appends; a rebuild walks the messages by
    id), so higher docnums are newer. We match windows of docnums from the end — 1k docs, then
    4x larger each time — until ``want`` permitted hits are found, then sort those by
    ``created``. A common word at 1M messages thus touches only the newest few thousand
    documents instead of every match. When the scan stops early the total is extrapolated
    from the permitted hits (never from the unfiltered index, which would leak).
    Known approximation: a document re-indexed out of order (an edited old message) is
    ranked by its ``created`` only among the windows scanned.
    """
    found: list[tuple[int, int]] = []  # (created, global docnum)
    since, until = span
    scanned = 0
    total_docs = searcher.doc_count_all()
    window = FIRST_WINDOW
    for sub, offset in reversed(searcher.leaf_searchers()):
        high = sub.doc_count_all()
        if high == 0:
            continue  # an empty index has an EmptyReader without columns
        created = sub.reader().column_reader("created")
        acl = sub.reader().column_reader("aclcol")
        while high > 0 and len(found) < want:
            low = max(0, high - window)
            matcher = q.matcher(sub)
            if low and matcher.is_active():
                matcher.skip_to(low)
            while matcher.is_active():
                local = matcher.id()
                if local >= high:
                    break
                docnum = local + offset
                if allowed is not None or denied:
                    keys = acl[local].split()
                    permitted = (allowed is None or any(k in allowed for k in keys)) and not any(
                        k in denied for k in keys
                    )
                else:
                    permitted = True
                if permitted:
                    when = created[local]
                    if (since is None or when >= since) and (until is None or when < until):
                        found.append((when, docnum))
                matcher.next()
            scanned += high - low
            high = low
            window *= 4
        if len(found) >= want:
            break
    found.sort(reverse=True)
    exact = scanned >= total_docs
    total = len(found) if exact else max(len(found), round(len(found) * total_docs / max(scanned, 1)))
    return [docnum for _, docnum in found], total, exact


class WhooshBackend:
    def __init__(self, root: Path | None = None) -> None:
        self._root = Path(root) if root is not None else None
        self._lock = threading.Lock()
        self._local = threading.local()
        # segment id (random, unique across indexes) -> acl key -> local docnums
        self._acl_cache: dict[str, dict[str, array[int]]] = {}

    @property
    def root(self) -> Path:
        return self._root or Path(settings.SEARCH_INDEX_DIR)

    def path(self, workspace_id: int) -> Path:
        return self.root / str(int(workspace_id))

    def _open(self, workspace_id: int, *, create: bool) -> index.Index | None:
        path = self.path(workspace_id)
        # Creating is serialised: two threads creating the same empty index would clobber it.
        with self._lock:
            if index.exists_in(str(path)):
                return index.open_dir(str(path))
            if not create:
                return None
            path.mkdir(parents=True, exist_ok=True)
            return index.create_in(str(path), make_schema())

    def writer(self, workspace_id: int, *, clear: bool = False) -> _Writer:
        ix = self._open(workspace_id, create=True)
        assert ix is not None
        if set(ix.schema.names()) != set(make_schema().names()):
            # An index written by an older schema cannot take new documents. Start afresh; the
            # documents come back with rebuild_search_index (which lands here with clear=True).
            logger.warning("search index of workspace %s has an old schema: recreated, rebuild it", workspace_id)
            with self._lock:
                ix = index.create_in(str(self.path(workspace_id)), make_schema())
        try:
            raw = ix.writer(timeout=0.0, limitmb=256 if clear else 64, codec=_codec())
        except LockError as exc:
            raise IndexBusy(f"search index of workspace {workspace_id} is being written") from exc
        return _Writer(raw, clear)

    def _searcher(self, workspace_id: int) -> Any:
        """A per-thread searcher, refreshed when the index changed (reopening is costly).

        At most ``SEARCHERS_PER_THREAD`` stay open per thread (least recently used go first):
        each holds file handles, and a cloud host serves thousands of workspaces."""
        cache: OrderedDict[str, Any] = self._local.__dict__.setdefault("searchers", OrderedDict())
        key = str(self.path(workspace_id))
        searcher = cache.get(key)
        if searcher is not None:
            cache.move_to_end(key)
            try:
                if searcher.up_to_date():
                    return searcher
            except OSError:
                pass  # the directory was dropped or replaced: open afresh
            # Not ``searcher.refresh()``: its segment-reader reuse double-counted documents after
            # a rebuild (CLEAR commit) in tests here. Reopening costs ~1 ms per commit.
            searcher.close()
            del cache[key]
        ix = self._open(workspace_id, create=False)
        if ix is None:
            return None
        cache[key] = ix.searcher()
        while len(cache) > SEARCHERS_PER_THREAD:
            _, oldest = cache.popitem(last=False)
            oldest.close()
        return cache[key]

    def search(self, workspace_id: int, request: SearchRequest) -> HitPage:
        f = request.filters
        if _impossible(f):
            return HitPage()
        searcher = self._searcher(workspace_id)
        if searcher is None:
            return HitPage()
        newest = request.order == "newest" or not any(not t.negated for t in request.terms)
        q = compile_query(request, dates=not newest)
        want = request.offset + request.limit
        if newest:
            span = (seconds(f.since) if f.since else None, seconds(f.until) if f.until else None)
            allowed = frozenset(k.encode() for k in f.allowed_acl) if f.allowed_acl is not None else None
            denied = frozenset(k.encode() for k in f.denied_acl)
            docnums, total, exact = _newest_first(searcher, q, allowed, denied, want, span)
            page = docnums[request.offset : want]
            hits = [self._hit(searcher, d, 0.0) for d in page]
            return HitPage(hits=hits, total=total, total_exact=exact)
        # Relevance must score every match anyway, so whoosh's docnum-set filter fits here.
        allow = self._docset(searcher, f.allowed_acl) if f.allowed_acl is not None else None
        mask = self._docset(searcher, f.denied_acl) if f.denied_acl else None
        results = searcher.search(q, limit=want, filter=allow, mask=mask)
        # len() is exact and counts only permitted documents; ``estimated_length`` would not
        # apply the permission filter and so would leak how much the asker cannot read.
        total = len(results)
        hits = [self._hit(searcher, hit.docnum, float(hit.score or 0.0)) for hit in results[request.offset : want]]
        return HitPage(hits=hits, total=int(total))

    @staticmethod
    def _hit(searcher: Any, docnum: int, score: float) -> Hit:
        stored = searcher.stored_fields(docnum)
        return Hit(
            doc_id=stored["id"],
            kind=str(stored["id"]).split(":", 1)[0],
            object_id=int(stored["oid"]),
            score=score,
            version=str(stored.get("version", "")),
        )

    def _docset(self, searcher: Any, keys: tuple[str, ...]) -> set[int]:
        """Global docnums of documents carrying any of the acl ``keys``.

        whoosh would rebuild this bitset from the postings on every search (~25 ms for 200
        conversations at 5k docs, growing with the index). Segments are immutable, so the docnums
        per (segment, key) are cached and survive commits; only new small segments are read.
        Deleted documents may stay in the cached lists: the query itself never matches them.
        """
        docs: set[int] = set()
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            segment = getattr(reader, "_segment", None)
            cache = self._acl_cache.setdefault(segment.segment_id(), {}) if segment is not None else {}
            for key in keys:
                local = cache.get(key)
                if local is None:
                    term = _tag("acl", key)
                    ids = reader.postings("tags", term).all_ids() if ("tags", term) in reader else ()
                    local = cache[key] = array("I", ids)
                if offset:
                    docs.update(d + offset for d in local)
                else:
                    docs.update(local)
        if len(self._acl_cache) > ACL_CACHE_SEGMENTS:
            live = {getattr(sub.reader(), "_segment", None) for sub, _ in searcher.leaf_searchers()}
            live_ids = {seg.segment_id() for seg in live if seg is not None}
            for segment_id in [k for k in self._acl_cache if k not in live_ids][: len(self._acl_cache) // 2]:
                self._acl_cache.pop(segment_id, None)
        return docs

    def doc_versions(self, workspace_id: int) -> dict[str, str]:
        ix = self._open(workspace_id, create=False)
        if ix is None:
            return {}
        with ix.searcher() as searcher:
            return {fields_["id"]: str(fields_.get("version", "")) for fields_ in searcher.all_stored_fields()}

    def doc_count(self, workspace_id: int) -> int:
        ix = self._open(workspace_id, create=False)
        return 0 if ix is None else int(ix.doc_count())

    def index_bytes(self, workspace_id: int) -> int:
        path = self.path(workspace_id)
        return sum(p.stat().st_size for p in path.glob("*") if p.is_file()) if path.exists() else 0

    def drop(self, workspace_id: int) -> None:
        cache: OrderedDict[str, Any] = self._local.__dict__.get("searchers", OrderedDict())
        searcher = cache.pop(str(self.path(workspace_id)), None)
        if searcher is not None:
            searcher.close()
        shutil.rmtree(self.path(workspace_id), ignore_errors=True)
