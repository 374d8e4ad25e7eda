"""Record references in messages: ``SO-1001``, ``PO-2001``, ``INV-3001``, a SKU
(``TEA-500G``), ``#customer:西湖茶馆`` / ``#客户:西湖茶馆``, ``#supplier:…``, or a pasted
URL into the ERP — each becomes a live card under the message.

How the cards reach clients: one ``record.cards`` event ``{message_id, refs: [...]}`` in the
conversation's log (not a follow-up bot message). Why:
* no extra message per reference: a busy sales channel would double its noise, and the
  card belongs *under* the message that mentioned it, edited and deleted with it;
* the event is in the log, so it replays on reconnect like everything else;
* it carries references only, never card data: a shared channel holds guests, and each
  viewer fetches the card through the permission-filtered card API (a guest sees only their
  own company's records, never ``internal``). History pages get their cards from the batch
  card API by message id (the ``RecordLink`` rows written here).

Runs from messaging's ``event_logged`` signal after commit. Resolution for the built-in
source is a local query and runs inline; remote sources (Odoo, REST) are resolved in a
background task so that a slow ERP never slows down sending a message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django_tasks import task

from crm_bridge import access
from crm_bridge.cache import read_through
from crm_bridge.cards import card_ref
from crm_bridge.events import RecordCardsPayload
from crm_bridge.models import ErpSource, RecordLink, RecordSnapshot
from crm_bridge.sources.base import RecordRef, RecordType, Source, SourceError
from crm_bridge.sources.registry import build_source
from messaging.eventlog import append_event
from messaging.models import Conversation, Message

logger = logging.getLogger(__name__)

# At most this many references per message become cards (a pasted price list is not 200 cards).
MAX_REFERENCES = 5

# Document numbers and SKUs: upper-case letters, a dash, letters/digits ("SO-1001", "TEA-500G").
# Upper case only, so ordinary words with dashes ("e-mail", "co-op") never reach the source.
_NUMBER_RE = re.compile(r"(?<![\w/-])([A-Z]{2,6}-[A-Z0-9]{2,16})(?![\w-])")
_PARTY_RE = re.compile(r"#(customer|supplier|客户|供应商)[:：]([^\s#,，。;；、!！?？]+)", re.IGNORECASE)
_URL_RE = re.compile(r"https?://[^\s<>\"'）)]+")
_PARTY_TYPES = {"customer": RecordType.CUSTOMER, "客户": RecordType.CUSTOMER}
_PARTY_TYPES |= {"supplier": RecordType.SUPPLIER, "供应商": RecordType.SUPPLIER}


@dataclass(frozen=True)
class Candidate:
    kind: str  # "number" | "party" | "url"
    text: str
    type: RecordType | None = None  # for parties


def find_candidates(body: str) -> list[Candidate]:
    """What in ``body`` might be a record reference, in order of appearance, without duplicates.
    Cheap (regular expressions only): runs for every message."""
    found: list[tuple[int, Candidate]] = []
    for match in _URL_RE.finditer(body):
        found.append((match.start(), Candidate("url", match.group(0).rstrip(".,;:!?，。"))))
    urls = [(m.start(), m.end()) for m in _URL_RE.finditer(body)]
    for match in _NUMBER_RE.finditer(body):
        if not any(start <= match.start() < end for start, end in urls):
            found.append((match.start(), Candidate("number", match.group(1))))
    for match in _PARTY_RE.finditer(body):
        found.append((match.start(), Candidate("party", match.group(2), _PARTY_TYPES[match.group(1).lower()])))
    unique: dict[tuple[str, str], Candidate] = {}
    for _, candidate in sorted(found, key=lambda pair: pair[0]):
        unique.setdefault((candidate.kind, candidate.text), candidate)
    return list(unique.values())


def resolve_candidate(source_row: ErpSource, source: Source, candidate: Candidate) -> RecordRef | None:
    if candidate.kind == "party":
        assert candidate.type is not None
        matches = source.search(candidate.type, candidate.text, limit=5)
        exact = [r for r in matches if r.title == candidate.text or r.number == candidate.text]
        chosen = exact or list(matches[:1])
        return chosen[0].ref if chosen else None
    if candidate.kind == "number":
        # The cache knows most numbers people type: no round trip to the source for those.
        cached = (
            RecordSnapshot.objects.filter(source=source_row, number__iexact=candidate.text)
            .values_list("record_type", "key")
            .first()
        )
        if cached is not None:
            return RecordRef(RecordType(cached[0]), cached[1])
    return source.resolve(candidate.text)


def resolve_references(source_row: ErpSource, body: str) -> list[RecordSnapshot]:
    """The records ``body`` references, cached (read through), at most MAX_REFERENCES.
    Candidates the source does not know, or cannot answer for right now, are skipped."""
    candidates = find_candidates(body)
    if not candidates:
        return []
    source = build_source(source_row)
    snapshots: list[RecordSnapshot] = []
    for candidate in candidates:
        if len(snapshots) >= MAX_REFERENCES:
            break
        try:
            ref = resolve_candidate(source_row, source, candidate)
            if ref is None:
                continue
            snapshot = read_through(source_row, source, ref)
        except SourceError as exc:
            logger.info("reference %r not resolved: %s", candidate.text, exc.message)
            continue
        if all(s.pk != snapshot.pk for s in snapshots):
            snapshots.append(snapshot)
    return snapshots


@transaction.atomic
def do_link_references(message: Message, snapshots: list[RecordSnapshot]) -> list[str]:
    """Make ``message``'s reference links exactly ``snapshots`` and tell clients, when that
    changed, with one ``record.cards`` event. Returns the card refs now attached."""
    wanted = {s.pk: s for s in snapshots}
    existing = set(
        RecordLink.objects.filter(message=message, kind=RecordLink.Kind.REFERENCE).values_list("snapshot_id", flat=True)
    )
    if existing == set(wanted):
        return [card_ref(s.source_id, s.record_type, s.key) for s in snapshots]
    RecordLink.objects.filter(message=message, kind=RecordLink.Kind.REFERENCE).exclude(
        snapshot_id__in=list(wanted)
    ).delete()
    RecordLink.objects.bulk_create(
        [
            RecordLink(snapshot=s, conversation_id=message.conversation_id, message=message)
            for pk, s in wanted.items()
            if pk not in existing
        ]
    )
    refs = [card_ref(s.source_id, s.record_type, s.key) for s in snapshots]
    payload: RecordCardsPayload = {"message_id": message.pk, "refs": refs}
    append_event(message.conversation_id, "record.cards", dict(payload))
    return refs


@transaction.atomic
def do_link_card_blocks(message: Message) -> None:
    """Bot messages that carry ``record`` blocks (approval cards, command replies) link their
    records too, so that live updates reach them."""
    for block in message.blocks:
        if block.get("type") != "record":
            continue
        snapshot = RecordSnapshot.objects.filter(
            source_id=block["source_id"], record_type=block["record_type"], key=block["key"]
        ).first()
        if snapshot is not None and snapshot.source.workspace_id == message.conversation.workspace_id:
            RecordLink.objects.get_or_create(
                snapshot=snapshot,
                message=message,
                defaults={"conversation_id": message.conversation_id, "kind": RecordLink.Kind.CARD},
            )


def process_message(message_id: int) -> None:
    message = Message.objects.select_related("conversation", "sender").filter(pk=message_id).first()
    if message is None:
        return
    if message.deleted_at is not None:
        RecordLink.objects.filter(message=message).delete()
        return
    if message.blocks:
        do_link_card_blocks(message)
    if message.sender.is_bot:
        return  # bots' text (command replies, alerts) already shows its records as blocks
    source_row = access.default_source(message.conversation.workspace_id)
    if source_row is None:
        return
    snapshots = resolve_references(source_row, message.body)
    if snapshots or RecordLink.objects.filter(message=message, kind=RecordLink.Kind.REFERENCE).exists():
        do_link_references(message, snapshots)


@task()
def resolve_message_references(message_id: int) -> None:
    process_message(message_id)


def _might_reference(payload: dict[str, Any]) -> bool:
    body = str(payload.get("body", ""))
    return bool(payload.get("blocks")) or bool(find_candidates(body))


def on_event_logged(sender: Any, conversation_id: int, event_type: str, frame: dict[str, Any], **kwargs: Any) -> None:
    """``message.new`` / ``message.edited`` / ``message.deleted`` → (re)link references."""
    if event_type not in ("message.new", "message.edited", "message.deleted"):
        return
    payload = frame.get("message") or {}
    message_id = payload.get("id")
    if message_id is None:
        return
    if event_type == "message.deleted":
        RecordLink.objects.filter(message_id=message_id).delete()
        return
    if event_type == "message.new" and not _might_reference(payload):
        return  # the hot path: most messages reference nothing
    workspace_id = Conversation.objects.filter(pk=conversation_id).values_list("workspace_id", flat=True).first()
    source_row = access.default_source(workspace_id) if workspace_id is not None else None
    if source_row is None:
        return
    if source_row.kind == ErpSource.Kind.BUILTIN:
        process_message(message_id)
    else:
        resolve_message_references.enqueue(message_id)
