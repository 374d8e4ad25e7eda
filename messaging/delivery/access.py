"""Channels belong to one person: anyone else's id is a 404 (existence is not confirmed)."""

from __future__ import annotations

from hub.errors import NotFound
from hub.models import User
from messaging.delivery.models import ForwardTarget, PushSubscription


def access_target(user: User, target_id: int) -> ForwardTarget:
    target = ForwardTarget.objects.filter(pk=target_id, user=user).first()
    if target is None:
        raise NotFound("forwarding target")
    return target


def access_subscription(user: User, subscription_id: int) -> PushSubscription:
    subscription = PushSubscription.objects.filter(pk=subscription_id, user=user).first()
    if subscription is None:
        raise NotFound("push subscription")
    return subscription
