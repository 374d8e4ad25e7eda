"""HTTP API of ERP sources: the admin's list / create / update (credentials write-only, shown
masked), test connection, sync now, sync status — and the webhook receiver the ERP calls.

``POST /api/v1/erp/sources/{id}/webhook`` is unauthenticated by design: the source's adapter
verifies the signature (``parse_webhook``), and the named records are then *re-read* from the
source in the background — a webhook is a hint, never data we trust."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from crm_bridge import source_actions
from crm_bridge.access import access_source_admin
from crm_bridge.credentials import CredentialsError, decrypt_credentials, masked
from crm_bridge.models import ErpSource, SyncState
from crm_bridge.resilience import breaker_state
from crm_bridge.source_schemas import (
    HealthOut,
    SourceIn,
    SourceOut,
    SourceUpdateIn,
    SyncStatusOut,
    WebhookOut,
)
from crm_bridge.sources.base import SourceError, SourcePermissionDenied
from crm_bridge.sources.registry import build_source
from crm_bridge.sync import sync_lag_seconds
from hub.access import access_workspace_admin
from hub.apicore import authed_user
from hub.errors import HubError, NotFound

router = Router(tags=["erp sources"])
MAX_WEBHOOK_RECORDS = 100


def _out(source: ErpSource) -> dict[str, Any]:
    try:
        credentials, readable = masked(decrypt_credentials(source.credentials_encrypted)), True
    except CredentialsError:
        credentials, readable = {}, False
    state = breaker_state(str(source.pk))
    return {
        "id": source.pk,
        "workspace": source.workspace_id,
        "name": source.name,
        "kind": source.kind,
        "config": source.config,
        "credentials": credentials,
        "credentials_readable": readable,
        "is_default": source.is_default,
        "enabled": source.enabled,
        "created_at": source.created_at,
        "circuit": str(state) if state else None,
    }


def _status(source: ErpSource) -> dict[str, Any]:
    states = SyncState.objects.filter(source=source).order_by("record_type")
    return {"source_id": source.pk, "lag_seconds": sync_lag_seconds(source), "states": list(states)}


@router.get("/erp/sources", response=list[SourceOut])
def list_sources(request: HttpRequest, workspace: int) -> list[dict[str, Any]]:
    admin = access_workspace_admin(authed_user(request), workspace)
    return [_out(s) for s in ErpSource.objects.filter(workspace_id=admin.workspace_id).order_by("pk")]


@router.post("/erp/sources", response={201: SourceOut})
def create_source(request: HttpRequest, payload: SourceIn) -> Status[dict[str, Any]]:
    admin = access_workspace_admin(authed_user(request), payload.workspace)
    source = source_actions.check_create_source(
        admin,
        name=payload.name,
        kind=payload.kind,
        config=payload.config,
        credentials=payload.credentials,
        is_default=payload.is_default,
        enabled=payload.enabled,
    )
    return Status(201, _out(source))


@router.get("/erp/sources/{source_id}", response=SourceOut)
def get_source(request: HttpRequest, source_id: int) -> dict[str, Any]:
    _, source = access_source_admin(authed_user(request), source_id)
    return _out(source)


@router.patch("/erp/sources/{source_id}", response=SourceOut)
def update_source(request: HttpRequest, source_id: int, payload: SourceUpdateIn) -> dict[str, Any]:
    admin, source = access_source_admin(authed_user(request), source_id)
    return _out(source_actions.check_update_source(admin, source, payload.dict(exclude_unset=True)))


@router.post("/erp/sources/{source_id}/test", response=HealthOut)
def test_source(request: HttpRequest, source_id: int) -> dict[str, Any]:
    _, source = access_source_admin(authed_user(request), source_id)
    try:
        health = build_source(source).health()
    except (SourceError, CredentialsError, LookupError, ValueError) as exc:
        return {"ok": False, "detail": str(exc), "latency_ms": None}
    return {"ok": health.ok, "detail": health.detail, "latency_ms": health.latency_ms}


@router.post("/erp/sources/{source_id}/sync", response={202: SyncStatusOut})
def sync_now(request: HttpRequest, source_id: int, full: bool = False) -> Status[dict[str, Any]]:
    admin, source = access_source_admin(authed_user(request), source_id)
    source_actions.do_request_sync(admin, source, full=full)
    return Status(202, _status(source))


@router.get("/erp/sources/{source_id}/sync", response=SyncStatusOut)
def sync_status(request: HttpRequest, source_id: int) -> dict[str, Any]:
    _, source = access_source_admin(authed_user(request), source_id)
    return _status(source)


@router.post("/erp/sources/{source_id}/webhook", response={202: WebhookOut}, auth=None)
def webhook(request: HttpRequest, source_id: int) -> Status[dict[str, int]]:
    from crm_bridge.sync_tasks import refresh_records

    source = ErpSource.objects.filter(pk=source_id, enabled=True).first()
    if source is None:
        raise NotFound("ERP source")
    headers = dict(request.headers)
    if request.GET.get("token"):
        # Odoo's webhook automation cannot sign or add headers: its URL carries the secret.
        headers["X-Hub-Webhook-Token"] = request.GET["token"]
    try:
        refs = build_source(source).parse_webhook(headers, request.body)
    except SourcePermissionDenied:
        raise HubError("bad_signature", "webhook signature or token does not match", status=403) from None
    except (SourceError, CredentialsError, LookupError, ValueError) as exc:
        raise HubError("bad_webhook", f"cannot read this webhook: {exc}", status=400) from None
    refs = list(dict.fromkeys(refs))[:MAX_WEBHOOK_RECORDS]
    if refs:
        refresh_records.enqueue(source.pk, [f"{r.type}:{r.key}" for r in refs])
    return Status(202, {"accepted": len(refs)})
