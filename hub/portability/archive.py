"""The archive format and the two contexts contributors work through.

A workspace archive is a zip (UTF-8 names, so Chinese file names survive) holding:

* ``manifest.json`` — format name and version, where and when it was exported, the source
  workspace, row counts per contributor;
* ``<contributor>/…json`` / ``…jsonl`` — rows as JSON, ids as they were on the source;
* ``<contributor>/files/…`` — file contents (attachments), byte for byte.

Ids in the archive are the source's; the importer creates new rows and keeps an
:class:`IdMap` from old ids to new ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any

from django.core.files import File
from django.core.files.storage import default_storage

from hub.errors import HubError
from hub.models import Workspace

FORMAT = "xiaowei-hub-workspace"
VERSION = 1
MANIFEST = "manifest.json"

Progress = Callable[[int, int], None]  # (done, total)


class ArchiveError(HubError):
    """The archive cannot be imported (not ours, damaged, a newer format, already imported)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, status=400)


def source_key(site_url: str, workspace_id: int, created_at: datetime) -> str:
    """Identifies one workspace of one deployment, stable across exports of it."""
    return hashlib.sha256(f"{site_url}|{workspace_id}|{created_at.isoformat()}".encode()).hexdigest()


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":")).encode()


class _Ticker:
    """Calls ``progress`` at most ~10 times a second (and always at the end)."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0
        self.progress = progress
        self.last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.progress is not None and now - self.last >= 0.1:
            self.last = now
            self.progress(min(self.done, self.total), self.total)

    def finish(self) -> None:
        if self.progress is not None:
            self.progress(self.total, self.total)


class ExportContext:
    def __init__(self, zf: zipfile.ZipFile, workspace: Workspace, total: int, progress: Progress | None) -> None:
        self.zf = zf
        self.workspace = workspace
        self.workspace_id = workspace.pk
        self.people: set[int] = set()
        self.counts: dict[str, int] = {}
        self.ticker = _Ticker(total, progress)

    def person(self, user_id: int | None) -> int | None:
        """Note a referenced person (written to ``hub/people.json`` at the end)."""
        if user_id is not None:
            self.people.add(user_id)
        return user_id

    def advance(self, n: int = 1) -> None:
        self.ticker.advance(n)

    def write_json(self, name: str, data: Any) -> None:
        self.zf.writestr(name, dumps(data))
        if isinstance(data, list):
            self.counts[name] = len(data)

    @contextlib.contextmanager
    def jsonl(self, name: str) -> Iterator[Callable[[Any], None]]:
        """Streams one JSON object per line (messages and events can be millions of rows)."""
        rows = 0
        with self.zf.open(name, "w", force_zip64=True) as raw:

            def write(obj: Any) -> None:
                nonlocal rows
                raw.write(dumps(obj) + b"\n")
                rows += 1

            yield write
        self.counts[name] = rows

    def add_file(self, arcname: str, stored_name: str) -> bool:
        """Copies a stored file into the archive; False when it is missing from storage."""
        if not stored_name or not default_storage.exists(stored_name):
            return False
        with default_storage.open(stored_name, "rb") as src, self.zf.open(arcname, "w", force_zip64=True) as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        return True


class IdMap:
    def __init__(self) -> None:
        self._map: dict[tuple[str, int], int] = {}

    def set(self, kind: str, old: int, new: int) -> None:
        self._map[(kind, old)] = new

    def get(self, kind: str, old: int | None) -> int | None:
        if old is None:
            return None
        return self._map.get((kind, old))

    def require(self, kind: str, old: int) -> int:
        new = self._map.get((kind, old))
        if new is None:
            raise ArchiveError("archive_inconsistent", f"the archive refers to {kind} {old}, which it does not contain")
        return new


class ImportContext:
    def __init__(
        self, zf: zipfile.ZipFile, manifest: dict[str, Any], workspace: Workspace, total: int, progress: Progress | None
    ) -> None:
        self.zf = zf
        self.manifest = manifest
        self.workspace = workspace
        self.workspace_id = workspace.pk
        self.ids = IdMap()
        self.saved_files: list[str] = []  # deleted again if the import fails
        self.ticker = _Ticker(total, progress)
        self._names = set(zf.namelist())

    def advance(self, n: int = 1) -> None:
        self.ticker.advance(n)

    def has(self, name: str) -> bool:
        return name in self._names

    def read_json(self, name: str, default: Any = None) -> Any:
        if name not in self._names:
            if default is not None:
                return default
            raise ArchiveError("archive_incomplete", f"the archive has no {name}")
        try:
            return json.loads(self.zf.read(name))
        except (ValueError, zipfile.BadZipFile) as exc:
            raise ArchiveError("archive_damaged", f"{name} is not valid JSON: {exc}") from None

    def iter_jsonl(self, name: str) -> Iterator[dict[str, Any]]:
        if name not in self._names:
            return
        with self.zf.open(name) as raw:
            for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    raise ArchiveError("archive_damaged", f"{name} line {number} is not valid JSON") from None
                yield row

    def user(self, old_id: int | None) -> int | None:
        return self.ids.get("user", old_id)

    def save_file(self, arcname: str, stored_name: str) -> str:
        """Writes an archived file into storage under ``stored_name`` (a generated name: storage
        may adjust it); returns the name it got."""
        if arcname not in self._names:
            raise ArchiveError("archive_incomplete", f"the archive has no {arcname}")
        with self.zf.open(arcname) as src:
            saved = default_storage.save(stored_name, File(src, name=stored_name))
        self.saved_files.append(saved)
        return saved

    def discard_files(self) -> None:
        for name in self.saved_files:
            with contextlib.suppress(OSError):
                default_storage.delete(name)
        self.saved_files.clear()


def open_archive(source: str | IO[bytes]) -> tuple[zipfile.ZipFile, dict[str, Any]]:
    """Opens and checks an archive; raises :class:`ArchiveError` with a reason a person can act on."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError("not_an_archive", f"not a zip archive: {exc}") from None
    try:
        manifest = json.loads(zf.read(MANIFEST))
    except KeyError:
        zf.close()
        raise ArchiveError("not_an_archive", "no manifest.json: not a Xiaowei Hub workspace export") from None
    except ValueError:
        zf.close()
        raise ArchiveError("archive_damaged", "manifest.json is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        zf.close()
        raise ArchiveError("not_an_archive", "not a Xiaowei Hub workspace export")
    if not isinstance(manifest.get("version"), int) or manifest["version"] > VERSION:
        zf.close()
        raise ArchiveError(
            "unsupported_version",
            f"the archive has format version {manifest.get('version')}; this hub reads up to {VERSION} (upgrade it)",
        )
    return zf, manifest
