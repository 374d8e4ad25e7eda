"""API token authentication shared by the HTTP API and the WebSocket."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hub.models import ApiToken, User

# Writing last_used_at on every request would turn each read into a write; a minute is
# precise enough for "last used" in the token list.
_TOUCH_EVERY = timedelta(minutes=1)


def user_for_token(key: str) -> User | None:
    """The active user owning an unrevoked token, or None."""
    if not key.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash_key(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def bearer_key(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, key = authorization.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        return None
    return key.strip()
