"""The whoosh backend on its own: newest-first windows, permission sets across segments, and
totals that never count what the asker may not read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub.search import whoosh_backend
from hub.search.backend import IndexBusy, IndexDoc, SearchFilters, SearchRequest
from hub.search.query import TextTerm
from hub.search.whoosh_backend import WhooshBackend

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _doc(i: int, conv: int, text: str = "订单 order") -> IndexDoc:
    return IndexDoc(
        doc_id=f"message:{i}",
        kind="message",
        object_id=i,
        acl=(f"conversation:{conv}",),
        container_id=conv,
        author_id=1,
        created_at=T0 + timedelta(minutes=i),
        text=text,
    )


def _fill(backend: WhooshBackend, docs: list[IndexDoc], per_commit: int) -> None:
    for start in range(0, len(docs), per_commit):
        writer = backend.writer(1)
        for doc in docs[start : start + per_commit]:
            writer.upsert(doc)
        writer.commit()


def _ids(backend: WhooshBackend, filters: SearchFilters, **kw: object) -> tuple[list[int], int, bool]:
    page = backend.search(1, SearchRequest(terms=(TextTerm("订单"),), filters=filters, **kw))  # type: ignore[arg-type]
    return [h.object_id for h in page.hits], page.total, page.total_exact


@pytest.mark.parametrize("window", [2, 4096])
def test_newest_first_across_windows_and_segments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int) -> None:
    monkeypatch.setattr(whoosh_backend, "FIRST_WINDOW", window)
    backend = WhooshBackend(tmp_path)
    _fill(backend, [_doc(i, conv=i % 3) for i in range(60)], per_commit=7)
    everyone = SearchFilters(allowed_acl=None)
    ids, total, exact = _ids(backend, everyone, limit=5)
    assert ids == [59, 58, 57, 56, 55]
    # Scanning stops once enough hits are found: the total is then an extrapolation.
    assert total == 60 if exact else 5 <= total <= 120
    assert _ids(backend, everyone, limit=100)[1:] == (60, True)  # everything scanned: exact
    relevance, relevance_total, _ = _ids(backend, everyone, limit=100, order="relevance")
    assert sorted(relevance) == list(range(60)) and relevance_total == 60
    page3 = _ids(backend, everyone, limit=5, offset=10)[0]
    assert page3 == [49, 48, 47, 46, 45]
    # Allow-list and mask give exactly the permitted documents, newest first.
    only0 = _ids(backend, SearchFilters(allowed_acl=("conversation:0",)), limit=100)[0]
    assert only0 == [i for i in range(59, -1, -1) if i % 3 == 0]
    not0 = _ids(backend, SearchFilters(allowed_acl=None, denied_acl=("conversation:0",)), limit=100)[0]
    assert not0 == [i for i in range(59, -1, -1) if i % 3 != 0]


def test_totals_only_count_permitted_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whoosh_backend, "FIRST_WINDOW", 4)
    backend = WhooshBackend(tmp_path)
    _fill(backend, [_doc(i, conv=0 if i < 3 else 1) for i in range(200)], per_commit=200)
    allowed = SearchFilters(allowed_acl=("conversation:0",))
    ids, total, _ = _ids(backend, allowed, limit=20)
    assert ids == [2, 1, 0] and total == 3
    ids, total, _ = _ids(backend, allowed, limit=20, order="relevance")
    assert sorted(ids) == [0, 1, 2] and total == 3


def test_updates_and_deletes_replace_documents(tmp_path: Path) -> None:
    backend = WhooshBackend(tmp_path)
    _fill(backend, [_doc(1, 0), _doc(2, 0)], per_commit=10)
    writer = backend.writer(1)
    writer.upsert(_doc(1, 0, text="退货"))
    writer.delete("message:2")
    writer.commit()
    assert _ids(backend, SearchFilters(allowed_acl=None))[0] == []
    assert backend.doc_versions(1) == {"message:1": ""}


def test_second_writer_is_refused_not_queued(tmp_path: Path) -> None:
    backend = WhooshBackend(tmp_path)
    first = backend.writer(1)
    with pytest.raises(IndexBusy):
        backend.writer(1)
    first.cancel()
    backend.writer(1).cancel()


def test_empty_or_missing_index_answers_nothing(tmp_path: Path) -> None:
    backend = WhooshBackend(tmp_path)
    assert _ids(backend, SearchFilters(allowed_acl=None)) == ([], 0, True)
    backend.writer(1).commit()  # an empty index
    assert _ids(backend, SearchFilters(allowed_acl=None))[0] == []
    assert _ids(backend, SearchFilters(allowed_acl=()))[0] == []


def test_an_index_with_an_old_schema_is_recreated(tmp_path: Path) -> None:
    from whoosh import fields, index

    (tmp_path / "1").mkdir()
    index.create_in(str(tmp_path / "1"), fields.Schema(id=fields.ID(unique=True, stored=True), acl=fields.KEYWORD()))
    backend = WhooshBackend(tmp_path)
    _fill(backend, [_doc(1, 0)], per_commit=1)
    assert _ids(backend, SearchFilters(allowed_acl=None))[0] == [1]


def test_open_searchers_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whoosh_backend, "SEARCHERS_PER_THREAD", 2)
    backend = WhooshBackend(tmp_path)
    for ws in (1, 2, 3):
        writer = backend.writer(ws)
        writer.upsert(_doc(ws, 0))
        writer.commit()
        page = backend.search(ws, SearchRequest(terms=(TextTerm("订单"),), filters=SearchFilters(allowed_acl=None)))
        assert [h.object_id for h in page.hits] == [ws]
    assert len(backend._local.searchers) == 2
    # The evicted workspace reopens transparently.
    page = backend.search(1, SearchRequest(terms=(TextTerm("订单"),), filters=SearchFilters(allowed_acl=None)))
    assert [h.object_id for h in page.hits] == [1]
