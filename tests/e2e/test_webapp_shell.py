"""The Django side of the web app: the shell page, its bundle, CSRF, the service worker.

No browser needed: these run everywhere and catch a missing or stale bundle reference fast.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.test import Client

from tests.conftest import World

STATIC = Path(__file__).resolve().parents[2] / "static"


def signed_in(world: World) -> Client:
    client = Client()
    client.force_login(world.member.user)
    return client


def test_anonymous_visitors_go_to_the_sign_in_page(db: Any) -> None:
    client = Client()
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    deep = client.get("/app/w/1/c/2/")
    assert deep.status_code == 302
    assert deep["Location"] == "/accounts/login/?next=/app/w/1/c/2/"


def test_shell_references_the_built_bundle_and_embeds_me(world: World) -> None:
    client = signed_in(world)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    scripts = re.findall(r'<script type="module" src="/static/(app/assets/[^"]+\.js)"', html)
    styles = re.findall(r'<link rel="stylesheet" href="/static/(app/assets/[^"]+\.css)"', html)
    assert len(scripts) == 1 and len(styles) == 1
    for name in scripts + styles:
        assert (STATIC / name).is_file(), f"{name} is referenced but not built"
    me = json.loads(re.search(r'<script id="hub-me" type="application/json">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert me["id"] == world.member.user.pk
    assert [w["id"] for w in me["workspaces"]] == [world.workspace.pk]
    assert '<link rel="manifest" href="/static/app/manifest.webmanifest">' in html


def test_shell_sets_the_csrf_cookie_the_app_sends_back(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member.user)
    response = client.get("/app/w/1/")
    assert response.status_code == 200
    token = response.cookies["csrftoken"].value
    assert token
    conversation_id = client.post(
        "/api/v1/conversations",
        {"workspace_id": world.workspace.pk, "kind": "public", "name": "csrf"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert conversation_id.status_code == 201
    without = client.post(
        "/api/v1/conversations",
        {"workspace_id": world.workspace.pk, "kind": "public", "name": "nocsrf"},
        content_type="application/json",
    )
    assert without.status_code == 403


def test_client_routes_serve_the_same_shell(world: World) -> None:
    client = signed_in(world)
    for path in ("/app/w/1/", "/app/w/1/c/99/", "/app/anything/else"):
        response = client.get(path)
        assert response.status_code == 200
        assert b'<div id="root">' in response.content


def test_service_worker_is_served_from_the_root_scope(db: Any) -> None:
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Content-Type"].startswith("text/javascript")
    source = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assets = json.loads(re.search(r"const ASSETS = (\[.*?\]);", source).group(1))  # type: ignore[union-attr]
    assert assets and all((STATIC / a.removeprefix("/static/")).is_file() for a in assets)


def test_pwa_manifest_is_valid(db: Any) -> None:
    manifest = json.loads((STATIC / "app" / "manifest.webmanifest").read_text(encoding="utf-8"))
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert (STATIC / icon["src"].removeprefix("/static/")).is_file()
