"""Admin HTTP API for imports: upload a file (the import runs as a background job), then poll
the job for its progress and its per-row error report."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from crm_bridge.erplite.models import ImportJob
from crm_bridge.importer.run import check_create_job
from crm_bridge.importer.schemas import ImportJobOut
from crm_bridge.importer.tasks import run_import_job
from hub.access import access_workspace_admin
from hub.apicore import authed_user, multipart_upload_body
from hub.errors import HubError, NotFound
from messaging.attachments import SizeLimitHandler

router = Router(tags=["erp"])

MAX_IMPORT_BYTES = 10 * 1024 * 1024

_UPLOAD_BODY = multipart_upload_body(
    {
        "type": {"type": "string", "enum": ["customers", "suppliers", "products", "stock", "prices"]},
        "encoding": {"type": "string", "description": "CSV encoding; default UTF-8, else GBK"},
    },
    required=("file", "type"),
)


def job_payload(job: ImportJob) -> dict[str, object]:
    return {
        "id": job.pk,
        "type": job.record_type,
        "file_name": job.file_name,
        "state": job.state,
        "percent": job.percent,
        "total_rows": job.total_rows,
        "processed_rows": job.processed_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "rejected": len(job.errors),
        "errors": job.errors,
        "failure": job.failure,
        "encoding": job.encoding,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
    }


@router.post("/workspaces/{workspace_id}/erp/imports", response={202: ImportJobOut}, openapi_extra=_UPLOAD_BODY)
def start_import(request: HttpRequest, workspace_id: int) -> Status[object]:
    """Multipart upload (fields ``file``, ``type``, optional ``encoding``). Answers 202 with the
    queued job; poll ``GET …/erp/imports/{id}`` for progress and the error report."""
    member = access_workspace_admin(authed_user(request), workspace_id)
    request.upload_handlers = [SizeLimitHandler(MAX_IMPORT_BYTES), *request.upload_handlers]
    upload = request.FILES.get("file")
    if upload is None:
        raise HubError("invalid_request", "send the file as multipart/form-data in the field 'file'", status=422)
    job = check_create_job(
        member.workspace,
        member.user,
        request.POST.get("type", ""),
        upload.name or "upload.csv",
        upload.read(),
        request.POST.get("encoding", ""),
    )
    run_import_job.enqueue(job.pk)
    job.refresh_from_db()
    return Status(202, job_payload(job))


@router.get("/workspaces/{workspace_id}/erp/imports/{job_id}", response=ImportJobOut)
def import_status(request: HttpRequest, workspace_id: int, job_id: int) -> dict[str, object]:
    member = access_workspace_admin(authed_user(request), workspace_id)
    job = ImportJob.objects.defer("content").filter(pk=job_id, workspace_id=member.workspace_id).first()
    if job is None:
        raise NotFound("import")
    return job_payload(job)
