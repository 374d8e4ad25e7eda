"""Export and import of a whole workspace (the writes of this feature).

``export_workspace`` streams every contributor's rows and files into a zip; ``import_workspace``
recreates them in a new workspace in one transaction (all or nothing; files written before a
failure are deleted again). The API starts exports as background jobs (``do_start_export`` →
``tasks.run_export``) and reports their progress from the ``ExportJob`` row.
"""

from __future__ import annotations

import json
import logging
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hub.actions import audit
from hub.errors import HubError
from hub.models import Member, Workspace
from hub.portability.archive import (
    FORMAT,
    MANIFEST,
    VERSION,
    ArchiveError,
    ExportContext,
    ImportContext,
    Progress,
    dumps,
    open_archive,
    source_key,
)
from hub.portability.models import ExportJob, ImportRecord
from hub.portability.people import write_people
from hub.portability.registry import contributors

logger = logging.getLogger(__name__)

# Finished exports are deleted after this long (hub.periodic job in tasks.py).
EXPORT_KEEP = timedelta(days=7)


def exports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_total(workspace_id: int) -> int:
    return sum(c.count(workspace_id) for c in contributors())


def export_workspace(workspace: Workspace, target: str | Path | IO[bytes], progress: Progress | None = None) -> dict:
    """Writes the archive to ``target``; returns the manifest. Reads only, while the hub keeps
    running: no long transaction (it would hide the job's progress updates and hold back
    PostgreSQL's vacuum), so rows written during the export may or may not be in it; the
    importer tolerates a reference to a row the archive lacks by dropping the reference."""
    total = export_total(workspace.pk)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        ctx = ExportContext(zf, workspace, total, progress)
        for contributor in contributors():
            contributor.export(ctx)
        write_people(ctx)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": timezone.now().isoformat(),
            "source": {
                "site": settings.SITE_URL,
                "workspace_id": workspace.pk,
                "workspace_name": workspace.name,
                "key": source_key(settings.SITE_URL, workspace.pk, workspace.created_at),
            },
            "contributors": [c.name for c in contributors()],
            "counts": ctx.counts,
        }
        zf.writestr(MANIFEST, dumps(manifest))
        ctx.ticker.finish()
    return manifest


@dataclass(frozen=True)
class ImportResult:
    workspace: Workspace
    manifest: dict


def import_workspace(source: str | Path | IO[bytes], progress: Progress | None = None) -> ImportResult:
    """Recreates an exported workspace here. Refuses an archive whose workspace was imported
    before (``already_imported``) instead of creating a second copy of the company."""
    zf, manifest = open_archive(source if not isinstance(source, Path) else str(source))
    with zf:
        source_info = manifest.get("source") or {}
        key = str(source_info.get("key", ""))
        if not key:
            raise ArchiveError("archive_damaged", "the manifest does not say which workspace it holds")
        previous = ImportRecord.objects.select_related("workspace").filter(source_key=key).first()
        if previous is not None:
            raise ArchiveError(
                "already_imported",
                f"this workspace ({source_info.get('workspace_name')}) was already imported on "
                f"{previous.imported_at:%Y-%m-%d %H:%M} as workspace #{previous.workspace_id} "
                f"({previous.workspace.name}); delete that workspace first to import it again",
            )
        names = set(zf.namelist())
        total = sum(int(n) for name, n in (manifest.get("counts") or {}).items() if name in names)
        info = json_object(zf, "hub/workspace.json")
        ctx: ImportContext | None = None
        try:
            with transaction.atomic():
                workspace = Workspace.objects.create(
                    name=str(info.get("name") or source_info.get("workspace_name") or "Imported")[:120],
                    require_2fa_for_admins=bool(info.get("require_2fa_for_admins", False)),
                    read_receipts_enabled=bool(info.get("read_receipts_enabled", True)),
                    broadcast_mention_threshold=int(info.get("broadcast_mention_threshold", 50)),
                )
                ctx = ImportContext(zf, manifest, workspace, total, progress)
                for contributor in contributors():
                    if contributor.name in manifest.get("contributors", []):
                        contributor.import_(ctx)
                ImportRecord.objects.create(
                    source_key=key,
                    source_site=str(source_info.get("site", ""))[:200],
                    source_workspace_id=int(source_info.get("workspace_id", 0)),
                    workspace=workspace,
                    exported_at=manifest["exported_at"],
                )
                audit("workspace.import", workspace=workspace, target=workspace, source=source_info)
        except BaseException as exc:
            if ctx is not None:
                ctx.discard_files()
            if isinstance(exc, IntegrityError):
                # e.g. the same archive imported twice at the same moment (ImportRecord's unique
                # key), or rows that contradict each other.
                raise ArchiveError("archive_inconsistent", f"the archive cannot be imported here: {exc}") from None
            if isinstance(exc, KeyError | TypeError | ValueError) and not isinstance(exc, HubError):
                # A hand-edited or truncated archive: a missing field or a wrong type.
                raise ArchiveError("archive_damaged", f"the archive is damaged ({type(exc).__name__}: {exc})") from None
            raise
        ctx.ticker.finish()
    return ImportResult(workspace, manifest)


