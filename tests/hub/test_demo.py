"""The demo workspace: deterministic, idempotent, believable, and usable through the API."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from hub.demo import CONVERSATIONS, DEMO_PASSWORD, DEMO_WORKSPACE_NAME, GUESTS, PEOPLE, STAFF, client_id_for, load_demo
from hub.models import Member, PartnerOrg, User, Workspace
from messaging.models import Conversation, Message
from tests.conftest import ApiClient, Persona

pytestmark = pytest.mark.django_db


def _persona(email: str) -> Persona:
    from hub import actions

    user = User.objects.get(email=email)
    return Persona(user=user, token=actions.do_issue_api_token(user, "test")[1])


def test_load_demo_creates_the_company() -> None:
    data = load_demo()
    assert data.created
    ws = data.workspace
    assert ws.name == DEMO_WORKSPACE_NAME
    roles = dict(Member.objects.filter(workspace=ws).values_list("user__email", "role"))
    assert roles == {p.email: p.role for p in PEOPLE}
    assert set(PartnerOrg.objects.filter(workspace=ws).values_list("kind", flat=True)) == {"customer", "supplier"}
    for guest in GUESTS:
        member = Member.objects.get(workspace=ws, user__email=guest.email)
        assert member.partner is not None
    kinds = sorted(Conversation.objects.filter(workspace=ws).values_list("kind", flat=True))
    assert kinds == sorted(spec.kind for spec in CONVERSATIONS)
    assert Message.objects.filter(conversation__workspace=ws).count() == sum(len(s.messages) for s in CONVERSATIONS)
    # Messages went through the event log: gap-free seqs per conversation.
    for conversation in Conversation.objects.filter(workspace=ws):
        seqs = list(conversation.events.order_by("seq").values_list("seq", flat=True))
        assert seqs == list(range(1, conversation.last_seq + 1))
    # A thread reply exists (general: message 4 replies to message 0).
    assert Message.objects.filter(conversation=data.conversations["general"], thread_root__isnull=False).count() == 1


def test_demo_is_deterministic_and_idempotent() -> None:
    first = load_demo()
    bodies = list(Message.objects.order_by("pk").values_list("client_id", "body"))
    second = load_demo()
    assert not second.created
    assert second.workspace.pk == first.workspace.pk
    assert Workspace.objects.filter(name=DEMO_WORKSPACE_NAME).count() == 1
    assert list(Message.objects.order_by("pk").values_list("client_id", "body")) == bodies
    assert set(second.conversations) == {spec.key for spec in CONVERSATIONS}
    assert bodies[0][0] == client_id_for(CONVERSATIONS[0].key, 0)


def test_demo_password_signs_in_and_chinese_and_english_history() -> None:
    load_demo()
    from django.test import Client

    client = Client()
    assert client.login(email=STAFF[0].email, password=DEMO_PASSWORD)
    bodies = " ".join(Message.objects.values_list("body", flat=True))
    assert "龙井" in bodies
    assert "price list" in bodies


def test_demo_guest_sees_only_the_shared_channel() -> None:
    data = load_demo()
    customer = ApiClient(_persona("customer@demo.xiaowei.test"))
    response = customer.get("/api/v1/conversations", workspace=data.workspace.pk)
    assert response.status_code == 200
    names = {row["name"] for row in response.json()}
    assert names == {"悦茗合作"}
    # The guest cannot list the staff directory.
    assert customer.get(f"/api/v1/workspaces/{data.workspace.pk}/members").status_code == 403


def test_demo_staff_see_their_conversations() -> None:
    data = load_demo()
    sales = ApiClient(_persona("sales@demo.xiaowei.test"))
    rows = sales.get("/api/v1/conversations", workspace=data.workspace.pk).json()
    names = {row["name"] for row in rows}
    assert {"综合", "销售", "悦茗合作", "春茶备货"} <= names
    assert "管理层" not in names  # private, sales is not in it


def test_load_demo_command_prints_accounts() -> None:
    out = StringIO()
    call_command("load_demo", stdout=out)
    text = out.getvalue()
    assert "Created demo workspace" in text
    assert DEMO_PASSWORD in text
    for person in PEOPLE:
        assert person.email in text
    out2 = StringIO()
    call_command("load_demo", stdout=out2)
    assert "Found existing demo workspace" in out2.getvalue()
