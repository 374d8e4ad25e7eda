"""Security headers: the CSP that keeps injected markup inert, and the sandbox on user files."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hub.security_headers import APP_POLICY, FILE_POLICY
from tests.conftest import World


def _directives(policy: str) -> dict[str, str]:
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def test_app_policy_allows_only_own_scripts() -> None:
    directives = _directives(APP_POLICY)
    assert directives["script-src"] == "script-src 'self'"  # no unsafe-inline, no unsafe-eval
    assert "'none'" in directives["object-src"] and "'none'" in directives["frame-ancestors"]
    assert "'none'" in directives["base-uri"]


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/api/v1/me", "/healthz", "/api/v1/docs"])
def test_every_kind_of_response_carries_the_headers(world: World, path: str) -> None:
    client = Client()
    client.force_login(world.member.user)
    response = client.get(path)
    assert response["Content-Security-Policy"] == APP_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_user_files_are_sandboxed(world: World, tmp_path: Any) -> None:
    client = Client()
    client.force_login(world.member.user)
    # Even a 404 under the files prefix gets the file policy: the prefix decides, not the outcome.
    response = client.get("/api/v1/attachments/999999")
    assert response["Content-Security-Policy"] == FILE_POLICY
    assert "sandbox" in _directives(FILE_POLICY)
