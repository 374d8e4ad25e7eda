"""Shared fixtures: personas (owner, member, guest, outsider) and API clients.

Suites that need an external service (PostgreSQL, Redis, Chromium, Node.js) use the
``require_*`` helpers: when the service is missing they skip with a loud notice naming it,
and with ``HUB_REQUIRE_ALL=1`` (set by .ci/run) the skip becomes a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from hub import actions as hub_actions
from hub.models import Member, PartnerOrg, User, Workspace

REQUIRE_ALL = os.environ.get("HUB_REQUIRE_ALL") == "1"


def missing_service(name: str, why: str) -> None:
    """Skip (loudly) or, under HUB_REQUIRE_ALL=1, fail because ``name`` is unavailable."""
    notice = f"*** {name} is not available ({why}): tests needing {name} are SKIPPED ***"
    if REQUIRE_ALL:
        pytest.fail(f"{notice} — HUB_REQUIRE_ALL=1 forbids skipping", pytrace=False)
    print(f"\n{notice}", file=sys.stderr)
    pytest.skip(notice)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_redis() -> str:
    url = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if not _port_open("127.0.0.1", 6379) and "HUB_TEST_REDIS_URL" not in os.environ:
        missing_service("Redis", "nothing listens on 127.0.0.1:6379")
    return url


def require_postgres() -> str:
    url = os.environ.get("HUB_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    if not _port_open("127.0.0.1", 5432) and "HUB_TEST_PG_URL" not in os.environ:
        missing_service("PostgreSQL", "nothing listens on 127.0.0.1:5432")
    return url


def require_binary(name: str, path: str) -> str:
    found = shutil.which(path)
    if found is None:
        missing_service(name, f"{path} not found")
    assert found is not None
    return found


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Rate-limit counters live in the cache keyed by user id; ids repeat across tests on
    SQLite, so without this one test's sends would count against the next one's budget."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@dataclass
class Persona:
    user: User
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}


class ApiClient:
    """A Django test client that speaks JSON with a bearer token."""

    def __init__(self, persona: Persona | None) -> None:
        self.persona = persona
        self.client = Client()

    def _headers(self) -> dict[str, str]:
        return self.persona.auth if self.persona else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params, **self._headers())

    def post(self, path: str, body: Any = None) -> Any:
        data = body if body is not None else {}
        return self.client.post(path, data, content_type="application/json", **self._headers())

    def patch(self, path: str, body: Any = None) -> Any:
        data = body if body is not None else {}
        return self.client.patch(path, data, content_type="application/json", **self._headers())

    def delete(self, path: str) -> Any:
        return self.client.delete(path, **self._headers())


def make_persona(email: str, display_name: str = "") -> Persona:
    user = User.objects.create_user(email=email, password="pw-Secret-123", display_name=display_name)
    _, key = hub_actions.do_issue_api_token(user, "test")
    return Persona(user=user, token=key)


@dataclass
class World:
    """Two workspaces side by side, with the usual personas."""

    workspace: Workspace
    other_workspace: Workspace
    customer: PartnerOrg
    supplier: PartnerOrg
    owner: Persona
    admin: Persona
    member: Persona
    member2: Persona
    guest: Persona  # contact of ``customer``
    supplier_guest: Persona  # contact of ``supplier``
    outsider: Persona  # member of ``other_workspace`` only

    def api(self, persona: Persona | None) -> ApiClient:
        return ApiClient(persona)


@pytest.fixture
def world(db: Any) -> World:
    owner = make_persona("owner@tea.test", "王老板")
    ws = hub_actions.do_create_workspace(owner.user, "杭州茶叶")
    owner_member = Member.objects.get(workspace=ws, user=owner.user)
    customer = hub_actions.do_create_partner(owner_member, "西湖茶馆", "customer")
    supplier = hub_actions.do_create_partner(owner_member, "龙井包装厂", "supplier")
    admin = make_persona("admin@tea.test", "李经理")
    member = make_persona("member@tea.test", "张三")
    member2 = make_persona("member2@tea.test", "Lucy Chen")
    guest = make_persona("guest@customer.test", "赵顾客")
    supplier_guest = make_persona("guest@supplier.test", "钱供应")
    Member.objects.create(workspace=ws, user=admin.user, role=Member.Role.ADMIN)
    Member.objects.create(workspace=ws, user=member.user, role=Member.Role.MEMBER)
    Member.objects.create(workspace=ws, user=member2.user, role=Member.Role.MEMBER)
    Member.objects.create(workspace=ws, user=guest.user, role=Member.Role.GUEST, partner=customer)
    Member.objects.create(workspace=ws, user=supplier_guest.user, role=Member.Role.GUEST, partner=supplier)
    outsider = make_persona("outsider@other.test", "外人")
    other = hub_actions.do_create_workspace(outsider.user, "Other Co")
    return World(ws, other, customer, supplier, owner, admin, member, member2, guest, supplier_guest, outsider)


@pytest.fixture
def api_for(world: World) -> Callable[[Persona | None], ApiClient]:
    return world.api
