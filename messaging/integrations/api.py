"""HTTP API of the integrations (mounted under /api/v1/): incoming webhooks of a
conversation, bots of a workspace, their event subscriptions with the delivery log, and
external slash commands. Thin: authenticate, check access, call one action, serialise."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from hub import bots as hub_bots
from hub.access import access_workspace_admin
from hub.apicore import authed_user
from messaging.integrations import access, actions, queries
from messaging.integrations.schemas import (
    AppCommandCreatedOut,
    AppCommandIn,
    AppCommandListOut,
    BotIn,
    BotListOut,
    BotTokenOut,
    DeliveryListOut,
    DeliveryParams,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionListOut,
    SubscriptionOut,
    WebhookCreatedOut,
    WebhookIn,
    WebhookListOut,
)

router = Router(tags=["integrations"])


# --- incoming webhooks ------------------------------------------------------------------------


@router.post("/conversations/{conversation_id}/webhooks", response={201: WebhookCreatedOut})
def create_webhook(request: HttpRequest, conversation_id: int, payload: WebhookIn) -> Status[dict[str, object]]:
    member, conversation = access.access_conversation_for_webhooks(authed_user(request), conversation_id)
    issued = actions.do_create_webhook(
        member, conversation, payload.kind, payload.name, signed=payload.signed, keywords=payload.keywords
    )
    return Status(201, {**queries.webhook_row(issued.webhook), "url": issued.url, "secret": issued.secret})


@router.get("/conversations/{conversation_id}/webhooks", response=WebhookListOut)
def list_webhooks(request: HttpRequest, conversation_id: int) -> dict[str, object]:
    _, conversation = access.access_conversation_for_webhooks(authed_user(request), conversation_id)
    return {"webhooks": queries.conversation_webhooks(conversation)}


@router.delete("/webhooks/{webhook_id}", response={204: None})
def revoke_webhook(request: HttpRequest, webhook_id: int) -> Status[None]:
    member, webhook = access.access_webhook(authed_user(request), webhook_id)
    actions.do_revoke_webhook(member, webhook)
    return Status(204, None)


# --- bots -----------------------------------------------------------------------------------------


@router.post("/workspaces/{ws}/bots", response={201: BotTokenOut})
def create_bot(request: HttpRequest, ws: int, payload: BotIn) -> Status[dict[str, object]]:
    admin = access_workspace_admin(authed_user(request), ws)
    issued = hub_bots.do_create_bot(admin, payload.name)
    return Status(201, {**queries.bot_row(issued.member), "token": issued.token})


@router.get("/workspaces/{ws}/bots", response=BotListOut)
def list_bots(request: HttpRequest, ws: int) -> dict[str, object]:
    access_workspace_admin(authed_user(request), ws)
    return {"bots": [queries.bot_row(b) for b in hub_bots.app_bots(ws)]}


@router.post("/workspaces/{ws}/bots/{bot_id}/token", response=BotTokenOut)
def rotate_bot_token(request: HttpRequest, ws: int, bot_id: int) -> dict[str, object]:
    admin = access_workspace_admin(authed_user(request), ws)
    issued = hub_bots.do_rotate_bot_token(admin, access.access_app_bot(admin, bot_id))
    return {**queries.bot_row(issued.member), "token": issued.token}


@router.delete("/workspaces/{ws}/bots/{bot_id}", response={204: None})
def deactivate_bot(request: HttpRequest, ws: int, bot_id: int) -> Status[None]:
    admin = access_workspace_admin(authed_user(request), ws)
    hub_bots.do_deactivate_bot(admin, access.access_app_bot(admin, bot_id))
    return Status(204, None)


# --- outgoing event subscriptions -------------------------------------------------------------


@router.post("/workspaces/{ws}/bots/{bot_id}/subscriptions", response={201: SubscriptionCreatedOut})
def create_subscription(
    request: HttpRequest, ws: int, bot_id: int, payload: SubscriptionIn
) -> Status[dict[str, object]]:
    admin = access_workspace_admin(authed_user(request), ws)
    bot = access.access_app_bot(admin, bot_id)
    issued = actions.do_create_subscription(admin, bot, payload.url, list(payload.events))
    return Status(201, {**queries.subscription_row(issued.subscription), "secret": issued.secret})


@router.get("/workspaces/{ws}/subscriptions", response=SubscriptionListOut)
def list_subscriptions(request: HttpRequest, ws: int) -> dict[str, object]:
    access_workspace_admin(authed_user(request), ws)
    return {"subscriptions": queries.workspace_subscriptions(ws)}


@router.post("/subscriptions/{subscription_id}/enable", response=SubscriptionOut)
def enable_subscription(request: HttpRequest, subscription_id: int) -> dict[str, object]:
    admin, subscription = access.access_subscription(authed_user(request), subscription_id)
    return queries.subscription_row(actions.do_set_subscription_active(admin, subscription, True))


@router.post("/subscriptions/{subscription_id}/disable", response=SubscriptionOut)
def disable_subscription(request: HttpRequest, subscription_id: int) -> dict[str, object]:
    admin, subscription = access.access_subscription(authed_user(request), subscription_id)
    return queries.subscription_row(actions.do_set_subscription_active(admin, subscription, False))


@router.delete("/subscriptions/{subscription_id}", response={204: None})
def delete_subscription(request: HttpRequest, subscription_id: int) -> Status[None]:
    admin, subscription = access.access_subscription(authed_user(request), subscription_id)
    actions.do_delete_subscription(admin, subscription)
    return Status(204, None)


@router.get("/subscriptions/{subscription_id}/deliveries", response=DeliveryListOut)
def list_deliveries(request: HttpRequest, subscription_id: int, params: Query[DeliveryParams]) -> dict[str, object]:
    _, subscription = access.access_subscription(authed_user(request), subscription_id)
    return {"deliveries": queries.deliveries(subscription, params.limit, params.status)}


# --- slash commands of external apps ----------------------------------------------------------


@router.post("/workspaces/{ws}/app-commands", response={201: AppCommandCreatedOut})
def register_command(request: HttpRequest, ws: int, payload: AppCommandIn) -> Status[dict[str, object]]:
    admin = access_workspace_admin(authed_user(request), ws)
    bot = access.access_app_bot(admin, payload.bot_id)
    issued = actions.do_register_command(admin, bot, payload.name, payload.url, payload.usage, payload.description)
    row = queries.command_row(issued.command)
    return Status(201, {**row, "token": issued.token, "signing_secret": issued.signing_secret})


@router.get("/workspaces/{ws}/app-commands", response=AppCommandListOut)
def list_app_commands(request: HttpRequest, ws: int) -> dict[str, object]:
    access_workspace_admin(authed_user(request), ws)
    return {"commands": queries.workspace_commands(ws)}


@router.delete("/app-commands/{command_id}", response={204: None})
def revoke_command(request: HttpRequest, command_id: int) -> Status[None]:
    admin, command = access.access_app_command(authed_user(request), command_id)
    actions.do_revoke_command(admin, command)
    return Status(204, None)
