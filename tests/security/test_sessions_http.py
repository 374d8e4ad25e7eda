"""Sessions and tokens over HTTP: CSRF on every state-changing endpoint and form (enumerated
from the OpenAPI document and the URL conf), rate limits on sign-in, invitations and token
issue, 2FA for admins on every workspace operation, and secrets never stored or logged in
the clear."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from hub.models import Workspace
from tests.security.matrix_rules import ADMIN, CASES
from tests.security.matrix_world import MatrixWorld, matrix_world
from tests.security.test_matrix_http import _request

__all__ = ["matrix_world"]

WRITE_METHODS = ("post", "put", "patch", "delete")


def _session_client(world: MatrixWorld, persona: str = "owner") -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.personas[persona].user)  # type: ignore[union-attr]
    return client


# --- CSRF ------------------------------------------------------------------------------------


def session_write_operations() -> list[tuple[str, str]]:
    """Every state-changing API operation a browser session can call (those with auth)."""
    import hub.urls  # noqa: F401
    from hub.apicore import api

    schema = api.get_openapi_schema()
    return sorted(
        (method, path)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in WRITE_METHODS and op.get("security")
    )


@pytest.mark.parametrize(("method", "path"), session_write_operations(), ids=lambda v: str(v))
def test_every_session_write_to_the_api_needs_the_csrf_token(
    db: Any, matrix_world: MatrixWorld, method: str, path: str
) -> None:
    url = re.sub(r"\{\w+\}", "1", path)
    client = _session_client(matrix_world)
    response = client.generic(method.upper(), url, "{}", content_type="application/json")
    assert response.status_code == 403, (response.status_code, response.content[:200])
    assert response.json()["error"]["code"] == "csrf_failed"


def test_the_csrf_token_lets_the_same_session_write(db: Any, matrix_world: MatrixWorld) -> None:
    client = _session_client(matrix_world)
    client.get("/")  # the page sets the csrftoken cookie, as the browser's first load does
    token = client.cookies["csrftoken"].value
    response = client.patch(
        "/api/v1/me", {"display_name": "新"}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200, response.content


# Routes that take no cookies, so cross-site requests cannot ride a session: incoming webhooks
# (their key is the credential) and allauth's headless *app* API (X-Session-Token). The API
# itself is exempt from Django's middleware and checks CSRF in its own auth (tested above).
CSRF_EXEMPT_PREFIXES = ("api/v1/", "hooks/", "robot/send", "cgi-bin/webhook/send", "open-apis/", "_allauth/app/")


def form_routes() -> list[str]:
    def walk(patterns: list[Any], prefix: str) -> Any:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return sorted(r for r in set(walk(get_resolver().url_patterns, "")) if not r.startswith(CSRF_EXEMPT_PREFIXES))


def _concrete(route: str) -> str:
    """A URL matching the route: parameters filled with harmless values, regex anchors dropped."""
    url = re.sub(r"\(\?P<\w+>[^)]*\)", "x", route).replace("^", "").replace("$", "")
    url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "1" if m.group(1).endswith("id") else "x", url)
    return "/" + url


@pytest.mark.parametrize("route", form_routes())
def test_every_form_and_page_refuses_a_session_post_without_the_csrf_token(
    db: Any, matrix_world: MatrixWorld, route: str
) -> None:
    response = _session_client(matrix_world).post(_concrete(route), {"x": "1"})
    assert response.status_code == 403, (route, response.status_code)


# --- rate limits -----------------------------------------------------------------------------


def test_invitation_lookups_are_rate_limited_per_address(db: Any, matrix_world: MatrixWorld, settings: Any) -> None:
    settings.HUB_INVITATION_RATE_PER_MINUTE = 5
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    answers = [guesser.get(f"/api/v1/invitations/guess-{i}").status_code for i in range(5)]
    assert 429 not in answers
    blocked = guesser.get(f"/api/v1/invitations/{matrix_world.ids['invitation']['token']}")
    assert blocked.status_code == 429
    assert blocked.json()["error"] == {
        "code": "rate_limited",
        "message": "more than 5 invitation look-ups a minute from this address; wait a minute",
    }
    # The HTML page and accepting count against the same budget …
    assert guesser.get("/invite/guess/").status_code == 429
    token = matrix_world.personas["outsider"].token  # type: ignore[union-attr]
    accept = guesser.post("/api/v1/invitations/guess/accept", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert accept.status_code == 429
    # … and another address is not affected.
    assert Client(REMOTE_ADDR="198.51.100.8").get("/api/v1/invitations/guess").status_code == 404


def test_issuing_api_tokens_is_rate_limited_per_person(db: Any, matrix_world: MatrixWorld, settings: Any) -> None:
    settings.HUB_TOKEN_ISSUE_RATE_PER_MINUTE = 3
    member = matrix_world.client("member")
    assert [
        member.post("/api/v1/tokens", {"name": f"t{i}"}, content_type="application/json").status_code for i in range(3)
    ] == [201, 201, 201]
    blocked = member.post("/api/v1/tokens", {"name": "t4"}, content_type="application/json")
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "rate_limited"
    assert "new API tokens a minute" in blocked.json()["error"]["message"]
    other = matrix_world.client("admin").post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert other.status_code == 201


def test_failed_html_sign_ins_are_rate_limited(db: Any, matrix_world: MatrixWorld) -> None:
    """allauth's limit (5 failures per 5 minutes per address): the form then refuses even the
    right password, saying why. (allauth answers the form with 200 and the message, not 429;
    the headless API's 400 ``too_many_login_attempts`` is tested in tests/hub/test_accounts.py.)"""
    too_many = "登录失败次数过多"
    client = Client()
    for i in range(5):
        response = client.post("/accounts/login/", {"login": "member@tea.test", "password": f"wrong-{i}"})
        assert response.status_code == 200 and too_many not in response.content.decode()
    blocked = client.post("/accounts/login/", {"login": "member@tea.test", "password": "pw-Secret-123"})
    assert too_many in blocked.content.decode()
    assert "_auth_user_id" not in client.session


# --- 2FA for admins --------------------------------------------------------------------------

# Operations that are about the person, not a workspace: an admin without TOTP still reaches
# them (that is how the apps learn they must set it up, and how they do it).
NOT_WORKSPACE_SCOPED = {
    "GET /api/v1/me",
    "PATCH /api/v1/me",
    "POST /api/v1/me/avatar",
    "DELETE /api/v1/me/avatar",
    "POST /api/v1/workspaces",
    "GET /api/v1/tokens",
    "POST /api/v1/tokens",
    "DELETE /api/v1/tokens/{token_id}",
    "GET /api/v1/invitations/{token}",
    "POST /api/v1/invitations/{token}/accept",
    "GET /api/v1/me/notifications",
    "PATCH /api/v1/me/notifications",
    "GET /api/v1/me/notify/push",
    "POST /api/v1/me/notify/push/subscriptions",
    "POST /api/v1/me/notify/push/unsubscribe",
    "POST /api/v1/me/notify/push/test",
    "GET /api/v1/me/notify/targets",
    "POST /api/v1/me/notify/targets",
    # A colleague's picture: shown wherever their name is (hub.access.shares_workspace).
    "GET /api/v1/users/{user_id}/avatar",
    # Spans workspaces: answers 200, leaving the held-back workspace's conversations out
    # (test_bulk_replay_and_the_socket_respect_the_2fa_requirement).
    "GET /api/v1/events",
}
ADMIN_CASES = [c for c in CASES if ADMIN in c.ok and c.route not in NOT_WORKSPACE_SCOPED]


@pytest.mark.parametrize("case", ADMIN_CASES, ids=[c.id for c in ADMIN_CASES])
def test_an_admin_without_totp_is_stopped_everywhere_when_the_workspace_requires_it(
    db: Any, matrix_world: MatrixWorld, case: Any
) -> None:
    Workspace.objects.filter(pk=matrix_world.ids["ws"]).update(require_2fa_for_admins=True)
    response = _request(case, matrix_world, ADMIN)
    assert response.status_code == 403, (response.status_code, response.content[:200])
    assert response.json()["error"]["code"] == "mfa_required"


def test_bulk_replay_and_the_socket_respect_the_2fa_requirement(db: Any, matrix_world: MatrixWorld) -> None:
    """The paths that span workspaces leave out a workspace whose 2FA requirement holds the
    admin back — else GET /events and /ws/ would read what every other endpoint refuses."""
    from messaging.consumers.state import readable_last_seqs, socket_access

    w = matrix_world
    public, admin_id = w.ids["public"], w.user_id(ADMIN)
    admin = w.client(ADMIN)
    before = admin.get("/api/v1/events", {"cursors": f"{public}:0"}).json()
    assert str(public) in before["conversations"]
    assert public in readable_last_seqs(admin_id, [public])
    Workspace.objects.filter(pk=w.ids["ws"]).update(require_2fa_for_admins=True)
    after = admin.get("/api/v1/events", {"cursors": f"{public}:0"}).json()
    assert after == {"conversations": {}, "omitted": [public]}
    assert readable_last_seqs(admin_id, [public]) == {}
    assert w.ids["ws"] not in socket_access(admin_id).workspaces
    # Members are not held back.
    assert w.ids["ws"] in socket_access(w.user_id("member")).workspaces


# --- secrets ---------------------------------------------------------------------------------

SECRETS = {
    "erp_password": "erp-Pass-7f3a9c",
    "erp_api_key": "erp-Key-51b0e2",
    "target_secret": "SECe1d2c3b4a5",
    "target_key": "robot-key-9d8c7b",
}


def test_secrets_are_never_logged_nor_stored_in_the_clear(
    db: Any, matrix_world: MatrixWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """Every flow that handles a secret — ERP credentials, API and bot tokens, webhook keys,
    invitation tokens, a notification robot's URL key and signing secret — runs with every
    logger at DEBUG; then neither the captured logs nor any database row holds one."""
    from django.apps import apps
    from django.core import serializers

    w = matrix_world
    owner, member = w.client("owner"), w.client("member")
    caplog.set_level(logging.DEBUG)
    seen: list[str] = list(SECRETS.values())

    def ok(response: Any) -> Any:
        assert response.status_code < 300, response.content[:300]
        return response.json() if response.get("Content-Type", "").startswith("application/json") else None

    # ERP credentials: created, then rotated.
    source = ok(
        owner.post(
            "/api/v1/erp/sources",
            {
                "workspace": w.ids["ws"],
                "name": "Odoo",
                "kind": "odoo",
                "config": {"url": "https://93.184.216.34", "database": "db"},
                "credentials": {"username": "u", "password": SECRETS["erp_password"]},
            },
            content_type="application/json",
        )
    )
    ok(
        owner.patch(
            f"/api/v1/erp/sources/{source['id']}",
            {"credentials": {"username": "u", "api_key": SECRETS["erp_api_key"]}},
            content_type="application/json",
        )
    )
    # Tokens: a personal one, a bot's, a rotated bot's.
    seen.append(ok(member.post("/api/v1/tokens", {"name": "ci"}, content_type="application/json"))["token"])
    bot = ok(owner.post(f"/api/v1/workspaces/{w.ids['ws']}/bots", {"name": "b"}, content_type="application/json"))
    seen.append(bot["token"])
    seen.append(ok(owner.post(f"/api/v1/workspaces/{w.ids['ws']}/bots/{bot['id']}/token"))["token"])
    # Webhooks: the key in the URL, used once.
    hook = ok(
        owner.post(
            f"/api/v1/conversations/{w.ids['shared']}/webhooks",
            {"kind": "slack", "name": "CI"},
            content_type="application/json",
        )
    )
    key = hook["url"].rsplit("/", 1)[1]
    seen.append(key)
    ok(Client().post(f"/hooks/slack/{key}", {"text": "构建成功"}, content_type="application/json"))
    # Invitations: issued, previewed, accepted.
    invitation = ok(
        owner.post(f"/api/v1/workspaces/{w.ids['ws']}/invitations", {"role": "member"}, content_type="application/json")
    )
    seen.append(invitation["token"])
    ok(Client().get(f"/api/v1/invitations/{invitation['token']}"))
    ok(w.client("outsider").post(f"/api/v1/invitations/{invitation['token']}/accept"))
    # A notification robot: its URL carries a key, and it has a signing secret.
    ok(
        member.post(
            "/api/v1/me/notify/targets",
            {
                "kind": "dingtalk",
                "url": f"https://oapi.dingtalk.com/robot/send?access_token={SECRETS['target_key']}",
                "secret": SECRETS["target_secret"],
            },
            content_type="application/json",
        )
    )

    logged = caplog.text + "".join(str(getattr(r, "args", "")) for r in caplog.records)
    leaked_in_logs = [s for s in seen if s in logged]
    assert not leaked_in_logs, f"secrets in the logs: {leaked_in_logs}"
    rows = "".join(serializers.serialize("json", m._default_manager.all()) for m in apps.get_models())
    leaked_in_db = [s for s in seen if s in rows]
    assert not leaked_in_db, f"secrets stored in the clear: {leaked_in_db}"
