"""Per-workspace retention (purged messages vanish from the database, the log, search, the
file store and so from later backups) and quotas (storage, members) with their errors."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from hub.periodic import enqueue_due, periodic_jobs
from hub.policy.models import WorkspacePolicy
from messaging.models import Attachment, Event, Message, MessageEdit
from messaging.retention import apply_retention_everywhere, do_apply_retention
from tests.conftest import World
from tests.search.conftest import found, make_channel, send


@pytest.fixture(autouse=True)
def search_index_dir(settings: Any, tmp_path: Path) -> Path:
    settings.SEARCH_INDEX_DIR = tmp_path / "search"
    return Path(settings.SEARCH_INDEX_DIR)


def upload(world: World, conv: int, name: str, content: bytes) -> Any:
    f = SimpleUploadedFile(name, content, content_type="text/plain")
    return world.api(world.member).client.post(
        f"/api/v1/conversations/{conv}/attachments", {"file": f}, **world.member.auth
    )


def age(message_ids: list[int], days: int) -> None:
    Message.objects.filter(pk__in=message_ids).update(created_at=timezone.now() - timedelta(days=days))


def dump_everything() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    return out.getvalue()


# --- retention -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_retention_purges_old_messages_everywhere(world: World) -> None:
    conv = make_channel(world, "旧闻", by=world.owner)
    world.api(world.member).post(f"/api/v1/conversations/{conv}/join")
    res = upload(world, conv, "去年报价单.txt", "价格表 2025".encode())
    assert res.status_code == 201, res.content
    attachment = Attachment.objects.get(pk=res.json()["id"])
    stored_name = attachment.file.name
    old = send(world, world.member, conv, "去年的秘密配方 oolong-secret", attachment_ids=[attachment.pk])
    edited = send(world, world.member, conv, "旧消息 draft-one")
    patched = world.api(world.member).patch(f"/api/v1/messages/{edited['id']}", {"body": "旧消息 draft-two"})
    assert patched.status_code == 200, patched.content
    recent = send(world, world.member, conv, "今天的新消息 fresh-news")
    age([old["id"], edited["id"]], days=40)
    assert found(world, world.owner, "oolong") == [old["id"]]
    assert default_storage.exists(stored_name)

    result = do_apply_retention(world.workspace.pk, 30)

    assert (result.messages, result.attachments) == (2, 1)
    assert result.events_redacted >= 3  # message.new ×2, message.edited
    # Tombstones keep seq and threads, nothing else.
    for message in Message.objects.filter(pk__in=[old["id"], edited["id"]]):
        assert (message.body, message.html, message.deleted_at is not None) == ("", "", True)
    assert Message.objects.get(pk=recent["id"]).body == "今天的新消息 fresh-news"
    assert not MessageEdit.objects.filter(message_id=edited["id"]).exists()
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not default_storage.exists(stored_name)
    # Clients are told; the log stays gap-free.
    seqs = list(Event.objects.filter(conversation_id=conv).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert Event.objects.filter(conversation_id=conv, type="message.deleted").count() == 2
    # Search follows the log.
    assert found(world, world.owner, "oolong") == []
    assert found(world, world.owner, "draft") == []
    assert found(world, world.owner, "fresh") == [recent["id"]]
    # Nothing a backup would copy holds the text any more: database rows and files.
    dump = dump_everything()
    for text in ("oolong-secret", "draft-one", "draft-two", "去年报价单", "秘密配方"):
        assert text not in dump, text
    assert "fresh-news" in dump
    # Idempotent: a second run finds nothing.
    again = do_apply_retention(world.workspace.pk, 30)
    assert (again.messages, again.attachments, again.events_redacted) == (0, 0, 0)


@pytest.mark.django_db
def test_retention_runs_only_where_a_policy_asks(world: World, settings: Any) -> None:
    mine = make_channel(world, "我的", by=world.owner)
    other_ws = world.other_workspace.pk
    other = world.api(world.outsider).post(
        "/api/v1/conversations", {"workspace_id": other_ws, "kind": "public", "name": "他们的"}
    )
    mine_msg = send(world, world.owner, mine, "old here")
    theirs = world.api(world.outsider).post(
        f"/api/v1/conversations/{other.json()['id']}/messages", {"body": "old there", "client_id": str(uuid.uuid4())}
    )
    age([mine_msg["id"], theirs.json()["id"]], days=400)
    settings.HUB_RETENTION_DAYS = 0  # the deployment keeps forever…
    WorkspacePolicy.objects.create(workspace=world.workspace, retention_days=365)  # …this workspace does not
    results = apply_retention_everywhere()
    assert set(results) == {world.workspace.pk}
    assert Message.objects.get(pk=mine_msg["id"]).body == ""
    assert Message.objects.get(pk=theirs.json()["id"]).body == "old there"
    assert WorkspacePolicy.objects.get(workspace=world.workspace).last_retention_at is not None


@pytest.mark.django_db
def test_retention_is_a_daily_periodic_job() -> None:
    paths = {job.path: job.every for job in periodic_jobs()}
    assert paths["messaging.retention.apply_retention"] == timedelta(days=1)
    # Test settings run tasks immediately (no DB queue to remember the last run): it runs now.
    assert "messaging.retention.apply_retention" in enqueue_due()


# --- policy API ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_policy_api_for_admins_only(world: World, settings: Any) -> None:
    settings.HUB_STORAGE_QUOTA_BYTES = 1_000_000
    path = f"/api/v1/workspaces/{world.workspace.pk}/policy"
    shown = world.api(world.admin).get(path)
    assert shown.status_code == 200, shown.content
    body = shown.json()
    assert body["retention_days"] is None and body["storage_quota_bytes"] == 1_000_000
    assert body["member_count"] == 6 and body["storage_used_bytes"] == 0 and body["member_quota"] is None
    assert world.api(world.member).get(path).status_code == 403
    assert world.api(world.outsider).get(path).status_code == 404
    assert world.api(None).get(path).status_code == 401
    changed = world.api(world.owner).patch(path, {"retention_days": 90})
    assert changed.status_code == 200 and changed.json()["retention_days"] == 90
    bad = world.api(world.owner).patch(path, {"retention_days": 0})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_retention"
    # Quotas are not the workspace's to change: the field is ignored.
    world.api(world.owner).patch(path, {"retention_days": None, "storage_quota_bytes": 10**12})
    assert world.api(world.owner).get(path).json()["storage_quota_bytes"] == 1_000_000
    assert world.api(world.member).patch(path, {"retention_days": 1}).status_code == 403


# --- quotas ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_storage_quota_refuses_uploads_past_it(world: World) -> None:
    conv = make_channel(world, "文件", by=world.owner)
    world.api(world.member).post(f"/api/v1/conversations/{conv}/join")
    WorkspacePolicy.objects.create(workspace=world.workspace, storage_quota_bytes=1000)
    assert upload(world, conv, "一.txt", b"x" * 600).status_code == 201
    refused = upload(world, conv, "二.txt", b"y" * 600)
    assert refused.status_code == 413
    assert refused.json()["error"]["code"] == "storage_quota_exceeded"
    assert Attachment.objects.filter(workspace=world.workspace).count() == 1
    assert upload(world, conv, "三.txt", b"z" * 400).status_code == 201  # exactly at the quota
    usage = world.api(world.owner).get(f"/api/v1/workspaces/{world.workspace.pk}/policy").json()
    assert usage["storage_used_bytes"] == 1000


@pytest.mark.django_db
def test_member_quota_refuses_joining_past_it(world: World) -> None:
    from tests.conftest import make_persona

    WorkspacePolicy.objects.create(workspace=world.workspace, member_quota=7)  # 6 members now
    invite = world.api(world.owner).post(
        f"/api/v1/workspaces/{world.workspace.pk}/invitations", {"role": "member", "max_uses": 5}
    )
    assert invite.status_code == 201, invite.content
    token = invite.json()["token"]
    first, second = make_persona("new1@tea.test"), make_persona("new2@tea.test")
    assert world.api(first).post(f"/api/v1/invitations/{token}/accept").status_code == 200
    refused = world.api(second).post(f"/api/v1/invitations/{token}/accept")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "member_quota_exceeded"
    # Accepting again as an existing member is harmless, not a new seat.
    assert world.api(first).post(f"/api/v1/invitations/{token}/accept").status_code == 200


@pytest.mark.django_db
def test_apply_retention_command(world: World) -> None:
    conv = make_channel(world, "命令", by=world.owner)
    old = send(world, world.owner, conv, "很久以前 long-ago")
    age([old["id"]], days=10)
    out = io.StringIO()
    call_command("apply_retention", workspace=world.workspace.pk, stdout=out)
    assert "keeps messages forever" in out.getvalue()
    WorkspacePolicy.objects.create(workspace=world.workspace, retention_days=7)
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert f"workspace #{world.workspace.pk}: 1 messages, 0 files purged" in out.getvalue()
    assert Message.objects.get(pk=old["id"]).body == ""
