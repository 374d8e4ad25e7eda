"""``/api/v1/workspaces/{ws}/exports``: owners and admins start a background export of the
whole workspace, watch its progress and download the zip when it is done."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from ninja import Router, Status

from hub.access import access_workspace_admin
from hub.apicore import authed_user
from hub.errors import NotFound
from hub.portability import actions
from hub.portability.models import ExportJob
from hub.portability.schemas import ExportOut

router = Router(tags=["workspace export"])


def _job(ws: int, export_id: int) -> ExportJob:
    job = ExportJob.objects.select_related("workspace").filter(pk=export_id, workspace_id=ws).first()
    if job is None:
        raise NotFound("export")
    return job


def _out(job: ExportJob) -> ExportOut:
    done = job.status == ExportJob.Status.DONE and bool(job.file_name)
    return ExportOut(
        id=job.pk,
        status=job.status,
        done=job.done,
        total=job.total,
        size=job.size,
        error=job.error,
        created_at=job.created_at,
        finished_at=job.finished_at,
        download_url=f"/api/v1/workspaces/{job.workspace_id}/exports/{job.pk}/download" if done else None,
    )


@router.post("/workspaces/{ws}/exports", response={202: ExportOut})
def start_export(request: HttpRequest, ws: int) -> Status[ExportOut]:
    member = access_workspace_admin(authed_user(request), ws)
    return Status(202, _out(actions.do_start_export(member)))


@router.get("/workspaces/{ws}/exports", response=list[ExportOut])
def list_exports(request: HttpRequest, ws: int) -> list[ExportOut]:
    member = access_workspace_admin(authed_user(request), ws)
    jobs = ExportJob.objects.filter(workspace_id=member.workspace_id).order_by("-created_at")[:20]
    return [_out(job) for job in jobs]


@router.get("/workspaces/{ws}/exports/{export_id}", response=ExportOut)
def get_export(request: HttpRequest, ws: int, export_id: int) -> ExportOut:
    member = access_workspace_admin(authed_user(request), ws)
    return _out(_job(member.workspace_id, export_id))


@router.get("/workspaces/{ws}/exports/{export_id}/download", response={200: None})
def download_export(request: HttpRequest, ws: int, export_id: int) -> FileResponse:
    member = access_workspace_admin(authed_user(request), ws)
    job = _job(member.workspace_id, export_id)
    path = actions.export_file(job)
    stamp = job.created_at.strftime("%Y%m%d")
    # filename* (RFC 5987, done by Django) keeps a Chinese workspace name intact.
    name = f"{job.workspace.name}-导出-{stamp}.zip".replace("/", "_")
    response = FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="application/zip")
    response["X-Content-Type-Options"] = "nosniff"
    return response