def json_object(zf: zipfile.ZipFile, name: str) -> dict:
    try:
        data = json.loads(zf.read(name))
    except KeyError:
        raise ArchiveError("archive_incomplete", f"the archive has no {name}") from None
    except ValueError:
        raise ArchiveError("archive_damaged", f"{name} is not valid JSON") from None
    if not isinstance(data, dict):
        raise ArchiveError("archive_damaged", f"{name} is not a JSON object")
    return data


# --- background exports (the API) -------------------------------------------------------------


def do_start_export(actor: Member) -> ExportJob:
    """Caller is an owner/admin (``hub.access.access_workspace_admin``). One export at a time
    per workspace: a second request while one runs returns the running one."""
    from hub.portability import tasks

    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=actor.workspace_id).first()
        running = ExportJob.objects.filter(
            workspace_id=actor.workspace_id, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]
        ).first()
        if running is not None:
            return running
        job = ExportJob.objects.create(
            workspace_id=actor.workspace_id, requested_by=actor.user, total=export_total(actor.workspace_id)
        )
        audit("workspace.export", actor=actor.user, workspace=actor.workspace_id, target=job)
        # After commit: the worker must find the row.
        transaction.on_commit(lambda: tasks.run_export.enqueue(job.pk))
    job.refresh_from_db()
    return job


def run_export_job(job_id: int) -> ExportJob:
    job = ExportJob.objects.select_related("workspace").get(pk=job_id)
    if job.status != ExportJob.Status.QUEUED:
        return job  # a retried task: the first run owns it
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    file_name = f"workspace-{job.workspace_id}-{job.pk}-{secrets.token_hex(8)}.zip"
    path = exports_dir() / file_name

    def progress(done: int, total: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(done=done, total=total)

    try:
        export_workspace(job.workspace, path, progress)
    except Exception as exc:
        path.unlink(missing_ok=True)
        logger.exception("export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
    else:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.DONE, file_name=file_name, size=path.stat().st_size, finished_at=timezone.now()
        )
    job.refresh_from_db()
    return job


def export_file(job: ExportJob) -> Path:
    if job.status != ExportJob.Status.DONE or not job.file_name:
        raise HubError("export_not_ready", "the export has not finished yet", status=409)
    path = exports_dir() / job.file_name
    if not path.exists():
        raise HubError("export_expired", "the export file is gone (exports are kept for 7 days)", status=410)
    return path


def do_delete_old_exports(now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - EXPORT_KEEP
    old = ExportJob.objects.filter(created_at__lt=cutoff).exclude(file_name="")
    count = 0
    for job in old:
        (exports_dir() / job.file_name).unlink(missing_ok=True)
        count += 1
    old.update(file_name="")
    return count
