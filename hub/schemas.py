"""Typed request and response bodies of the hub API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field


class WorkspaceRef(Schema):
    id: int
    name: str
    role: str


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    time_zone: str
    language: str
    mobile: str = ""
    avatar_url: str | None = None
    workspaces: list[WorkspaceRef]


class ProfileIn(Schema):
    display_name: str | None = Field(default=None, max_length=80)
    time_zone: str | None = Field(default=None, max_length=64)
    language: Literal["zh-hans", "en"] | None = None
    mobile: str | None = Field(
        default=None, max_length=24, description="Mobile number (robot payloads @mention by it)."
    )


class WorkspaceIn(Schema):
    name: str = Field(min_length=1, max_length=120)


class WorkspaceOut(Schema):
    id: int
    name: str


class WorkspaceSettingsIn(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    require_2fa_for_admins: bool | None = None
    read_receipts_enabled: bool | None = None


class WorkspaceSettingsOut(Schema):
    id: int
    name: str
    require_2fa_for_admins: bool
    read_receipts_enabled: bool


class PartnerIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    kind: Literal["customer", "supplier"]


class PartnerOut(Schema):
    id: int
    name: str
    kind: str


class InvitationIn(Schema):
    role: Literal["member", "admin", "guest"]
    partner_id: int | None = None
    email: str | None = Field(default=None, max_length=254)
    max_uses: int = Field(default=1, ge=1, le=1000)
    expires_in_days: int | None = Field(default=None, ge=1, le=90)


class InvitationOut(Schema):
    id: int
    token: str
    url: str
    expires_at: datetime
    role: str
    partner_id: int | None
    email: str
    max_uses: int


class InvitationPreview(Schema):
    workspace_name: str
    role: str
    partner_name: str | None
    email: str
    expires_at: datetime


class InvitationInfo(Schema):
    id: int
    role: str
    email: str
    partner_id: int | None
    expires_at: datetime
    max_uses: int
    use_count: int
    revoked: bool


class AcceptOut(Schema):
    workspace_id: int
    role: str
    partner_id: int | None = None


class MemberOut(Schema):
    user_id: int
    email: str
    display_name: str
    role: str
    partner_id: int | None
    title: str
    is_active: bool
    avatar_url: str | None = None


class RoleIn(Schema):
    role: Literal["owner", "admin", "member"]


class TokenIn(Schema):
    name: str = Field(default="personal", max_length=80)


class TokenOut(Schema):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class IssuedTokenOut(TokenOut):
    token: str


class AuditOut(Schema):
    id: int
    action: str
    actor_id: int | None
    target_type: str
    target_id: str
    data: dict[str, object]
    created_at: datetime
