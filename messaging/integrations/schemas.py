"""Request and response bodies of the integrations API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

WebhookKind = Literal["slack", "mattermost", "dingtalk", "wecom", "feishu"]
EventType = Literal["message", "app_mention", "reaction", "member_joined"]


class WebhookIn(Schema):
    kind: WebhookKind
    name: str = Field(min_length=1, max_length=80, description="Shown as the sender of the webhook's messages.")
    signed: bool = Field(default=True, description="DingTalk and Feishu: require the platform's signature (加签).")
    keywords: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="DingTalk and Feishu: messages must contain one of these (自定义关键词).",
    )


class WebhookOut(Schema):
    id: int
    kind: WebhookKind
    name: str
    conversation_id: int
    bot_user_id: int
    signed: bool
    keywords: list[str]
    created_at: datetime
    last_used_at: datetime | None


class WebhookCreatedOut(WebhookOut):
    url: str = Field(description="The capability URL: shown once, keep it secret.")
    secret: str | None = Field(default=None, description="Signing secret (DingTalk, Feishu): shown once.")


class WebhookListOut(Schema):
    webhooks: list[WebhookOut]


class BotIn(Schema):
    name: str = Field(min_length=1, max_length=80)


class BotOut(Schema):
    id: int = Field(description="The bot's user id: add it to conversations like a person.")
    name: str
    active: bool


class BotTokenOut(BotOut):
    token: str = Field(description="API token (HTTP API and /ws/), shown once.")


class BotListOut(Schema):
    bots: list[BotOut]


class SubscriptionIn(Schema):
    url: str = Field(max_length=2000)
    events: list[EventType] = Field(min_length=1)


class SubscriptionOut(Schema):
    id: int
    bot_user_id: int
    url: str
    events: list[str]
    active: bool
    failure_streak: int
    disabled_at: datetime | None
    disabled_reason: str
    created_at: datetime


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(description="Verifies X-Hub-Signature on every delivery; shown once.")


class SubscriptionListOut(Schema):
    subscriptions: list[SubscriptionOut]


class DeliveryOut(Schema):
    id: int
    event_id: str
    event_type: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveryListOut(Schema):
    deliveries: list[DeliveryOut]


class DeliveryParams(Schema):
    limit: int = Field(default=50, ge=1, le=200)
    status: Literal["pending", "succeeded", "failed"] | None = None


class AppCommandIn(Schema):
    bot_id: int
    name: str = Field(min_length=1, max_length=33)
    url: str = Field(max_length=2000)
    usage: str = Field(default="", max_length=120)
    description: str = Field(default="", max_length=200)


class AppCommandOut(Schema):
    id: int
    bot_user_id: int
    name: str
    url: str
    usage: str
    description: str
    created_at: datetime


class AppCommandCreatedOut(AppCommandOut):
    token: str = Field(description='Sent as the form field "token" with every request; shown once.')
    signing_secret: str = Field(description="Verifies X-Hub-Signature on every request; shown once.")


class AppCommandListOut(Schema):
    commands: list[AppCommandOut]
