"""``manage.py backup``: a consistent archive of a running SQLite hub, restorable by unpacking."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _manage(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="hub.settings", HUB_DATA_DIR=str(data_dir))
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def test_backup_and_restore_sqlite(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _manage(data, "migrate", "--verbosity", "0").returncode == 0
    assert _manage(data, "load_demo").returncode == 0
    (data / "files" / "avatars").mkdir(parents=True)
    (data / "files" / "avatars" / "x.png").write_bytes(b"picture")

    result = _manage(data, "backup", "--output-dir", str(tmp_path / "backups"))
    assert result.returncode == 0, result.stderr
    archive = Path(result.stdout.strip().splitlines()[-1])
    assert archive.exists()
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        assert {"hub.sqlite3", "secret_key", "files/avatars/x.png"} <= names
        restored = tmp_path / "restored"
        tar.extractall(restored, filter="data")

    # The restored directory is a working data dir: same people, same messages.
    with sqlite3.connect(restored / "hub.sqlite3") as db:
        # People only: the demo's bots (the assistant posting approval cards, the ERP alerts
        # bot) are created when the bridge's receivers run after the demo is committed.
        (users,) = db.execute("select count(*) from hub_user where not is_bot").fetchone()
        (messages,) = db.execute("select count(*) from messaging_message").fetchone()
    assert users == 7
    assert messages > 10
    again = _manage(restored, "load_demo")
    assert again.returncode == 0
    assert "Found existing demo workspace" in again.stdout


def test_backup_refuses_unwritable_output(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert _manage(data, "migrate", "--verbosity", "0").returncode == 0
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = _manage(data, "backup", "--output-dir", str(blocker))
    assert result.returncode != 0
