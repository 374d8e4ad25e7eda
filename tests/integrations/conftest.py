"""Fixtures of the integration tests: a channel, webhooks of each kind, loopback receivers.
Outgoing URLs point at loopback, so the SSRF guard's documented switch is on here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.conftest import World
from tests.integrations.receiver import Receiver, receiver
from tests.messaging.helpers_http import create_conversation


@pytest.fixture(autouse=True)
def _private_urls_allowed(settings: Any) -> None:
    settings.HUB_INTEGRATIONS_ALLOW_PRIVATE_URLS = True
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def conv(world: World) -> int:
    return create_conversation(
        world, world.owner, "public", "监控告警", member_ids=[world.member.user.pk, world.member2.user.pk]
    )


@pytest.fixture
def make_hook(world: World, conv: int) -> Callable[..., dict[str, Any]]:
    def make(kind: str, name: str = "Grafana", **extra: Any) -> dict[str, Any]:
        res = world.api(world.owner).post(
            f"/api/v1/conversations/{conv}/webhooks", {"kind": kind, "name": name, **extra}
        )
        assert res.status_code == 201, res.content
        return dict(res.json())

    return make


def path_of(url: str) -> str:
    """The path and query of a webhook URL, for the Django test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def post_json(url: str, body: Any, **headers: Any) -> Any:
    import json

    data = body if isinstance(body, str | bytes) else json.dumps(body, ensure_ascii=False)
    return Client().post(path_of(url), data, content_type="application/json", **headers)


@pytest.fixture
def app_server() -> Iterator[Receiver]:
    with receiver() as found:
        yield found
