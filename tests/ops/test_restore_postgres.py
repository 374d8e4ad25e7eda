"""The PostgreSQL backup → restore procedure of docs/operations.md, step by step: back up a
running deployment, restore into a new, empty database with a new data directory, migrate,
rebuild the search indexes — same rows, same files, search answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest

from bench.cluster import _pg_admin, _with_dbname
from tests.conftest import require_binary, require_postgres

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.postgres]

COUNTS = """
import json
from hub.models import User, Workspace
from messaging.models import Message
print(json.dumps({"users": User.objects.count(), "workspaces": Workspace.objects.count(),
                  "messages": sorted(Message.objects.values_list("body", flat=True))}, ensure_ascii=False))
"""


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)}:\n{result.stderr[-3000:]}"
    return result.stdout


def test_backup_and_documented_restore_on_postgresql(tmp_path: Path) -> None:
    admin_url = require_postgres()
    pg_restore = require_binary("pg_restore", "pg_restore")
    require_binary("pg_dump", "pg_dump")
    run = uuid.uuid4().hex[:10]
    source_db, target_db = f"hubbk_{run}", f"hubrs_{run}"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATABASE_", "REDIS_"))}
    base.update(DJANGO_SETTINGS_MODULE="hub.settings", SECRET_KEY="restore-test-key", HUB_SEARCH_INDEXING="off")
    source = {**base, "DATABASE_URL": _with_dbname(admin_url, source_db), "HUB_DATA_DIR": str(tmp_path / "a")}
    target = {**base, "DATABASE_URL": _with_dbname(admin_url, target_db), "HUB_DATA_DIR": str(tmp_path / "b")}
    _pg_admin(admin_url, f'CREATE DATABASE "{source_db}"')
    _pg_admin(admin_url, f'CREATE DATABASE "{target_db}"')
    try:
        manage(source, "migrate", "-v", "0")
        manage(source, "load_demo")
        upload = tmp_path / "a" / "files" / "attachments" / "2026" / "01" / "合同.pdf"
        upload.parent.mkdir(parents=True)
        upload.write_bytes(b"%PDF-1.4 contract")
        before = json.loads(manage(source, "shell", "-c", COUNTS).strip().splitlines()[-1])
        assert before["messages"], "the demo has messages"
        archive = Path(manage(source, "backup", "--output-dir", str(tmp_path / "backups")).strip().splitlines()[-1])

        # --- the documented restore ---
        unpacked = tmp_path / "unpacked"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        restored = subprocess.run(
            [pg_restore, "--no-owner", "--clean", "--if-exists", "-d", target["DATABASE_URL"],
             str(unpacked / "database.pgdump")],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert restored.returncode == 0, restored.stderr
        shutil.copytree(unpacked / "files", tmp_path / "b" / "files")
        manage(target, "migrate", "-v", "0")
        manage(target, "rebuild_search_index")

        after = json.loads(manage(target, "shell", "-c", COUNTS).strip().splitlines()[-1])
        assert after == before
        restored_file = tmp_path / "b" / "files" / upload.relative_to(tmp_path / "a" / "files")
        assert restored_file.read_bytes() == upload.read_bytes()
        probe = (
            "from hub.models import Workspace; from hub.search.indexer import get_backend; "
            "from hub.search.sources import sources; ws = Workspace.objects.get(); "
            "print(sum(s.count(ws.pk) for s in sources()), get_backend().doc_count(ws.pk))"
        )
        live, indexed = manage(target, "shell", "-c", probe).strip().splitlines()[-1].split()
        assert int(live) > 0 and live == indexed
    finally:
        _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{source_db}" WITH (FORCE)')
        _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{target_db}" WITH (FORCE)')
