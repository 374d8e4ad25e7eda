"""Forwarding to where a person's phone already listens: a robot (``robots``), an email
address, or any apprise URL (Telegram, Bark, ntfy, Gotify, Mattermost, a JSON webhook, …)."""

from __future__ import annotations

import logging
from smtplib import SMTPException

import apprise
from django.core.mail import send_mail

from messaging.delivery import netguard, robots
from messaging.delivery.compose import Notice
from messaging.delivery.crypto import redact, secret_parts
from messaging.delivery.outcome import Outcome

# Robot and apprise URLs carry their secret in the path or query. urllib3 prints request lines
# at DEBUG and apprise may quote URLs in its messages: keep both out of the logs whatever
# LOG_LEVEL says (failures reach the person through the target's last_error, redacted).
# apprise's records still reach its own per-call capture (``result.logs()``), which we read;
# at DEBUG, because the reason behind "a connection error occurred" is only logged there.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
_apprise_logger = logging.getLogger("apprise")
_apprise_logger.propagate = False
_apprise_logger.addHandler(logging.NullHandler())
_apprise_logger.setLevel(logging.DEBUG)

# apprise schemes that talk to this machine's desktop or system log rather than a phone.
LOCAL_APPRISE_SCHEMES = {"dbus", "kde", "qt", "glib", "gnome", "macosx", "windows", "syslog", "rsyslog", "file"}


def send(kind: str, values: dict[str, str], notice: Notice) -> Outcome:
    if kind in ("wecom", "dingtalk", "feishu"):
        return robots.send(kind, values["url"], values.get("secret", ""), notice)
    if kind == "email":
        return send_email(values["url"], notice)
    if kind == "apprise":
        return send_apprise(values["url"], notice)
    return Outcome.permanent(f"unknown target kind {kind}")


def send_email(address: str, notice: Notice) -> Outcome:
    body = f"{notice.body}\n\n{notice.url}" if notice.body else notice.url
    try:
        send_mail(f"[{notice.app_name}] {notice.title}", body, None, [address])
    except (SMTPException, OSError) as exc:
        return Outcome.transient(f"the mail server refused or could not be reached: {type(exc).__name__}")
    return Outcome.success()


def apprise_service(url: str) -> apprise.Apprise | None:
    """An Apprise object holding exactly this URL, or None when apprise does not understand it."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in LOCAL_APPRISE_SCHEMES:
        return None
    service = apprise.Apprise()
    return service if service.add(url) else None


def send_apprise(url: str, notice: Notice) -> Outcome:
    service = apprise_service(url)
    if service is None:
        return Outcome.permanent("apprise does not understand this URL")
    body = f"{notice.body}\n{notice.url}" if notice.body else notice.url
    with netguard.guarded():
        result = service.notify(body=body, title=f"{notice.app_name}: {notice.title}", log_level=logging.DEBUG)
    if result:
        return Outcome.success()
    entries = list(result.logs())
    if any("is not a public address" in entry.message for entry in entries):
        return Outcome.permanent("the target's host is not a public address")
    # Only warnings and errors are shown: debug lines quote the full URL.
    messages = [entry.message for entry in entries if entry.level in ("WARNING", "ERROR", "CRITICAL")]
    text = " ".join(messages[-2:]) or "the service did not accept the notification"
    return Outcome.transient(redact(text, secret_parts(url)))
