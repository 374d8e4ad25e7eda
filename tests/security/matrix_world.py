"""The world the permission matrix runs in: one workspace holding an object of every kind,
a rival workspace, and every persona an attacker can be.

Built once per test module (``matrix_world`` fixture) inside a transaction that is rolled back
at the end; each test runs in a savepoint of its own (pytest-django's ``db``), so a request
that an allowed persona makes — deleting a message, deactivating a member — never leaks into
the next cell. Objects are made through the public API as their owners would make them, so
the matrix exercises the same rows a real workspace has.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from hub import actions as hub_actions
from hub.models import Member, User
from tests.conftest import Persona, make_persona

# Who can call: a persona name, or None for an anonymous visitor.
PERSONAS = (
    "owner",
    "admin",
    "member",
    "guest",  # contact of the customer the shared channel is shared with
    "other_guest",  # contact of another partner (the supplier)
    "outsider",  # owner of a rival workspace
    "ex_member",  # membership deactivated in the workspace; account and token still valid
    "disabled",  # account deactivated (logged out everywhere)
    "bot",  # an app bot of the workspace, added to one other conversation only
    "anonymous",
)


@dataclass
class MatrixWorld:
    personas: dict[str, Persona | None]
    ids: dict[str, Any] = field(default_factory=dict)

    def user_id(self, persona: str) -> int:
        found = self.personas[persona]
        assert found is not None
        return found.user.pk

    def client(self, persona: str) -> Client:
        who = self.personas[persona]
        return Client(HTTP_AUTHORIZATION=f"Bearer {who.token}") if who else Client()


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def push_keys() -> dict[str, str]:
    """A browser's Web Push subscription keys: a P-256 public key and a 16-byte secret."""
    import base64
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    public = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"p256dh": b64(public), "auth": b64(os.urandom(16))}


class _Owner:
    """Makes objects through the API as a given persona, failing loudly if that breaks."""

    def __init__(self, persona: Persona) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {persona.token}")

    def post(self, path: str, body: Any = None) -> Any:
        response = self.client.post(path, body or {}, content_type="application/json")
        assert response.status_code < 300, (path, response.status_code, response.content[:300])
        return response.json() if response.content else None

    def upload(self, path: str, name: str, content: bytes, **extra: Any) -> Any:
        response = self.client.post(path, {"file": _named(name, content), **extra})
        assert response.status_code < 300, (path, response.status_code, response.content[:300])
        return response.json()


def _named(name: str, content: bytes) -> io.BytesIO:
    f = io.BytesIO(content)
    f.name = name
    return f


