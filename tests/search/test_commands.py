"""``rebuild_search_index`` and ``search_worker``, and the in-process indexing thread."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hub.search import indexer
from messaging.models import Message
from tests.conftest import World
from tests.search.conftest import make_channel, search, send


def test_rebuild_command_prints_progress_and_reproduces_results(world: World) -> None:
    conv = make_channel(world)
    ids = [send(world, world.owner, conv, f"月度 对账单 {i}")["id"] for i in range(12)]
    out = io.StringIO()
    call_command("rebuild_search_index", "--workspace", str(world.workspace.pk), stdout=out)
    text = out.getvalue()
    assert f"workspace {world.workspace.pk} [" in text and "12/12 100%" in text
    assert "12 documents indexed" in text
    first = [r["message_id"] for r in search(world, world.member, "对账单", limit=50).json()["results"]]
    assert sorted(first) == sorted(ids)
    call_command("rebuild_search_index", stdout=io.StringIO())  # every workspace
    assert [r["message_id"] for r in search(world, world.member, "对账单", limit=50).json()["results"]] == first


def test_check_reports_drift_and_fails(world: World) -> None:
    conv = make_channel(world)
    msg = send(world, world.owner, conv, "盘点")["id"]
    out = io.StringIO()
    call_command("rebuild_search_index", "--check", "--workspace", str(world.workspace.pk), stdout=out)
    assert "ok (missing 0, extra 0, stale 0)" in out.getvalue()  # --check drains the queue first
    # Drift the database behind the log's back (as a bad import or restore would).
    Message.objects.filter(pk=msg).delete()
    out = io.StringIO()
    with pytest.raises(CommandError, match="drifted"):
        call_command("rebuild_search_index", "--check", "--workspace", str(world.workspace.pk), stdout=out)
    assert f"extra: message:{msg}" in out.getvalue()


def test_rebuild_unknown_workspace_is_an_error(world: World) -> None:
    with pytest.raises(CommandError, match="no workspace with id 999999"):
        call_command("rebuild_search_index", "--workspace", "999999", stdout=io.StringIO())


def test_search_worker_once_drains_the_queue(world: World) -> None:
    conv = make_channel(world)
    msg = send(world, world.owner, conv, "工人 测试")["id"]
    out = io.StringIO()
    call_command("search_worker", "--once", stdout=out)
    assert "indexed 1 changes" in out.getvalue()
    assert [r["message_id"] for r in search(world, world.member, "工人").json()["results"]] == [msg]


@pytest.mark.django_db(transaction=True)
def test_thread_mode_indexes_after_commit(world: World, settings: object) -> None:
    settings.SEARCH_INDEXING = "thread"  # type: ignore[attr-defined]
    try:
        conv = make_channel(world)
        msg = send(world, world.owner, conv, "后台 线程 索引")["id"]  # on commit: wake() starts the thread
        assert indexer._thread is not None and indexer._thread.is_alive()
        deadline = time.monotonic() + 30
        results: list[int] = []
        while time.monotonic() < deadline and not results:
            results = [r["message_id"] for r in search(world, world.member, "线程").json()["results"]]
            time.sleep(0.05)
        assert results == [msg]
    finally:
        indexer.stop_thread()
    assert indexer._thread is None


@pytest.mark.django_db(transaction=True)
def test_first_search_starts_the_indexer_which_catches_up(world: World, settings: object) -> None:
    conv = make_channel(world)
    msg = send(world, world.owner, conv, "启动 之前 的 消息")["id"]  # logged while nobody indexes
    settings.SEARCH_INDEXING = "thread"  # type: ignore[attr-defined]
    try:
        deadline = time.monotonic() + 30
        results: list[int] = []
        while time.monotonic() < deadline and not results:
            results = [r["message_id"] for r in search(world, world.member, "启动").json()["results"]]
            time.sleep(0.05)
        assert results == [msg]
    finally:
        indexer.stop_thread()
