"""Request and response bodies of the workspace policy API."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema


class PolicyOut(Schema):
    retention_days: int | None  # effective value; null = messages are kept forever
    storage_quota_bytes: int | None  # null = unlimited
    storage_used_bytes: int
    member_quota: int | None
    member_count: int
    last_retention_at: datetime | None


class PolicyIn(Schema):
    # Only retention is the workspace's own choice; quotas are the operator's (Django admin).
    retention_days: int | None
