"""Who has a document open across server processes: the cache entry per process, "editing now"
and the editor limit counted over the cluster (docs_collab/presence.py)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.cache import cache

from docs_collab import presence, room
from tests.conftest import World
from tests.docs_collab.conftest import make_document
from tests.docs_collab.yclient import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_PROCESS = "another-daphne"


@pytest.fixture(autouse=True)
def clean_cache() -> None:
    cache.clear()


async def test_editor_limit_counts_editors_on_other_processes(world: World, connect: Any, doc_settings: Any) -> None:
    doc_settings.HUB_DOCS_MAX_EDITORS = 2
    document = await database_sync_to_async(make_document)(world)
    # Someone edits this document through another server process.
    presence.store(document.pk, OTHER_PROCESS, [(world.member2.user.pk, True)])
    first = await connect(document.pk, world.owner)
    second = await connect(document.pk, world.member)
    assert not first.peer.notices
    assert any("editor_limit" in n for n in second.peer.notices)
    second.peer.paragraph("not accepted")
    await second.push()
    await second.pump(0.2)
    await first.pump(0.2)
    assert first.peer.text() == ""


async def test_entries_of_a_dead_process_lapse(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    document = await database_sync_to_async(make_document)(world)
    presence.store(document.pk, OTHER_PROCESS, [(world.member2.user.pk, True)])
    assert presence.people(document.pk) == [(world.member2.user.pk, True)]
    monkeypatch.setattr(presence, "ENTRY_TTL", -1.0)  # as if it had not refreshed for too long
    assert presence.people(document.pk) == []


async def test_editing_now_lists_people_on_every_process(world: World, connect: Any, doc_settings: Any) -> None:
    document = await database_sync_to_async(make_document)(world)
    presence.store(document.pk, OTHER_PROCESS, [(world.member2.user.pk, True)])
    local = await connect(document.pk, world.member)

    def detail() -> dict[str, Any]:
        response = world.api(world.owner).get(f"/api/v1/documents/{document.pk}")
        assert response.status_code == 200, response.content
        return dict(response.json())

    body = await database_sync_to_async(detail)()
    assert body["editing_now"] == 2
    assert {p["name"] for p in body["editors"]} == {"张三", "Lucy Chen"}
    # This process's own entry is in the cache too, for the other processes to read.
    assert await wait_for(
        lambda: (world.member.user.pk, True) in presence.people(document.pk, exclude_process=OTHER_PROCESS), [local]
    )
    await local.close()
    for _ in range(50):
        if room.open_room(document.pk) is None:
            break
        await local.pump(0.05)
    assert presence.people(document.pk, exclude_process=OTHER_PROCESS) == []
