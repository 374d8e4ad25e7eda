"""Reads behind the card API: one card, the cards of a page of messages, record search —
every result cut to what the viewer may see (``crm_bridge.access``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import Q

from crm_bridge import access, approvals, live
from crm_bridge.approval_models import Approval
from crm_bridge.cache import is_fresh, upsert_snapshot
from crm_bridge.cards import Card, build_card, card_ref, load_snapshot, parse_card_ref
from crm_bridge.models import ErpSource, RecordLink, RecordSnapshot
from crm_bridge.sources.base import RecordRef, RecordType, SourceError
from crm_bridge.sources.registry import build_source
from hub.errors import HubError
from hub.models import Member
from messaging.access import readable_conversations

MAX_BATCH_REFS = 50
MAX_BATCH_MESSAGES = 100


def card_for(member: Member, source: ErpSource, ref: RecordRef, *, force: bool = False) -> Card:
    snapshot = load_snapshot(member, source, ref, force=force)
    # "On next view": an approval whose write timed out is settled before the card is shown.
    if snapshot.approvals.filter(state__in=["unknown", "deciding"]).exists():
        approvals.reconcile_for_snapshot(snapshot)
        snapshot.refresh_from_db()
    return build_card(member, snapshot)


def on_staleness_changed(sender: Any, snapshot: RecordSnapshot, **kwargs: Any) -> None:
    """Everyone showing the record learns at once that its source went away or came back (no
    version change, so ``record_changed`` does not fire); approval cards of it disable or
    re-enable their buttons."""
    live.on_staleness_changed(snapshot)
    for approval in Approval.objects.filter(snapshot=snapshot, state=Approval.State.PENDING).select_related(
        "snapshot__source", "decided_by"
    ):
        approvals.do_refresh_cards(approval)


def cards_batch(
    member: Member, refs: list[str], message_ids: list[int]
) -> tuple[list[Card], dict[int, list[str]], list[str]]:
    """Cards for ``refs`` plus the references of ``message_ids`` (a page of history), as
    (cards, refs per message, refs not shown). A ref the viewer may not see, or that cannot
    be read right now with nothing cached, is listed as not shown — never an error for the
    whole page."""
    if len(refs) > MAX_BATCH_REFS or len(message_ids) > MAX_BATCH_MESSAGES:
        raise HubError("too_many", f"at most {MAX_BATCH_REFS} refs and {MAX_BATCH_MESSAGES} messages per request")
    by_message: dict[int, list[str]] = defaultdict(list)
    links = (
        RecordLink.objects.filter(
            message_id__in=message_ids,
            kind=RecordLink.Kind.REFERENCE,
            conversation__in=readable_conversations(member),
        )
        .select_related("snapshot")
        .order_by("pk")
    )
    for link in links:
        assert link.message_id is not None  # filtered by message id
        by_message[link.message_id].append(
            card_ref(link.snapshot.source_id, link.snapshot.record_type, link.snapshot.key)
        )
    wanted = list(dict.fromkeys([*refs, *(r for rs in by_message.values() for r in rs)]))
    cards, missing = _cards(member, wanted)
    visible = {c["ref"] for c in cards}
    return cards, {m: [r for r in rs if r in visible] for m, rs in by_message.items()}, missing


def _cards(member: Member, wanted: list[str]) -> tuple[list[Card], list[str]]:
    """Cards of ``wanted`` refs in order, and the refs not shown. Fresh cached snapshots come
    from one query (a history page costs the same few queries for 5 cards or 50); only the
    stale, uncached or unsettled ones go through ``card_for`` one by one."""
    sources = {s.pk: s for s in ErpSource.objects.filter(workspace_id=member.workspace_id, enabled=True)}
    parsed: dict[str, tuple[int, RecordRef]] = {}
    missing: list[str] = []
    for text in wanted:
        try:
            source_id, ref = parse_card_ref(text)
        except ValueError:
            missing.append(text)
            continue
        if source_id in sources:
            parsed[text] = (source_id, ref)
        else:
            missing.append(text)
    keys: dict[tuple[int, str], list[str]] = defaultdict(list)
    for source_id, ref in parsed.values():
        keys[(source_id, str(ref.type))].append(ref.key)
    match = Q(pk__in=[])
    for (source_id, record_type), type_keys in keys.items():
        match |= Q(source_id=source_id, record_type=record_type, key__in=type_keys)
    cached = {card_ref(s.source_id, s.record_type, s.key): s for s in RecordSnapshot.objects.filter(match)}
    unsettled = set(
        Approval.objects.filter(snapshot__in=list(cached.values()), state__in=["unknown", "deciding"]).values_list(
            "snapshot_id", flat=True
        )
    )
    cards: list[Card] = []
    for text in wanted:
        if text not in parsed:
            continue
        source_id, ref = parsed[text]
        snapshot = cached.get(text)
        try:
            if snapshot is not None and is_fresh(snapshot) and snapshot.pk not in unsettled:
                snapshot.source = sources[source_id]
                access.check_view_record(member, snapshot)
                cards.append(build_card(member, snapshot))
            else:
                cards.append(card_for(member, sources[source_id], ref))
        except HubError:
            missing.append(text)
    return cards, [t for t in wanted if t in missing]


def search_cards(member: Member, type: RecordType, query: str, limit: int = 10) -> list[Card]:
    """Records of one type matching ``query`` in the workspace's default source, as cards;
    from the cache when the source is down."""
    source = access.default_source(member.workspace_id)
    if source is None:
        return []
    try:
        records = build_source(source).search(type, query, limit=limit * 2)
        snapshots = [upsert_snapshot(source, record)[0] for record in records]
    except SourceError:
        snapshots = list(
            RecordSnapshot.objects.filter(source=source, record_type=type)
            .filter(Q(number__icontains=query) | Q(title__icontains=query))
            .order_by("number")[: limit * 2]
        )
    cards = []
    for snapshot in snapshots:
        snapshot.source = source
        if access.can_view_record(member, snapshot):
            cards.append(build_card(member, snapshot))
    return cards[:limit]
