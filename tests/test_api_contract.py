"""The fixed public core of the API (shared/design/API.md) is present in the OpenAPI document.

Renaming or removing one of these is a breaking change for mobile apps, bots and integrations;
this test makes it a deliberate one.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

FIXED_CORE = [
    ("get", "/api/v1/me"),
    ("post", "/api/v1/workspaces"),
    ("post", "/api/v1/workspaces/{ws}/partners"),
    ("post", "/api/v1/workspaces/{ws}/invitations"),
    ("post", "/api/v1/invitations/{token}/accept"),
    ("get", "/api/v1/conversations"),
    ("post", "/api/v1/conversations"),
    ("post", "/api/v1/conversations/{conversation_id}/join"),
    ("post", "/api/v1/conversations/{conversation_id}/members"),
    ("post", "/api/v1/conversations/{conversation_id}/share"),
    ("post", "/api/v1/conversations/{conversation_id}/messages"),
    ("get", "/api/v1/conversations/{conversation_id}/messages"),
    ("get", "/api/v1/conversations/{conversation_id}/events"),
    ("post", "/api/v1/conversations/{conversation_id}/read"),
    ("get", "/api/v1/messages/{message_id}/receipts"),
    ("get", "/api/v1/search"),
]


@pytest.fixture
def openapi(db: Any) -> dict[str, Any]:
    res = Client().get("/api/v1/openapi.json")
    assert res.status_code == 200
    doc: dict[str, Any] = res.json()
    return doc


def _normalise(path: str) -> str:
    """Compare paths by shape: parameter names may differ ({ws} vs {workspace_id})."""
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))


@pytest.mark.parametrize(("method", "path"), FIXED_CORE)
def test_fixed_core_route_is_documented(openapi: dict[str, Any], method: str, path: str) -> None:
    documented = {(m, _normalise(p)) for p, ops in openapi["paths"].items() for m in ops}
    assert (method, _normalise(path)) in documented, f"{method.upper()} {path} missing from openapi.json"


def test_every_operation_documents_bearer_and_session_auth(openapi: dict[str, Any]) -> None:
    schemes = openapi["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    assert any(s.get("in") == "cookie" for s in schemes.values())


def test_health_endpoints(db: Any) -> None:
    assert Client().get("/healthz").status_code == 200
    ready = Client().get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json()["checks"] == {"database": "ok", "channel_layer": "ok", "search": "ok"}
