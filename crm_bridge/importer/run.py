"""Run an import: read the file, map the headers, upsert row by row with progress.

Every row runs in its own savepoint: a row that fails (bad value, a database constraint) is
rolled back alone and reported with its row number and reason; the good rows are kept. Rows
are committed in batches so a 10,000-row file neither holds one long transaction nor pays
one commit per row, and progress is visible to the API while the job runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from crm_bridge.erplite.models import ImportJob
from crm_bridge.importer.columns import IMPORT_TYPES, map_headers
from crm_bridge.importer.importers import HANDLERS, RowError
from crm_bridge.importer.readers import FileUnreadable, detect_encoding, read_table
from hub.errors import HubError
from hub.models import User, Workspace

BATCH = 200
MAX_REPORTED_ERRORS = 1000

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    total: int = 0
    processed: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    encoding: str = ""

    @property
    def rejected(self) -> int:
        return len(self.errors)


def check_import_type(import_type: str) -> str:
    if import_type not in IMPORT_TYPES:
        raise HubError("invalid_import_type", f"import type must be one of: {', '.join(IMPORT_TYPES)}")
    return import_type


def run_import(
    workspace: Workspace,
    import_type: str,
    content: bytes,
    file_name: str,
    *,
    encoding: str = "",
    user: User | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Raises FileUnreadable when the file as a whole cannot be read."""
    handler = HANDLERS[check_import_type(import_type)]
    table = read_table(content, file_name, encoding)
    columns, unknown = map_headers(import_type, table.headers)
    report = ImportReport(total=len(table.rows), unknown_columns=unknown, encoding=table.encoding)
    if progress is not None:
        progress(0, report.total)
    for start in range(0, len(table.rows), BATCH):
        with transaction.atomic():
            for number, cells in table.rows[start : start + BATCH]:
                row = {f: cells[i].strip() if i < len(cells) else "" for f, i in columns.items()}
                try:
                    with transaction.atomic():
                        created = handler(workspace, row, user)
                except RowError as exc:
                    _reject(report, number, str(exc))
                except IntegrityError as exc:
                    _reject(report, number, f"conflicts with existing data: {exc}")
                except DatabaseError as exc:
                    _reject(report, number, f"could not be stored: {exc}")
                else:
                    report.created += created
                    report.updated += not created
                report.processed += 1
        if progress is not None:
            progress(report.processed, report.total)
    return report


def _reject(report: ImportReport, number: int, message: str) -> None:
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append({"row": number, "message": message})


# --- as a background job --------------------------------------------------------------------------


def check_create_job(
    workspace: Workspace, user: User, import_type: str, file_name: str, content: bytes, encoding: str = ""
) -> ImportJob:
    check_import_type(import_type)
    if not content:
        raise HubError("empty_file", "the uploaded file is empty")
    if encoding:
        try:
            detect_encoding(b"", encoding)
        except FileUnreadable as exc:
            raise HubError("invalid_encoding", str(exc)) from None
    return ImportJob.objects.create(
        workspace=workspace,
        created_by=user,
        record_type=import_type,
        file_name=file_name[:255],
        content=content,
        encoding=encoding[:32],
    )


def run_job(job_id: int) -> ImportJob:
    """Run a queued job (the task body). A job already started is left alone: a task retried
    by the worker must not import the file twice over a run that is still going."""
    claimed = ImportJob.objects.filter(pk=job_id, state=ImportJob.State.QUEUED).update(state=ImportJob.State.RUNNING)
    job = ImportJob.objects.select_related("workspace", "created_by").get(pk=job_id)
    if not claimed:
        return job

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(processed_rows=done, total_rows=total)

    try:
        report = run_import(
            job.workspace,
            job.record_type,
            bytes(job.content),
            job.file_name,
            encoding=job.encoding,
            user=job.created_by,
            progress=progress,
        )
    except FileUnreadable as exc:
        ImportJob.objects.filter(pk=job_id).update(
            state=ImportJob.State.FAILED, failure=str(exc), finished_at=timezone.now()
        )
    else:
        ImportJob.objects.filter(pk=job_id).update(
            state=ImportJob.State.DONE,
            total_rows=report.total,
            processed_rows=report.processed,
            created_count=report.created,
            updated_count=report.updated,
            errors=report.errors,
            encoding=report.encoding,
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job
