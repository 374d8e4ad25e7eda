"""A backup taken after a retention purge holds no trace of the purged messages — not in the
database file (SQLite keeps freed bytes unless told otherwise), not among the files."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

MARKER = "绝密配方-retention-marker-7731"

SEED = f"""
import uuid
from datetime import timedelta
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from hub import actions as hub_actions
from hub.models import Member, User
from hub.policy.models import WorkspacePolicy
from messaging import actions
from messaging.models import Attachment, Message
owner = User.objects.create_user(email="owner@shop.test", password=None)
ws = hub_actions.do_create_workspace(owner, "茶铺")
member = Member.objects.get(workspace=ws, user=owner)
conv = actions.check_create_conversation(member, "public", "旧闻", [])
for i in range(200):
    actions.check_send_message(member, conv, "{MARKER} " + str(i) + " " + "x" * 200, uuid.uuid4())
keep, _ = actions.check_send_message(member, conv, "still here keep-me", uuid.uuid4())
name = default_storage.save("attachments/2026/01/old.txt", ContentFile("{MARKER} file".encode()))
Attachment.objects.create(workspace=ws, conversation=conv, uploader=owner, file=name, original_name="旧.txt",
                          content_type="text/plain", size=10)
Message.objects.exclude(pk=keep.pk).update(created_at=timezone.now() - timedelta(days=400))
Attachment.objects.update(created_at=timezone.now() - timedelta(days=400))
WorkspacePolicy.objects.create(workspace=ws, retention_days=30)
"""


def _manage(data_dir: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="hub.settings", HUB_DATA_DIR=str(data_dir), HUB_SEARCH_INDEXING="off")
    env["HUB_SEND_RATE_PER_MINUTE"] = "0"  # the seed sends 200 messages at once
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_backup_after_retention_has_no_trace_of_purged_messages(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _manage(data, "migrate", "-v", "0")
    _manage(data, "shell", "-c", SEED)
    # The ASCII part: JSON columns (the event log) store Chinese as \\uXXXX escapes.
    marker = b"retention-marker-7731"
    stored = b"".join(p.read_bytes() for p in data.glob("hub.sqlite3*"))
    assert marker in stored  # the check below can fail: the text really was in the database

    out = _manage(data, "apply_retention")
    assert "200 messages, 1 files purged" in out

    archive = Path(_manage(data, "backup", "--output-dir", str(tmp_path / "backups")).strip().splitlines()[-1])
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m) for m in tar.getmembers() if m.isfile()}
        contents = {name: f.read() for name, f in members.items() if f is not None}
    assert "hub.sqlite3" in contents
    assert b"keep-me" in contents["hub.sqlite3"]
    for name, blob in contents.items():
        assert marker not in blob, f"{name} still holds purged text"
