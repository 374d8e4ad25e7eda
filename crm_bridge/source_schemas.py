"""Request/response bodies of the ERP source admin API (``crm_bridge.sources_api``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import Field


class SourceIn(Schema):
    workspace: int
    name: str = Field(min_length=1, max_length=80)
    kind: Literal["odoo", "rest"]  # ERP-lite ("builtin") exists in every workspace already
    config: dict[str, Any]
    # Write-only: stored encrypted, answered masked ("••••cdef").
    credentials: dict[str, str] = Field(default_factory=dict)
    is_default: bool = False
    enabled: bool = True


class SourceUpdateIn(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=80)
    config: dict[str, Any] | None = None
    # Merged into the stored credentials: a key with an empty value removes that credential.
    credentials: dict[str, str] | None = None
    is_default: bool | None = None
    enabled: bool | None = None


class SyncStateOut(Schema):
    record_type: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    records_synced: int


class SourceOut(Schema):
    id: int
    workspace: int
    name: str
    kind: str
    config: dict[str, Any]
    credentials: dict[str, str] = Field(description="masked: never the stored values")
    credentials_readable: bool
    is_default: bool
    enabled: bool
    created_at: datetime
    circuit: str | None = Field(description="closed / open / half_open in this process; null before first use")


class HealthOut(Schema):
    ok: bool
    detail: str
    latency_ms: float | None


class SyncStatusOut(Schema):
    source_id: int
    lag_seconds: float | None = Field(description="seconds since the oldest record type's last good pass")
    states: list[SyncStateOut]


class WebhookOut(Schema):
    accepted: int
