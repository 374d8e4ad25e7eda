"""``manage.py backup`` — one archive with the database and the uploaded files, taken while
the hub keeps running. Restore steps are in docs/operations.md.

SQLite is copied with SQLite's online backup API (a consistent snapshot even while writers
are busy, which a plain file copy of a WAL database is not); PostgreSQL with ``pg_dump
--format=custom``. Search indexes are left out on purpose: they are rebuilt from the database
(``manage.py rebuild_search_index``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection


class Command(BaseCommand):
    help = "Write a .tar.gz backup of the database, uploaded files and secret key; the archive path is the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output-dir", default=None, help="default: $HUB_DATA_DIR/backups")

    def handle(self, *args: Any, output_dir: str | None, **options: Any) -> None:
        target_dir = Path(output_dir) if output_dir else Path(settings.DATA_DIR) / "backups"
        target_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        archive = target_dir / f"hub-backup-{stamp}.tar.gz"
        with tempfile.TemporaryDirectory(prefix="hub-backup-") as tmp:
            staging = Path(tmp)
            db_name = self._dump_database(staging)
            with tarfile.open(archive, "w:gz") as tar:
                tar.add(staging / db_name, arcname=db_name)
                media = Path(settings.MEDIA_ROOT)
                if media.exists():
                    tar.add(media, arcname="files")
                key_file = Path(settings.DATA_DIR) / "secret_key"
                if key_file.exists():
                    tar.add(key_file, arcname="secret_key")
        os.chmod(archive, 0o600)  # it holds password hashes and the signing key
        self.stdout.write(f"Backup written ({archive.stat().st_size} bytes):")
        self.stdout.write(str(archive))

    def _dump_database(self, staging: Path) -> str:
        vendor = connection.vendor
        if vendor == "sqlite":
            source = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
            destination = sqlite3.connect(str(staging / "hub.sqlite3"))
            try:
                with destination:
                    source.backup(destination)
            finally:
                source.close()
                destination.close()
            return "hub.sqlite3"
        if vendor == "postgresql":
            pg_dump = shutil.which("pg_dump")
            if pg_dump is None:
                raise CommandError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
            db = settings.DATABASES["default"]
            env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
            argv = [pg_dump, "--format=custom", "--no-owner", "--file", str(staging / "database.pgdump")]
            argv += ["--host", str(db.get("HOST") or "localhost"), "--port", str(db.get("PORT") or 5432)]
            argv += ["--username", str(db.get("USER") or "postgres"), str(db["NAME"])]
            result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
            return "database.pgdump"
        raise CommandError(f"backups of {vendor} databases are not supported")
