"""Request limits for the endpoints an attacker would hammer: invitation tokens (looked up
without signing in) and issuing API tokens. Sign-in itself is limited by allauth
(``ACCOUNT_RATE_LIMITS``); message sends by ``messaging.actions``.

A fixed one-minute window per key in the shared cache (Redis when scaled out), so a limit
holds across processes. It fails open: the cache being down must not turn every request into
a 500 — these limits are abuse control, not correctness rules.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache

from hub.errors import RateLimited

logger = logging.getLogger(__name__)


def _count(scope: str, key: object) -> int | None:
    window = f"hub:rate:{scope}:{key}:{int(time.time() // 60)}"
    try:
        cache.add(window, 0, timeout=70)  # a no-op when the window exists; incr is atomic
        try:
            return int(cache.incr(window))
        except ValueError:  # expired between add and incr: start the window again
            cache.set(window, 1, timeout=70)
            return 1
    except Exception:
        logger.warning("rate limit %s unavailable (cache error); allowing the request", scope, exc_info=True)
        return None


def check_invitation_rate(ip: str | None) -> None:
    """Invitation look-ups (preview, the invitation page, accept) per client address: a token
    is a secret that anyone may try, so trying many must be slow."""
    limit = settings.HUB_INVITATION_RATE_PER_MINUTE
    count = _count("invitation", ip or "-") if limit > 0 else None
    if count is not None and count > limit:
        raise RateLimited(f"more than {limit} invitation look-ups a minute from this address; wait a minute")


def check_token_issue_rate(user_id: int) -> None:
    """New personal API tokens per person: a stolen session must not mint tokens in bulk."""
    limit = settings.HUB_TOKEN_ISSUE_RATE_PER_MINUTE
    count = _count("token-issue", user_id) if limit > 0 else None
    if count is not None and count > limit:
        raise RateLimited(f"more than {limit} new API tokens a minute; wait a minute")
