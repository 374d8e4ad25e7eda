"""Record rooms: one call opens a private channel for a record with its card pinned; the second
call returns the same room; inviting the partner shares it with the record's company only,
whose guests then see their own company's records and nothing internal."""

from __future__ import annotations

from typing import Any

import pytest

from crm_bridge.models import ErpSource, RecordLink
from crm_bridge.sources.builtin import BuiltinSource
from hub.demo import DemoData
from messaging.models import Conversation, ConversationShare, Message, Pin
from tests.conftest import ApiClient
from tests.crm_bridge.erplite_fixtures import demo_persona, ref

pytestmark = pytest.mark.django_db


def _open(persona_key: str, source_row: ErpSource, key: str, record_type: str = "sales_order", **extra: object) -> Any:
    body = {"source_id": source_row.pk, "record_type": record_type, "key": key, **extra}
    return ApiClient(demo_persona(persona_key)).post("/api/v1/records/rooms", body)


def test_open_room_once_with_pinned_card(source: BuiltinSource, source_row: ErpSource, demo: DemoData) -> None:
    key = ref(source, "SO-1001").key
    first = _open("sales", source_row, key)
    assert first.status_code == 201, first.content
    room_id = first.json()["conversation_id"]
    room = Conversation.objects.get(pk=room_id)
    assert room.kind == "private" and room.name == "SO-1001 · 上海悦茗茶饮连锁有限公司"
    assert first.json()["shared_with"] == []
    link = RecordLink.objects.get(conversation=room, kind="room")
    assert (link.snapshot.record_type, link.snapshot.key) == ("sales_order", key)
    (card,) = Message.objects.filter(conversation=room)
    assert card.sender.is_bot
    assert card.blocks == [{"type": "record", "source_id": source_row.pk, "record_type": "sales_order", "key": key}]
    assert Pin.objects.filter(message=card).exists()

    again = _open("sales", source_row, key)
    assert again.status_code == 200 and again.json()["conversation_id"] == room_id
    # Someone else asking for the room is taken into it, not given a second room.
    other = _open("finance", source_row, key)
    assert other.status_code == 200 and other.json()["conversation_id"] == room_id
    assert room.participants.filter(user=demo.users["finance"], active=True).exists()
    assert RecordLink.objects.filter(snapshot=link.snapshot, kind="room").count() == 1
    assert Message.objects.filter(conversation=room).count() == 1


def test_invite_partner_shares_with_the_records_company_only(
    source: BuiltinSource, source_row: ErpSource, demo: DemoData
) -> None:
    so = ref(source, "SO-1001").key
    response = _open("sales", source_row, so, invite_partner=True)
    assert response.status_code == 201, response.content
    room_id = response.json()["conversation_id"]
    assert response.json()["shared_with"] == ["上海悦茗茶饮连锁有限公司"]
    assert list(ConversationShare.objects.filter(conversation_id=room_id).values_list("partner__name", flat=True)) == [
        "上海悦茗茶饮连锁有限公司"
    ]
    customer_guest, supplier_guest = ApiClient(demo_persona("customer")), ApiClient(demo_persona("supplier"))
    assert customer_guest.get(f"/api/v1/conversations/{room_id}/messages").status_code == 200
    assert supplier_guest.get(f"/api/v1/conversations/{room_id}/messages").status_code == 404
    # The guest sees the room's record — their own company's — without internal fields …
    card = customer_guest.get("/api/v1/records/card", source_id=source_row.pk, type="sales_order", key=so)
    assert card.status_code == 200 and card.json()["internal"] is None
    # … and never another company's records, even by guessing keys.
    po = ref(source, "PO-2001").key
    assert (
        customer_guest.get("/api/v1/records/card", source_id=source_row.pk, type="purchase_order", key=po).status_code
        == 404
    )
    other_so = ref(source, "SO-1002").key
    assert (
        customer_guest.get(
            "/api/v1/records/card", source_id=source_row.pk, type="sales_order", key=other_so
        ).status_code
        == 404
    )
    # Guests cannot open rooms.
    assert _open("customer", source_row, so).status_code == 403


def test_supplier_room_and_invite_endpoint(source: BuiltinSource, source_row: ErpSource) -> None:
    po = ref(source, "PO-2001").key
    room_id = _open("purchasing", source_row, po, "purchase_order").json()["conversation_id"]
    response = ApiClient(demo_persona("purchasing")).post(f"/api/v1/records/rooms/{room_id}/invite-partner")
    assert response.status_code == 200, response.content
    assert response.json()["partner_name"] == "安吉竹韵包装有限公司"
    # A channel that is no record's room.
    general = Conversation.objects.get(workspace_id=source_row.workspace_id, name="综合")
    owner = ApiClient(demo_persona("owner"))
    assert owner.post(f"/api/v1/records/rooms/{general.pk}/invite-partner").status_code == 404


def test_no_partner_to_invite_is_a_clear_error(source: BuiltinSource, source_row: ErpSource) -> None:
    # SO-1002 is for 湖畔茶馆, a customer with no partner organisation in the hub.
    response = _open("sales", source_row, ref(source, "SO-1002").key, invite_partner=True)
    assert response.status_code == 409 and response.json()["error"]["code"] == "no_partner"


def test_unknown_records_and_outsiders(source: BuiltinSource, source_row: ErpSource, world: object) -> None:
    assert _open("sales", source_row, "999999").status_code == 404
    bad_type = _open("sales", source_row, "1", "spaceship")
    assert bad_type.status_code == 422
    outsider = ApiClient(world.outsider)  # type: ignore[attr-defined]
    body = {"source_id": source_row.pk, "record_type": "sales_order", "key": ref(source, "SO-1001").key}
    assert outsider.post("/api/v1/records/rooms", body).status_code == 404
