"""Writes on ERP sources: create, update (credentials merged and re-encrypted), sync now.
Every change is audited; the audit data names credential *keys*, never values."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from pydantic import ValidationError

from crm_bridge.credentials import CredentialsError, decrypt_credentials, encrypt_credentials
from crm_bridge.models import ErpSource
from crm_bridge.sources.http import check_public_url
from hub.actions import audit
from hub.errors import HubError
from hub.models import Member


def validate_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """Check a source config for its kind; bad input is a 422 that says what is wrong."""
    from crm_bridge.sources.odoo import OdooConfig
    from crm_bridge.sources.rest import load_config

    try:
        if kind == ErpSource.Kind.ODOO:
            url = OdooConfig.model_validate(config).base_url
        elif kind == ErpSource.Kind.REST:
            url = load_config(config).base
        else:
            raise HubError("invalid_kind", f"sources of kind {kind!r} cannot be configured here", status=422)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise HubError("invalid_config", f"config.{where}: {first.get('msg', 'invalid')}", status=422) from None
    except KeyError as exc:  # an unknown time zone
        raise HubError("invalid_config", f"config: unknown value {exc}", status=422) from None
    try:
        check_public_url(url, allow_private=settings.HUB_ERP_ALLOW_PRIVATE_HOSTS)
    except ValueError as exc:
        raise HubError("invalid_config", f"config: {exc}", status=422) from None
    return config


def _clean_credentials(values: dict[str, str]) -> dict[str, str]:
    return {str(k).strip(): str(v) for k, v in values.items() if str(k).strip()}


def check_create_source(admin: Member, *, name: str, kind: str, config: dict[str, Any], credentials: dict[str, str],
                        is_default: bool, enabled: bool) -> ErpSource:  # fmt: skip
    validate_config(kind, config)
    return do_create_source(
        admin, name=name.strip(), kind=kind, config=config, credentials=_clean_credentials(credentials),
        is_default=is_default, enabled=enabled,
    )  # fmt: skip


def do_create_source(admin: Member, *, name: str, kind: str, config: dict[str, Any], credentials: dict[str, str],
                     is_default: bool, enabled: bool) -> ErpSource:  # fmt: skip
    try:
        with transaction.atomic():
            if is_default:
                ErpSource.objects.filter(workspace_id=admin.workspace_id, is_default=True).update(is_default=False)
            source = ErpSource.objects.create(
                workspace_id=admin.workspace_id, name=name, kind=kind, config=config,
                credentials_encrypted=encrypt_credentials(credentials), is_default=is_default, enabled=enabled,
            )  # fmt: skip
            audit(
                "erp_source.created", actor=admin.user, workspace=admin.workspace_id, target=source,
                name=name, kind=kind, credential_keys=sorted(credentials),
            )  # fmt: skip
    except IntegrityError:
        raise HubError("name_taken", f"this workspace already has a source named {name!r}", status=409) from None
    transaction.on_commit(_schedule)
    return source


def check_update_source(admin: Member, source: ErpSource, changes: dict[str, Any]) -> ErpSource:
    if "config" in changes:
        validate_config(source.kind, changes["config"])
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    if "credentials" in changes:
        try:
            stored = decrypt_credentials(source.credentials_encrypted)
        except CredentialsError:
            stored = {}  # unreadable after a key change: the admin is entering them again
        for key, value in _clean_credentials(changes["credentials"]).items():
            if value:
                stored[key] = value
            else:
                stored.pop(key, None)
        changes["credentials"] = stored
    return do_update_source(admin, source, changes)


def do_update_source(admin: Member, source: ErpSource, changes: dict[str, Any]) -> ErpSource:
    try:
        with transaction.atomic():
            if changes.get("is_default"):
                ErpSource.objects.filter(workspace_id=source.workspace_id, is_default=True).exclude(
                    pk=source.pk
                ).update(is_default=False)
            for field in ("name", "config", "is_default", "enabled"):
                if field in changes:
                    setattr(source, field, changes[field])
            if "credentials" in changes:
                source.credentials_encrypted = encrypt_credentials(changes["credentials"])
            source.save()
            audit(
                "erp_source.updated", actor=admin.user, workspace=source.workspace_id, target=source,
                fields=sorted(k for k in changes if k != "credentials"),
                credential_keys=sorted(changes["credentials"]) if "credentials" in changes else None,
            )  # fmt: skip
    except IntegrityError:
        raise HubError("name_taken", "this workspace already has a source with that name", status=409) from None
    transaction.on_commit(_schedule)
    return source


def do_request_sync(admin: Member, source: ErpSource, *, full: bool = False) -> None:
    """ "Sync now": queued for the worker (the immediate backend runs it at once)."""
    from crm_bridge.sync_tasks import sync_one_source

    if not source.enabled:
        raise HubError("source_disabled", "enable the source before syncing it", status=409)
    audit("erp_source.sync_requested", actor=admin.user, workspace=source.workspace_id, target=source, full=full)
    transaction.on_commit(lambda: sync_one_source.enqueue(source.pk, full))


def _schedule() -> None:
    from crm_bridge.sync_tasks import schedule_sync

    schedule_sync()
