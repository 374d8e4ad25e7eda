"""Small helpers for messaging's HTTP tests (personas and clients come from tests/conftest.py)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import Persona, World


def create_conversation(world: World, persona: Persona, kind: str = "public", name: str = "销售", **extra: Any) -> int:
    res = world.api(persona).post(
        "/api/v1/conversations", {"workspace_id": world.workspace.pk, "kind": kind, "name": name, **extra}
    )
    assert res.status_code == 201, res.content
    return int(res.json()["id"])


def send(world: World, persona: Persona, conv: int, body: str = "你好", **extra: Any) -> dict[str, Any]:
    res = world.api(persona).post(
        f"/api/v1/conversations/{conv}/messages", {"body": body, "client_id": str(uuid.uuid4()), **extra}
    )
    assert res.status_code == 201, res.content
    return dict(res.json())


def events(world: World, persona: Persona, conv: int, after: int = 0) -> list[dict[str, Any]]:
    res = world.api(persona).get(f"/api/v1/conversations/{conv}/events", after_seq=after)
    assert res.status_code == 200, res.content
    return list(res.json()["events"])


def error_code(res: Any) -> str:
    return str(res.json()["error"]["code"])


def shared_channel(world: World, name: str = "客户群") -> int:
    """A public channel of the owner with member/member2 in it, shared with the customer."""
    conv = create_conversation(
        world, world.owner, "public", name, member_ids=[world.member.user.pk, world.member2.user.pk]
    )
    res = world.api(world.owner).post(f"/api/v1/conversations/{conv}/share", {"partner_id": world.customer.pk})
    assert res.status_code == 200, res.content
    return conv
