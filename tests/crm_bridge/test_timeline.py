"""The customer timeline (rooms and references of the customer and its records, filtered to
what the caller may read, newest first, paged) and "log to ERP"."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from crm_bridge.erplite.models import Note
from crm_bridge.models import ErpSource
from crm_bridge.sources.builtin import BuiltinSource
from hub.demo import DemoData
from hub.models import AuditEvent, Member
from messaging import actions as messaging_actions
from messaging.models import Conversation, Message
from tests.conftest import ApiClient
from tests.crm_bridge.erplite_fixtures import demo_persona, ref

pytestmark = pytest.mark.django_db


def _say(demo: DemoData, who: str, conversation: Conversation, body: str) -> Message:
    member = Member.objects.get(workspace=demo.workspace, user=demo.users[who])
    message, _ = messaging_actions.check_send_message(member, conversation, body, uuid.uuid4())
    return message


@pytest.fixture
def talk(
    source: BuiltinSource, primed: ErpSource, demo: DemoData, django_capture_on_commit_callbacks: Any
) -> dict[str, Any]:
    """Conversations about 悦茗 (C001): its room, a reference in #销售 to its order, one in the
    private 管理层 channel to its invoice; and one about another customer's order."""
    sales = ApiClient(demo_persona("sales"))
    body = {"source_id": primed.pk, "record_type": "customer", "key": ref(source, "C001").key, "invite_partner": True}
    room = Conversation.objects.get(pk=sales.post("/api/v1/records/rooms", body).json()["conversation_id"])
    conv = demo.conversations
    with django_capture_on_commit_callbacks(execute=True):
        in_room = _say(demo, "sales", room, "孙经理，年框合同初稿已发邮件。")
        about_order = _say(demo, "sales", conv["sales"], "SO-1001 明天发货，记得附发票")
        private = _say(demo, "owner", conv["management"], "INV-3002 的账期要盯紧")
        other = _say(demo, "sales", conv["sales"], "湖畔茶馆的 SO-1002 已确认")
    return {"room": room, "in_room": in_room, "order": about_order, "private": private, "other": other}


def _timeline(persona: str, source: BuiltinSource, primed: ErpSource, code: str = "C001", **params: Any) -> Any:
    key = ref(source, code).key
    return ApiClient(demo_persona(persona)).get(
        "/api/v1/records/timeline", source_id=primed.pk, record_type="customer", key=key, **params
    )


def test_timeline_is_filtered_to_what_the_caller_reads(
    source: BuiltinSource, primed: ErpSource, talk: dict[str, Any]
) -> None:
    sales = _timeline("sales", source, primed)
    assert sales.status_code == 200, sales.content
    entries = sales.json()["entries"]
    ids = [e["message_id"] for e in entries]
    # Newest first; the room's pinned card is part of the room's history.
    assert ids[:2] == [talk["order"].pk, talk["in_room"].pk]
    assert entries[0]["via"] == "reference" and entries[0]["records"][0]["number"] == "SO-1001"
    assert entries[0]["conversation_name"] == "销售" and entries[0]["sender_name"] == "林晓燕"
    assert entries[1]["via"] == "room" and entries[2]["sender_is_bot"]
    assert talk["other"].pk not in ids
    # The sales manager is not in the private 管理层 channel: that message is not hers to see;
    # the owner is, but was not invited into the customer's room.
    assert talk["private"].pk not in ids
    owner_ids = [e["message_id"] for e in _timeline("owner", source, primed).json()["entries"]]
    assert owner_ids == [talk["private"].pk, talk["order"].pk]
    # 悦茗's guest sees the shared room only; the supplier's guest not even the customer.
    guest_ids = [e["message_id"] for e in _timeline("customer", source, primed).json()["entries"]]
    assert talk["in_room"].pk in guest_ids
    assert talk["order"].pk not in guest_ids and talk["private"].pk not in guest_ids
    assert _timeline("supplier", source, primed).status_code == 404
    assert _timeline("customer", source, primed, code="C002").status_code == 404


def test_timeline_pages(source: BuiltinSource, primed: ErpSource, talk: dict[str, Any]) -> None:
    everything = [e["message_id"] for e in _timeline("sales", source, primed).json()["entries"]]
    seen: list[int] = []
    before = None
    while True:
        params: dict[str, Any] = {"limit": 2} if before is None else {"limit": 2, "before": before}
        page = _timeline("sales", source, primed, **params).json()
        seen += [e["message_id"] for e in page["entries"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == everything and len(seen) == 3
    assert _timeline("owner", source, primed, before=999999).status_code == 400
    not_a_party = ApiClient(demo_persona("owner")).get(
        "/api/v1/records/timeline", source_id=primed.pk, record_type="sales_order", key=ref(source, "SO-1001").key
    )
    assert not_a_party.status_code == 400


def test_log_to_erp_posts_a_note_and_audits(
    source: BuiltinSource, primed: ErpSource, demo: DemoData, talk: dict[str, Any]
) -> None:
    customer = ref(source, "C001")
    body = {
        "source_id": primed.pk,
        "record_type": "customer",
        "key": customer.key,
        "message_ids": [talk["order"].pk, talk["in_room"].pk],
    }
    sales = ApiClient(demo_persona("sales"))
    response = sales.post("/api/v1/records/log", body)
    assert response.status_code == 200, response.content
    (note,) = Note.objects.filter(record_type="customer", record_id=int(customer.key))
    assert note.author == "sales@demo.xiaowei.test"
    assert "年框合同初稿" in note.body and "SO-1001 明天发货" in note.body
    assert note.body.index("年框合同初稿") < note.body.index("SO-1001 明天发货")  # oldest first
    audit = AuditEvent.objects.get(action="erp.note_logged", workspace=demo.workspace)
    assert audit.data["message_ids"] == [talk["order"].pk, talk["in_room"].pk]
    # A message the caller cannot read is not theirs to copy into the ERP.
    assert sales.post("/api/v1/records/log", {**body, "message_ids": [talk["private"].pk]}).status_code == 404
    assert ApiClient(demo_persona("customer")).post("/api/v1/records/log", body).status_code == 403
    assert sales.post("/api/v1/records/log", {**body, "message_ids": []}).status_code == 422
    assert Note.objects.count() == 1


def test_timeline_query_count_does_not_grow_with_the_page(
    source: BuiltinSource, primed: ErpSource, talk: dict[str, Any]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for limit in (1, 3):
        with CaptureQueriesContext(connection) as queries:
            assert len(_timeline("sales", source, primed, limit=limit).json()["entries"]) == limit
        counts.append(len(queries))
    assert counts[0] == counts[1]
