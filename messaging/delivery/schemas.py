"""Request and response bodies of the notification-channel API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema

TargetKind = Literal["wecom", "dingtalk", "feishu", "email", "apprise"]


class PushKeysIn(Schema):
    p256dh: str = Field(..., max_length=200)
    auth: str = Field(..., max_length=100)


class PushSubscriptionIn(Schema):
    """What ``PushSubscription.toJSON()`` gives in the browser, plus an optional label."""

    endpoint: str = Field(..., max_length=2000)
    keys: PushKeysIn
    user_agent: str = Field("", max_length=400)


class PushUnsubscribeIn(Schema):
    endpoint: str = Field(..., max_length=2000)


class PushSubscriptionOut(Schema):
    id: int
    host: str = Field(..., description="the push service (the endpoint itself is never shown)")
    user_agent: str
    created_at: datetime
    last_success_at: datetime | None
    last_error: str


class PushConfigOut(Schema):
    vapid_public_key: str = Field(..., description="applicationServerKey for PushManager.subscribe() (base64url)")
    subscriptions: list[PushSubscriptionOut]


class TargetIn(Schema):
    kind: TargetKind
    label: str = Field("", max_length=60)
    url: str = Field(
        ..., min_length=1, max_length=2000, description="robot webhook URL, email address (kind email) or apprise URL"
    )
    secret: str = Field("", max_length=200, description="DingTalk 加签 / Feishu signature secret (optional)")


class TargetPatchIn(Schema):
    label: str | None = Field(None, max_length=60)
    enabled: bool | None = None
    url: str | None = Field(None, min_length=1, max_length=2000)
    secret: str | None = Field(None, max_length=200, description='"" removes the signing secret')


class TargetOut(Schema):
    id: int
    kind: str
    label: str
    masked: str = Field(..., description="enough of the URL to tell targets apart; never the whole of it")
    has_secret: bool
    enabled: bool
    created_at: datetime
    last_success_at: datetime | None
    last_error: str
    failure_count: int


class TrialOut(Schema):
    id: int
    ok: bool
    detail: str = Field(..., description="why it failed (empty on success)")


class PushTrialOut(Schema):
    results: list[TrialOut]