def build() -> MatrixWorld:
    owner = make_persona("owner@tea.test", "王老板")
    ws = hub_actions.do_create_workspace(owner.user, "杭州茶叶")
    owner_member = Member.objects.get(workspace=ws, user=owner.user)
    customer = hub_actions.do_create_partner(owner_member, "西湖茶馆", "customer")
    supplier = hub_actions.do_create_partner(owner_member, "龙井包装厂", "supplier")
    people = {
        "admin": (Member.Role.ADMIN, None),
        "member": (Member.Role.MEMBER, None),
        "member2": (Member.Role.MEMBER, None),
        "guest": (Member.Role.GUEST, customer),
        "other_guest": (Member.Role.GUEST, supplier),
        "ex_member": (Member.Role.MEMBER, None),
        "disabled": (Member.Role.MEMBER, None),
    }
    personas: dict[str, Persona | None] = {"owner": owner, "anonymous": None}
    for key, (role, partner) in people.items():
        personas[key] = make_persona(f"{key}@tea.test", key)
        Member.objects.create(workspace=ws, user=personas[key].user, role=role, partner=partner)  # type: ignore[union-attr]
    outsider = make_persona("outsider@rival.test", "外人")
    rival = hub_actions.do_create_workspace(outsider.user, "Rival Co")
    personas["outsider"] = outsider

    ids: dict[str, Any] = {"ws": ws.pk, "rival_ws": rival.pk, "customer": customer.pk, "supplier": supplier.pk}
    uid = {k: p.user.pk for k, p in personas.items() if p is not None}
    ids["uid"] = uid
    api = _Owner(owner)
    member_api = _Owner(personas["member"])  # type: ignore[arg-type]

    def conv(kind: str, name: str | None, member_ids: list[int]) -> int:
        body: dict[str, Any] = {"workspace_id": ws.pk, "kind": kind, "member_ids": member_ids}
        if name:
            body["name"] = name
        return int(api.post("/api/v1/conversations", body)["id"])

    ids["public"] = conv("public", "综合", [uid["member"]])
    ids["private"] = conv("private", "管理层", [uid["member"]])
    ids["dm"] = conv("dm", None, [uid["member"]])
    ids["group"] = conv("group", None, [uid["member"], uid["member2"]])
    ids["shared"] = conv("public", "西湖茶馆-对接", [uid["member"]])
    api.post(f"/api/v1/conversations/{ids['shared']}/share", {"partner_id": customer.pk})
    api.post(f"/api/v1/conversations/{ids['shared']}/members", {"user_ids": [uid["guest"]]})
    ids["rival_channel"] = int(
        _Owner(outsider).post("/api/v1/conversations", {"workspace_id": rival.pk, "kind": "public", "name": "rival"})[
            "id"
        ]
    )

    # One message by ``member`` (not the owner: edits are the author's alone) in each.
    for kind in ("public", "private", "dm", "group", "shared"):
        sent = member_api.post(
            f"/api/v1/conversations/{ids[kind]}/messages", {"body": f"hello {kind}", "client_id": str(uuid.uuid4())}
        )
        ids[f"msg_{kind}"] = sent["id"]
    for kind in ("shared", "private"):
        # Posted in a message: an attachment not yet sent is visible to its uploader only.
        up = member_api.upload(f"/api/v1/conversations/{ids[kind]}/attachments", "报价.png", png_bytes())
        ids[f"att_{kind}"] = up["id"]
        member_api.post(
            f"/api/v1/conversations/{ids[kind]}/messages",
            {"body": "报价单", "client_id": str(uuid.uuid4()), "attachment_ids": [up["id"]]},
        )
    member_api.upload("/api/v1/me/avatar", "me.png", png_bytes())
    ids["push_keys"] = push_keys()

    # A bot of the workspace that sits in one private conversation of its own.
    bot = api.post(f"/api/v1/workspaces/{ws.pk}/bots", {"name": "ERP sync"})
    bot_user = User.objects.get(pk=bot["id"])  # a bot's id is its user id (BotOut)
    personas["bot"] = Persona(user=bot_user, token=bot["token"])
    ids["bot"] = bot["id"]
    ids["botroom"] = conv("private", "bot-room", [bot_user.pk])
    ids["uid"]["bot"] = bot_user.pk

    # Documents: one in the shared channel (edit by its readers), one workspace-wide (view).
    ids["doc_shared"] = api.post(
        "/api/v1/documents",
        {"workspace_id": ws.pk, "title": "对接记录", "conversation_id": ids["shared"], "default_access": "edit"},
    )["id"]
    ids["doc_private"] = api.post(
        "/api/v1/documents",
        {"workspace_id": ws.pk, "title": "管理层纪要", "conversation_id": ids["private"], "default_access": "edit"},
    )["id"]
    ids["doc_version"] = api.post(f"/api/v1/documents/{ids['doc_shared']}/versions", {"name": "v1"})["id"]
    ids["doc_image"] = api.upload(f"/api/v1/documents/{ids['doc_shared']}/images", "图.png", png_bytes())["id"]

    # Integrations and per-person settings.
    hook = api.post(f"/api/v1/conversations/{ids['shared']}/webhooks", {"kind": "slack", "name": "CI"})
    ids["webhook"], ids["webhook_url"] = hook["id"], hook["url"]
    ids["target"] = member_api.post(
        "/api/v1/me/notify/targets",
        {"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-secret-123"},
    )["id"]
    ids["member_token"] = member_api.post("/api/v1/tokens", {"name": "laptop"})["id"]
    ids["invitation"] = api.post(f"/api/v1/workspaces/{ws.pk}/invitations", {"role": "member"})
    ids["export"] = api.post(f"/api/v1/workspaces/{ws.pk}/exports")["id"]

    # ERP: the built-in source, a customer party linked to the guest's company, an order.
    from crm_bridge.sources.builtin import ensure_default_source

    source = ensure_default_source(ws)
    ids["source"] = source.pk
    ids["party"] = api.post(
        f"/api/v1/workspaces/{ws.pk}/erp/parties",
        {"kind": "customer", "code": "C001", "name": "西湖茶馆", "partner_id": customer.pk},
    )["id"]
    api.post(f"/api/v1/workspaces/{ws.pk}/erp/parties", {"kind": "supplier", "code": "S001", "name": "包装厂"})
    ids["other_party"] = api.post(
        f"/api/v1/workspaces/{ws.pk}/erp/parties", {"kind": "customer", "code": "C002", "name": "别家茶楼"}
    )["id"]
    ids["product"] = api.post(
        f"/api/v1/workspaces/{ws.pk}/erp/products", {"sku": "LJ-01", "name": "龙井", "list_price": "100.00"}
    )["id"]
    ids["rule"] = api.post(
        f"/api/v1/workspaces/{ws.pk}/erp/rules",
        {"name": "库存", "kind": "stock_below_reorder", "channel_id": ids["public"]},
    )["id"]
    from crm_bridge.erplite.receivers import prime_cache

    prime_cache(source)

    # Tokens die last: the disabled account is logged out everywhere, the ex-member only
    # loses this workspace.
    hub_actions.do_deactivate_user(owner.user, personas["disabled"].user, ws)  # type: ignore[union-attr]
    ex = Member.objects.get(workspace=ws, user=personas["ex_member"].user)  # type: ignore[union-attr]
    hub_actions.do_deactivate_member(owner_member, ex)
    return MatrixWorld(personas=personas, ids=ids)


@pytest.fixture(scope="module")
def matrix_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[MatrixWorld]:
    from django.core.cache import cache

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            cache.clear()
            yield build()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
