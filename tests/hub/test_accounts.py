"""Accounts through django-allauth: sign-up with email verification, password reset, sign-in
rate limits, TOTP at sign-in, the headless API and SSO providers configured from the environment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from hub import actions
from hub.models import AuditEvent, User

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Longjing-Tea-2026"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()  # allauth keeps its rate-limit counters in the cache


def _link(body: str, pattern: str) -> str:
    match = re.search(pattern, body)
    assert match, body
    return match.group(0)


def test_signup_sends_verification_email_and_confirms() -> None:
    from allauth.account.models import EmailAddress

    client = Client()
    response = client.post(
        "/accounts/signup/", {"email": "Xiaoli@Tea.test", "password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302
    user = User.objects.get(email="xiaoli@tea.test")
    assert not EmailAddress.objects.get(user=user).verified
    assert len(mail.outbox) == 1
    path = _link(mail.outbox[0].body, r"/accounts/confirm-email/[^/\s]+/")
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    assert EmailAddress.objects.get(user=user).verified


def test_signup_bad_input() -> None:
    client = Client()
    response = client.post("/accounts/signup/", {"email": "not-an-email", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200  # the form again, with errors
    assert not User.objects.exists()
    response = client.post("/accounts/signup/", {"email": "a@tea.test", "password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert not User.objects.exists()


def test_password_reset_by_email() -> None:
    actions.do_create_user("forgetful@tea.test", "Old-Password-1", "健忘")
    client = Client()
    assert client.post("/accounts/password/reset/", {"email": "forgetful@tea.test"}).status_code == 302
    assert len(mail.outbox) == 1
    path = _link(mail.outbox[0].body, r"/accounts/password/reset/key/[^/\s]+/")
    response = client.get(path)
    assert response.status_code == 302  # allauth moves the key into the session first
    set_path = response["Location"]
    response = client.post(set_path, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert Client().login(email="forgetful@tea.test", password=PASSWORD)
    assert not Client().login(email="forgetful@tea.test", password="Old-Password-1")
    # An unknown address gets the same answer (no account enumeration) and no reset link.
    mail.outbox.clear()
    assert client.post("/accounts/password/reset/", {"email": "nobody@tea.test"}).status_code == 302
    assert all("/password/reset/key/" not in m.body for m in mail.outbox)


def _app_login(email: str, password: str) -> Any:
    return Client().post(
        "/_allauth/app/v1/auth/login", {"email": email, "password": password}, content_type="application/json"
    )


def test_headless_app_sign_in_gives_a_session_token() -> None:
    actions.do_create_user("app@tea.test", PASSWORD, "手机用户", email_verified=True)
    response = _app_login("app@tea.test", PASSWORD)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["data"]["user"]["email"] == "app@tea.test"
    session_token = body["meta"]["session_token"]
    session = Client().get("/_allauth/app/v1/auth/session", HTTP_X_SESSION_TOKEN=session_token)
    assert session.status_code == 200
    assert session.json()["meta"]["is_authenticated"] is True
    # The same session token authenticates the hub API (and can mint a personal token).
    me = Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN=session_token)
    assert me.status_code == 200
    assert me.json()["email"] == "app@tea.test"
    minted = Client().post(
        "/api/v1/tokens", {"name": "phone"}, content_type="application/json", HTTP_X_SESSION_TOKEN=session_token
    )
    assert minted.status_code == 201
    assert Client().get("/api/v1/me", HTTP_X_SESSION_TOKEN="bogus").status_code == 401
    assert AuditEvent.objects.filter(action="auth.login", actor__email="app@tea.test").exists()
    wrong = _app_login("app@tea.test", "nope-nope-nope")
    assert wrong.status_code == 400
    assert AuditEvent.objects.filter(action="auth.login_failed").exists()


def test_headless_browser_config_and_sign_in() -> None:
    actions.do_create_user("browser@tea.test", PASSWORD, email_verified=True)
    client = Client(enforce_csrf_checks=True)
    config = client.get("/_allauth/browser/v1/config")
    assert config.status_code == 200
    assert "login_methods" in config.json()["data"]["account"]
    csrf = client.cookies.get("csrftoken")
    if csrf is None:  # the config call may not set it; any page with a form does
        client.get("/accounts/login/")
        csrf = client.cookies["csrftoken"]
    response = client.post(
        "/_allauth/browser/v1/auth/login",
        json.dumps({"email": "browser@tea.test", "password": PASSWORD}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf.value,
    )
    assert response.status_code == 200, response.content
    # The same session now works for the hub API.
    assert client.get("/api/v1/me").json()["email"] == "browser@tea.test"


def _error_codes(response: Any) -> set[str]:
    return {str(e.get("code")) for e in response.json().get("errors", [])}


def test_failed_sign_ins_are_rate_limited() -> None:
    actions.do_create_user("target@tea.test", PASSWORD, email_verified=True)
    attempts = [_app_login("target@tea.test", f"guess-{i}-wrong") for i in range(7)]
    assert all(r.status_code == 400 for r in attempts)
    assert all("too_many_login_attempts" not in _error_codes(r) for r in attempts[:5])
    assert "too_many_login_attempts" in _error_codes(attempts[5])
    # Even the right password is refused while the limit holds (5 failures per 5 minutes per email).
    blocked = _app_login("target@tea.test", PASSWORD)
    assert blocked.status_code == 400
    assert "too_many_login_attempts" in _error_codes(blocked)
    # Another account from the same address is not blocked by that per-email limit.
    actions.do_create_user("other@tea.test", PASSWORD, email_verified=True)
    assert _app_login("other@tea.test", PASSWORD).status_code == 200


def test_deactivated_user_cannot_sign_in() -> None:
    user = actions.do_create_user("gone@tea.test", PASSWORD, email_verified=True)
    actions.do_deactivate_user(None, user)
    assert _app_login("gone@tea.test", PASSWORD).status_code != 200
    assert not Client().login(email="gone@tea.test", password=PASSWORD)


def test_totp_is_asked_at_sign_in() -> None:
    from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value

    user = actions.do_create_user("secure@tea.test", PASSWORD, email_verified=True)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client = Client()
    response = client.post("/accounts/login/", {"login": "secure@tea.test", "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/api/v1/me").status_code == 401  # not signed in yet
    assert client.post("/accounts/2fa/authenticate/", {"code": "000000"}).status_code == 200  # wrong code
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert client.get("/api/v1/me").json()["email"] == "secure@tea.test"


def _providers_with_env(extra: dict[str, str]) -> list[str]:
    """Provider ids allauth offers when the hub starts with ``extra`` in its environment
    (a fresh process, because settings read the environment once at start)."""
    script = (
        "import django, json; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from allauth.socialaccount.adapter import get_adapter;"
        "from django.test import RequestFactory;"
        "print(json.dumps(sorted(p.sub_id for p in get_adapter().list_providers(RequestFactory().get('/')))))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_SSO_")}
    env.update(extra, DJANGO_SETTINGS_MODULE="tests.settings", HUB_TEST_DATABASE_URL="sqlite://:memory:")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout.strip().splitlines()[-1]))


def test_sso_providers_come_from_the_environment() -> None:
    assert _providers_with_env({}) == []
    providers = _providers_with_env(
        {
            "HUB_SSO_DINGTALK_CLIENT_ID": "ding-id",
            "HUB_SSO_DINGTALK_SECRET": "ding-secret",
            "HUB_SSO_FEISHU_CLIENT_ID": "feishu-id",
            "HUB_SSO_FEISHU_SECRET": "feishu-secret",
            "HUB_SSO_WEIXIN_CLIENT_ID": "wx-id",
            "HUB_SSO_WEIXIN_SECRET": "wx-secret",
            "HUB_SSO_OIDC_CLIENT_ID": "oidc-id",
            "HUB_SSO_OIDC_SECRET": "oidc-secret",
            "HUB_SSO_OIDC_SERVER_URL": "https://sso.example.test/realms/hub",
        }
    )
    assert providers == ["dingtalk", "feishu", "oidc", "weixin"]


def test_login_page_lists_configured_sso(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {"feishu": {"APPS": [{"client_id": "feishu-id", "secret": "s"}]}}
    page = Client().get("/accounts/login/").content.decode()
    assert "/accounts/feishu/login/" in page
