"""``/api/v1/me/notify/…``: a person's own Web Push subscriptions and forwarding targets
(docs/notifications.md). Views authenticate, parse, call one action, serialise."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from hub.apicore import authed_user
from messaging.delivery import access, actions, vapid
from messaging.delivery.models import ForwardTarget, PushSubscription
from messaging.delivery.schemas import (
    PushConfigOut,
    PushSubscriptionIn,
    PushSubscriptionOut,
    PushTrialOut,
    PushUnsubscribeIn,
    TargetIn,
    TargetOut,
    TargetPatchIn,
    TrialOut,
)

router = Router(tags=["notifications"])


@router.get("/me/notify/push", response=PushConfigOut)
def push_config(request: HttpRequest) -> object:
    """The server's VAPID public key and the caller's subscribed browsers."""
    user = authed_user(request)
    return {
        "vapid_public_key": vapid.public_key(),
        "subscriptions": list(PushSubscription.objects.filter(user=user).order_by("pk")),
    }


@router.post("/me/notify/push/subscriptions", response={201: PushSubscriptionOut})
def subscribe_push(request: HttpRequest, payload: PushSubscriptionIn) -> Status[object]:
    """Idempotent per browser (the same endpoint updates its row)."""
    subscription = actions.check_subscribe_push(
        authed_user(request), payload.endpoint, payload.keys.p256dh, payload.keys.auth, payload.user_agent
    )
    return Status(201, subscription)


@router.post("/me/notify/push/unsubscribe", response={204: None})
def unsubscribe_push(request: HttpRequest, payload: PushUnsubscribeIn) -> Status[None]:
    """By endpoint: what the browser knows. Unknown endpoints are fine (already gone)."""
    actions.do_unsubscribe_push(authed_user(request), payload.endpoint)
    return Status(204, None)


@router.delete("/me/notify/push/subscriptions/{subscription_id}", response={204: None})
def remove_subscription(request: HttpRequest, subscription_id: int) -> Status[None]:
    user = authed_user(request)
    actions.do_remove_subscription(user, access.access_subscription(user, subscription_id))
    return Status(204, None)


@router.post("/me/notify/push/test", response=PushTrialOut)
def test_push(request: HttpRequest) -> object:
    """A test notification to every subscribed browser of the caller, now; says what failed."""
    return {"results": actions.check_test_push(authed_user(request))}


@router.get("/me/notify/targets", response=list[TargetOut])
def list_targets(request: HttpRequest) -> object:
    return ForwardTarget.objects.filter(user=authed_user(request)).order_by("pk")


@router.post("/me/notify/targets", response={201: TargetOut})
def add_target(request: HttpRequest, payload: TargetIn) -> Status[object]:
    target = actions.check_add_target(authed_user(request), payload.kind, payload.label, payload.url, payload.secret)
    return Status(201, target)


@router.patch("/me/notify/targets/{target_id}", response=TargetOut)
def update_target(request: HttpRequest, target_id: int, payload: TargetPatchIn) -> object:
    user = authed_user(request)
    target = access.access_target(user, target_id)
    return actions.check_update_target(user, target, **payload.dict(exclude_unset=True))


@router.delete("/me/notify/targets/{target_id}", response={204: None})
def remove_target(request: HttpRequest, target_id: int) -> Status[None]:
    user = authed_user(request)
    actions.do_remove_target(user, access.access_target(user, target_id))
    return Status(204, None)


@router.post("/me/notify/targets/{target_id}/test", response=TrialOut)
def test_target(request: HttpRequest, target_id: int) -> object:
    """One test message through this target, now (no retries); ``ok`` and, if not, why."""
    user = authed_user(request)
    return actions.check_test_target(user, access.access_target(user, target_id))
