"""docs/messaging-http.md lists every messaging route of the OpenAPI document."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.test import Client

DOC = (Path(__file__).resolve().parents[2] / "docs" / "messaging-http.md").read_text(encoding="utf-8")
MESSAGING_PREFIXES = ("/conversations", "/messages", "/attachments", "/events", "/saved", "/me/notifications")


def _normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])


def test_every_messaging_route_is_documented(db: Any) -> None:
    spec = Client().get("/api/v1/openapi.json").json()
    routes = {_normalise(p.removeprefix("/api/v1")) for p in spec["paths"]}
    ours = {r for r in routes if r.startswith(MESSAGING_PREFIXES)}
    assert len(ours) > 25
    documented = {_normalise(m) for m in re.findall(r"`(?:[A-Z]+(?:`?/`?[A-Z]+)* )?(/[^` ]+)", DOC)}
    missing = sorted(r for r in ours if r not in documented)
    assert missing == [], f"document these in docs/messaging-http.md: {missing}"
