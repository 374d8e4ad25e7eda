"""Audit log entries for allauth's sign-in events."""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in, user_logged_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from hub.models import AuditEvent


def _ip(request: HttpRequest | None) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_logged_in)
def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    AuditEvent.objects.create(
        actor=user, action="auth.login", target_type="user", target_id=str(user.pk), ip=_ip(request)
    )


@receiver(user_logged_out)
def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None and user.is_authenticated:
        AuditEvent.objects.create(
            actor=user, action="auth.logout", target_type="user", target_id=str(user.pk), ip=_ip(request)
        )


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Never store the password; the email helps spot credential stuffing.
    AuditEvent.objects.create(
        action="auth.login_failed", data={"email": str(credentials.get("email", ""))[:254]}, ip=_ip(request)
    )
