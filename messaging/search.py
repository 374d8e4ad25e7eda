"""Messages in search: the document source (event log → index documents), the wake-up hook,
and the permission-filtered search read used by ``GET /api/v1/search``.

The queue is the event log itself: each conversation's gap-free ``seq`` is a durable, ordered
queue, and ``SearchCursor(source="messages", key=<conversation id>)`` is how far the index has
applied it. Events are only hints of *which* message changed: the document is always rebuilt
from the current row, so replaying, reordering or re-applying events cannot index stale text.

Results never show what the asker may not read *now*, even when the index lags: the index is
filtered by the conversations readable now (``access.readable_conversations``), and each hit on
the page is re-checked against the database (deleted, moved out of reach, edited since indexed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.db.models.signals import post_save
from django.dispatch import receiver

from hub.models import Member
from hub.search import indexer
from hub.search.analysis import fold
from hub.search.backend import Hit, HitPage, IndexDoc, Order, SearchFilters, SearchRequest
from hub.search.highlight import snippet
from hub.search.models import SearchCursor
from hub.search.query import ParsedQuery, parse_query
from hub.search.sources import PendingBatch, register_source
from messaging import access
from messaging.models import Attachment, Conversation, Event, Message
from messaging.serializers import iso

SOURCE = "messages"
KIND = "message"
PAGE_MAX = 50
LINK_RE = re.compile(r"https?://|www\.", re.IGNORECASE)
# Events that cannot change what a message's document contains.
_IGNORED_EVENTS = frozenset({"reaction.changed", "pin.changed"})

# has:record is decided by whoever knows records (crm_bridge registers a detector): it gets the
# messages of a batch and answers the ids of those that reference a record.
RecordDetector = Callable[[list[Message]], set[int]]
_record_detectors: list[RecordDetector] = []


def register_record_detector(detector: RecordDetector) -> None:
    if detector not in _record_detectors:
        _record_detectors.append(detector)


def unregister_record_detector(detector: RecordDetector) -> None:
    if detector in _record_detectors:
        _record_detectors.remove(detector)


def doc_id(message_id: int) -> str:
    return f"{KIND}:{message_id}"


def acl_key(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def message_version(message: Message) -> str:
    """Changes whenever the indexed *text* changes (an edit). Thread growth is deliberately not
    part of it: a root must not vanish from results for the seconds until its reindex."""
    return iso(message.edited_at) or ""


def build_docs(messages: list[Message]) -> list[IndexDoc]:
    """Index documents for live (not deleted) messages, with a constant number of queries."""
    ids = [m.pk for m in messages]
    names: dict[int, list[str]] = {}
    for message_id, name in Attachment.objects.filter(message_id__in=ids).values_list("message_id", "original_name"):
        names.setdefault(message_id, []).append(name)
    with_record: set[int] = set()
    for detector in _record_detectors:
        with_record |= detector(messages)
    docs = []
    for m in messages:
        files = names.get(m.pk, [])
        has = [
            flag
            for flag, on in (("file", files), ("link", LINK_RE.search(m.body)), ("record", m.pk in with_record))
            if on
        ]
        threaded = m.thread_root_id is not None or m.reply_count > 0
        docs.append(
            IndexDoc(
                doc_id=doc_id(m.pk),
                kind=KIND,
                object_id=m.pk,
                acl=(acl_key(m.conversation_id),),
                container_id=m.conversation_id,
                author_id=m.sender_id,
                created_at=m.created_at,
                # Attachment names are searchable too ("报价单.pdf").
                text="\n".join([m.body, *files]),
                mentions=tuple(m.mentions or ()),
                has=tuple(has),
                flags=("thread",) if threaded else (),
                version=message_version(m),
            )
        )
    return docs


def _message_ids(payload: dict[str, Any]) -> Iterator[int]:
    message = payload.get("message")
    if isinstance(message, dict) and isinstance(message.get("id"), int):
        yield message["id"]
    for key in ("message_id", "root_id"):
        if isinstance(payload.get(key), int):
            yield payload[key]


class MessageSource:
    name = SOURCE
    kind = KIND

    def _behind(self) -> Any:
        cursor = SearchCursor.objects.filter(source=SOURCE, key=OuterRef("pk")).values("position")[:1]
        return Conversation.objects.annotate(indexed=Coalesce(Subquery(cursor), 0)).filter(last_seq__gt=F("indexed"))

    def dirty_workspaces(self) -> list[int]:
        return list(self._behind().values_list("workspace_id", flat=True).distinct())

    def pending(self, workspace_id: int, limit: int) -> PendingBatch:
        batch = PendingBatch()
        touched: set[int] = set()
        read = 0
        for conversation_id, indexed in self._behind().filter(workspace_id=workspace_id).values_list("id", "indexed"):
            if read >= limit:
                break
            rows = Event.objects.filter(conversation_id=conversation_id, seq__gt=indexed).order_by("seq")
            last = indexed
            for seq, event_type, payload in rows.values_list("seq", "type", "payload")[: limit - read]:
                read += 1
                last = seq
                if event_type not in _IGNORED_EVENTS and isinstance(payload, dict):
                    touched.update(_message_ids(payload))
            if last > indexed:
                batch.cursors[conversation_id] = last
        if touched:
            live = list(
                Message.objects.filter(pk__in=touched, conversation__workspace_id=workspace_id, deleted_at__isnull=True)
            )
            batch.upserts = build_docs(live)
            batch.deletes = [doc_id(pk) for pk in sorted(touched - {m.pk for m in live})]
        return batch

    def log_positions(self, workspace_id: int) -> dict[int, int]:
        return dict(Conversation.objects.filter(workspace_id=workspace_id).values_list("id", "last_seq"))

    def _live(self, workspace_id: int) -> Any:
        return Message.objects.filter(conversation__workspace_id=workspace_id, deleted_at__isnull=True)

    def count(self, workspace_id: int) -> int:
        return int(self._live(workspace_id).count())

    def all_docs(self, workspace_id: int, chunk: int = 2000) -> Iterator[IndexDoc]:
        after = 0
        while True:
            rows = list(self._live(workspace_id).filter(pk__gt=after).order_by("pk")[:chunk])
            if not rows:
                return
            yield from build_docs(rows)
            after = rows[-1].pk

    def versions(self, workspace_id: int) -> dict[str, str]:
        rows = self._live(workspace_id).values_list("pk", "edited_at")
        return {doc_id(pk): iso(edited) or "" for pk, edited in rows}


register_source(MessageSource())


@receiver(post_save, sender=Event, dispatch_uid="search_wake_on_event")
def _wake_indexer(sender: Any, instance: Event, created: bool, **kwargs: Any) -> None:
    # After commit only: the indexer must see the event (and the rows it refers to).
    if created:
        transaction.on_commit(indexer.wake)


# --- the read ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchPage:
    results: list[dict[str, Any]]
    total: int
    total_exact: bool
    page: int
    limit: int


def user_time_zone(member: Member) -> ZoneInfo:
    try:
        return ZoneInfo(member.user.time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _people(member: Member, names: Iterable[str]) -> tuple[int, ...]:
    """User ids of workspace members called any of ``names`` (display name or email name;
    ``me`` is the asker). An unknown name matches nobody — it is not an error, which would tell
    a guest whether someone exists."""
    wanted = {fold(n) for n in names}
    ids = {member.user_id} if wanted & {"me", "我"} else set()
    rows = Member.objects.filter(workspace_id=member.workspace_id).values_list(
        "user_id", "user__display_name", "user__email"
    )
    for user_id, display_name, email in rows:
        if fold(display_name) in wanted or fold(email.split("@", 1)[0]) in wanted:
            ids.add(user_id)
    return tuple(sorted(ids))


def _channels(member: Member, names: Iterable[str]) -> tuple[int, ...]:
    """Readable conversations called any of ``names`` (an unreadable one never matches: its
    name must not be confirmed to exist)."""
    wanted = {fold(name) for name in names}
    named = access.readable_conversations(member).exclude(name="").values_list("id", "name")
    return tuple(sorted(pk for pk, name in named if fold(name) in wanted))


# --- kinds of results ---------------------------------------------------------------------------
#
# Messages, documents and record cards share the workspace's index. Each kind that appears in
# ``GET /api/v1/search`` registers a ``ResultKind`` (docs_collab and crm_bridge do, from above):
# per request it says which acl keys the asker holds and turns hits into results, dropping what
# the asker may no longer read (the index may lag; the database is the truth).


@dataclass(frozen=True)
class Grant:
    """The acl keys of one kind the asker holds, and the workspace's other keys of that kind
    (``None`` when they cannot be listed: the whole search then uses an allow-list)."""

    allowed: tuple[str, ...]
    denied: tuple[str, ...] | None


class KindReader(Protocol):
    def grant(self) -> Grant: ...

    def results(self, hits: list[Hit], parsed: ParsedQuery) -> dict[str, dict[str, Any]]:
        """doc_id -> result for the hits still readable (and current); others are left out."""
        ...


ResultKind = Callable[[Member], KindReader]  # kind name is the registry key
_result_kinds: dict[str, ResultKind] = {}
KINDS = ("message", "document", "record")


def register_result_kind(kind: str, reader: ResultKind) -> None:
    _result_kinds[kind] = reader


class _MessageReader:
    def __init__(self, member: Member) -> None:
        self.member = member
        # Ids only: a workspace may have thousands of conversations and this runs per keystroke.
        self.readable = set(access.readable_conversations(member).values_list("id", flat=True))

    def grant(self) -> Grant:
        all_ids = Conversation.objects.filter(workspace_id=self.member.workspace_id).values_list("id", flat=True)
        return Grant(
            allowed=tuple(acl_key(c) for c in sorted(self.readable)),
            denied=tuple(acl_key(c) for c in all_ids if c not in self.readable),
        )

    def results(self, hits: list[Hit], parsed: ParsedQuery) -> dict[str, dict[str, Any]]:
        rows = Message.objects.select_related("sender", "conversation").in_bulk([h.object_id for h in hits])
        out = {}
        for hit in hits:
            message = rows.get(hit.object_id)
            # Re-check what the index may not know yet: deleted, no longer readable, or edited
            # since it was indexed (the old words must not find it; the new ones will once indexed).
            if (
                message is None
                or message.conversation_id not in self.readable
                or message.deleted_at is not None
                or message_version(message) != hit.version
            ):
                continue
            conversation = message.conversation
            out[hit.doc_id] = {
                "kind": KIND,
                "message_id": message.pk,
                "conversation_id": conversation.pk,
                "conversation_name": conversation.name,
                "conversation_kind": conversation.kind,
                "sender_id": message.sender_id,
                "sender_name": message.sender.name,
                "created_at": iso(message.created_at),
                "seq": message.seq,
                "thread_root_id": message.thread_root_id,
                "snippet": snippet(message.body, list(parsed.terms)),
                "score": round(hit.score, 4),
                # Jump to context: the page of the conversation around this message.
                "context_url": f"/api/v1/conversations/{conversation.pk}/messages?before={message.seq + 10}&limit=20",
            }
        return out


register_result_kind(KIND, _MessageReader)


def combine_grants(grants: list[Grant]) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """(allowed, denied) for the index. The shorter list wins: a manager who reads nearly
    everything gets a small exclusion mask — but only when every kind could list what it
    denies. Hits are re-checked by their kind anyway, so a conversation created between these
    reads cannot leak through the mask."""
    allowed = tuple(k for g in grants for k in g.allowed)
    if any(g.denied is None for g in grants):
        return allowed, ()
    denied = tuple(k for g in grants for k in g.denied or ())
    if len(denied) < len(allowed):
        return None, denied
    return allowed, ()


def build_filters(member: Member, parsed: ParsedQuery, grants: list[Grant], kinds: tuple[str, ...]) -> SearchFilters:
    allowed, denied = combine_grants(grants)
    containers = _channels(member, parsed.channels) if parsed.channels else None
    return SearchFilters(
        allowed_acl=allowed,
        denied_acl=denied,
        kinds=kinds,
        containers=containers,
        authors=_people(member, parsed.senders) if parsed.senders else None,
        mentions=_people(member, parsed.mentions) if parsed.mentions else None,
        has=tuple(sorted(parsed.has)),
        flags=("thread",) if parsed.is_thread else (),
        not_containers=_channels(member, parsed.not_channels) if parsed.not_channels else (),
        not_authors=_people(member, parsed.not_senders) if parsed.not_senders else (),
        not_mentions=_people(member, parsed.not_mentions) if parsed.not_mentions else (),
        not_has=tuple(sorted(parsed.not_has)),
        not_flags=("thread",) if parsed.not_thread else (),
        since=parsed.since,
        until=parsed.until,
    )


def search(
    member: Member,
    q: str,
    *,
    order: Order = "newest",
    page: int = 1,
    limit: int = 20,
    kinds: tuple[str, ...] | None = None,
) -> SearchPage:
    """One page of results matching ``q`` that ``member`` may read now. ``kinds`` (the API's
    ``types=``) and the query's ``kind:`` operators narrow each other; with neither, messages
    only (what clients that predate documents and records expect). Kinds nobody registered
    are left out."""
    parsed = parse_query(q, user_time_zone(member))
    if parsed.kinds:
        chosen = sorted(parsed.kinds) if kinds is None else [k for k in kinds if k in parsed.kinds]
    else:
        chosen = list(kinds) if kinds is not None else [KIND]
    wanted = tuple(k for k in chosen if k in _result_kinds)
    indexer.ensure_running()
    readers = {kind: _result_kinds[kind](member) for kind in wanted}
    request = SearchRequest(
        terms=tuple(parsed.terms),
        filters=build_filters(member, parsed, [r.grant() for r in readers.values()], wanted),
        order=order,
        offset=(page - 1) * limit,
        limit=limit,
    )
    hits = indexer.get_backend().search(member.workspace_id, request) if wanted else HitPage()
    found: dict[str, dict[str, Any]] = {}
    for kind, reader in readers.items():
        found.update(reader.results([h for h in hits.hits if h.kind == kind], parsed))
    results = [found[h.doc_id] for h in hits.hits if h.doc_id in found]
    if request.order == "newest" or not parsed.positive_terms:
        # The index orders by whole seconds (a 32-bit column), ties by when a document was
        # indexed — a thread root re-indexed for its new reply would jump ahead of the reply
        # sent in the same second. The page is put in exact time order here.
        results.sort(key=lambda r: datetime.fromisoformat(r["created_at"]), reverse=True)
    return SearchPage(results=results, total=hits.total, total_exact=hits.total_exact, page=page, limit=limit)


def search_messages(member: Member, q: str, *, order: Order = "newest", page: int = 1, limit: int = 20) -> SearchPage:
    """One page of messages matching ``q`` that ``member`` may read now."""
    return search(member, q, order=order, page=page, limit=limit, kinds=(KIND,))


__all__ = ["Grant", "MessageSource", "register_record_detector", "register_result_kind", "search", "search_messages"]
