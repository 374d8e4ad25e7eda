"""Search test helpers: an index directory per test and small API shortcuts."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from hub.search import indexer
from tests.conftest import Persona, World


@pytest.fixture(autouse=True)
def search_index_dir(settings: Any, tmp_path: Path) -> Path:
    # Database ids are reused between tests (rolled-back SQLite rows), so a shared index
    # directory would leak documents from one test into the next.
    settings.SEARCH_INDEX_DIR = tmp_path / "search"
    return Path(settings.SEARCH_INDEX_DIR)


def make_channel(
    world: World, name: str = "销售", kind: str = "public", by: Persona | None = None, **extra: Any
) -> int:
    res = world.api(by or world.owner).post(
        "/api/v1/conversations", {"workspace_id": world.workspace.pk, "kind": kind, "name": name, **extra}
    )
    assert res.status_code == 201, res.content
    return int(res.json()["id"])


def send(world: World, persona: Persona, conversation_id: int, body: str, **extra: Any) -> dict[str, Any]:
    res = world.api(persona).post(
        f"/api/v1/conversations/{conversation_id}/messages", {"body": body, "client_id": str(uuid.uuid4()), **extra}
    )
    assert res.status_code == 201, res.content
    return dict(res.json())


def search(world: World, persona: Persona, q: str, workspace_id: int | None = None, **params: Any) -> Any:
    return world.api(persona).get("/api/v1/search", workspace=workspace_id or world.workspace.pk, q=q, **params)


def found(world: World, persona: Persona, q: str, **params: Any) -> list[int]:
    """Message ids found (after draining the index queue), newest first."""
    indexer.index_pending()
    res = search(world, persona, q, **params)
    assert res.status_code == 200, res.content
    return [r["message_id"] for r in res.json()["results"]]
