"""The permission matrix over HTTP: every API operation × every persona, from the table in
``matrix_rules.py``; and every URL route of the project classified, so that a new endpoint
cannot ship without someone deciding who may call it.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.security.matrix_rules import CASES, Case, resolve
from tests.security.matrix_world import PERSONAS, MatrixWorld, matrix_world, png_bytes

__all__ = ["matrix_world"]

# Defaults for path parameters a case does not name.
DEFAULT_PATH: dict[str, Any] = {"user_id": lambda w: w.ids["uid"]["member"]}


def api_operations() -> set[str]:
    """Every "METHOD /path" of the OpenAPI document (every router mounted in hub/urls.py)."""
    import hub.urls  # noqa: F401  (mounts the routers)
    from hub.apicore import api

    schema = api.get_openapi_schema()
    return {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}


def _url(case: Case, w: MatrixWorld) -> str:
    _, template = case.route.split(" ", 1)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        value = case.path.get(name, DEFAULT_PATH.get(name))
        assert value is not None, f"{case.id}: no value for path parameter {name}"
        return str(resolve(value, w))

    return re.sub(r"\{(\w+)\}", fill, template)


def _request(case: Case, w: MatrixWorld, persona: str) -> Any:
    method = case.route.split(" ", 1)[0].lower()
    client = w.client(persona)
    url = _url(case, w)
    query = {k: resolve(v, w) for k, v in (resolve(case.query, w) or {}).items()}
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    if case.upload:
        upload = io.BytesIO(png_bytes())
        upload.name = "图.png"
        data: dict[str, Any] = {"file": upload}
        if "erp/imports" in url:
            upload = io.BytesIO("code,name\nC77,新客户\n".encode())
            upload.name = "customers.csv"
            data = {"file": upload, "type": "customers"}
        return client.post(url, data)
    body = resolve(case.body, w)
    if isinstance(body, dict):
        body = {k: resolve(v, w) for k, v in body.items()}
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, body if body is not None else {}, content_type="application/json")


def _outcome(case: Case, response: HttpResponse) -> int | None:
    if response.status_code < 400 or response.status_code in case.ok_status:
        return None
    return response.status_code


def _show(status: int | None) -> str:
    return "ok" if status is None else str(status)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_permission_matrix(db: Any, matrix_world: MatrixWorld, case: Case) -> None:
    wrong = []
    for persona in PERSONAS:
        # Each cell in a savepoint of its own: what an allowed persona changes (a deleted
        # message, a deactivated colleague) must not decide the next persona's answer.
        with transaction.atomic():
            response = _request(case, matrix_world, persona)
            transaction.set_rollback(True)
        got, want = _outcome(case, response), case.expected(persona)
        if got != want:
            wrong.append(
                f"  {persona:12} expected {_show(want):4} got {response.status_code}: {response.content[:160]!r}"
            )
        assert response.status_code < 500, (persona, response.content[:500])
    assert not wrong, f"{case.id}:\n" + "\n".join(wrong)


def test_every_api_operation_is_in_the_matrix() -> None:
    classified = {c.route for c in CASES}
    missing = sorted(api_operations() - classified)
    assert not missing, (
        "API operations without a row in the permission matrix — add a Case for each to CASES in "
        "tests/security/matrix_rules.py saying who may call it:\n  " + "\n  ".join(missing)
    )
    stale = sorted(classified - api_operations())
    assert not stale, "matrix rows for operations that no longer exist:\n  " + "\n  ".join(stale)


# --- routes outside the API ----------------------------------------------------------------------

# Every URL pattern that is not an API operation, with who may use it. The API itself
# ("api/v1/…") is classified operation by operation above; Django's admin and allauth's views
# are third-party and classified by prefix (their own test suites cover them; the CSRF and
# sign-in tests of test_sessions.py run against them).
URL_ROUTES: dict[str, str] = {
    "healthz": "public: process liveness, no data",
    "readyz": "public: dependency status, no data",
    "metrics": "operators: loopback or HUB_METRICS_TOKEN, else 404",
    "hooks/slack/<str:key>": "incoming webhook: the key is the capability",
    "hooks/commands/<str:key>": "slash-command delayed response: the key is the capability",
    "hooks/<str:key>": "incoming webhook: the key is the capability",
    "robot/send": "incoming webhook: ?access_token= is the capability",
    "cgi-bin/webhook/send": "incoming webhook: ?key= is the capability",
    "open-apis/bot/v2/hook/<str:key>": "incoming webhook: the key is the capability",
    "invite/<str:token>/": "public: the invitation token is the capability",
    "sw.js": "public: the service worker script",
    "app/<path:client_path>": "signed in: the web app",
    "": "signed in: the web app",
}
THIRD_PARTY_PREFIXES = {
    "admin/": "Django admin: staff users only",
    "accounts/": "allauth HTML flows: public sign-in / sign-up, the rest login-required",
    "_allauth/": "allauth headless API: public sign-in, the rest session or X-Session-Token",
}


def url_routes() -> set[str]:
    def walk(patterns: list[Any], prefix: str) -> Any:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    return set(walk(get_resolver().url_patterns, ""))


def test_every_url_route_is_classified() -> None:
    unclassified = sorted(
        route
        for route in url_routes()
        if not route.startswith("api/v1/")
        and route not in URL_ROUTES
        and not any(route.startswith(prefix) for prefix in THIRD_PARTY_PREFIXES)
    )
    assert not unclassified, (
        "URL routes nobody has classified — add each to URL_ROUTES in tests/security/test_matrix_http.py "
        "(and a test of who may use it):\n  " + "\n  ".join(unclassified)
    )


HOOK_URLS = [
    "/hooks/slack/not-a-key",
    "/hooks/not-a-key",
    "/hooks/commands/not-a-key",
    "/robot/send?access_token=not-a-key",
    "/cgi-bin/webhook/send?key=not-a-key",
    "/open-apis/bot/v2/hook/not-a-key",
]


@pytest.mark.parametrize("url", HOOK_URLS)
def test_incoming_hooks_with_a_wrong_key_post_nothing(db: Any, matrix_world: MatrixWorld, url: str) -> None:
    """Refused in the platform's own way (DingTalk, WeCom and Feishu answer 200 with an error
    code, as their robots do) — and a signed-in person's token is no substitute for the key."""
    from messaging.models import Message

    before = Message.objects.count()
    for persona in ("anonymous", "owner"):
        response = matrix_world.client(persona).post(url, {"text": "hi"}, content_type="application/json")
        if response.status_code == 200:
            body = response.json()
            assert body.get("errcode", body.get("code", 0)) != 0, (persona, body)
        else:
            assert response.status_code in (400, 403, 404), (persona, response.status_code, response.content[:200])
    assert Message.objects.count() == before


def test_a_webhook_posts_into_its_own_conversation_only_and_dies_with_revocation(
    db: Any, matrix_world: MatrixWorld
) -> None:
    from messaging.models import Message

    url = matrix_world.ids["webhook_url"].split("://", 1)[1].split("/", 1)[1]
    before = Message.objects.count()
    response = Client().post("/" + url, {"text": "构建成功"}, content_type="application/json")
    assert response.status_code == 200, response.content
    new = Message.objects.order_by("-pk").first()
    assert new is not None and Message.objects.count() == before + 1
    assert new.conversation_id == matrix_world.ids["shared"]
    owner = matrix_world.client("owner")
    assert owner.delete(f"/api/v1/webhooks/{matrix_world.ids['webhook']}").status_code < 300
    again = Client().post("/" + url, {"text": "again"}, content_type="application/json")
    assert again.status_code == 404


@pytest.mark.parametrize("persona", ["anonymous", "disabled"])
def test_web_app_needs_a_session(db: Any, matrix_world: MatrixWorld, persona: str) -> None:
    client = Client()
    if persona == "disabled":
        client.force_login(matrix_world.personas["disabled"].user)  # type: ignore[union-attr]
    for url in ("/", "/app/c/1"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], (url, response)


def test_web_app_serves_a_signed_in_member(db: Any, matrix_world: MatrixWorld) -> None:
    client = Client()
    client.force_login(matrix_world.personas["member"].user)  # type: ignore[union-attr]
    assert client.get("/").status_code == 200


def test_metrics_are_for_operators_only(db: Any, settings: Any) -> None:
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 404
    settings.HUB_METRICS_TOKEN = "scrape-secret"
    assert Client().get("/metrics").status_code == 404  # loopback is not enough once a token is set
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


def test_unknown_invitation_page_answers_404(db: Any) -> None:
    assert Client().get("/invite/not-a-token/").status_code == 404


def test_django_admin_refuses_workspace_owners(db: Any, matrix_world: MatrixWorld) -> None:
    # Workspace roles confer nothing in the operators' admin: only is_staff users get in.
    client = Client()
    client.force_login(matrix_world.personas["owner"].user)  # type: ignore[union-attr]
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# --- ids of another workspace inside request bodies ----------------------------------------------

FOREIGN_BODIES = [
    ("POST", "/api/v1/messages/{msg_shared}/forward", {"conversation_id": "{rival_channel}", "client_id": "UUID"}),
    ("POST", "/api/v1/conversations/{private}/members", {"user_ids": ["{outsider_id}"]}),
    ("POST", "/api/v1/conversations/{private}/share", {"partner_id": "{rival_partner}"}),
    ("POST", "/api/v1/documents", {"workspace_id": "{ws}", "title": "x", "conversation_id": "{rival_channel}"}),
    ("POST", "/api/v1/documents/{doc_shared}/permissions", {"user_id": "{outsider_id}", "role": "view"}),
    (
        "POST",
        "/api/v1/workspaces/{ws}/erp/rules",
        {"name": "r", "kind": "invoice_overdue", "channel_id": "{rival_channel}"},
    ),
    ("POST", "/api/v1/workspaces/{ws}/invitations", {"role": "guest", "partner_id": "{rival_partner}"}),
    ("GET", "/api/v1/records/card?source_id={rival_source}&type=customer&key=1", None),
    ("POST", "/api/v1/records/rooms", {"source_id": "{rival_source}", "record_type": "customer", "key": "K1"}),
    ("GET", "/api/v1/conversations?workspace={rival_ws}", None),
    ("GET", "/api/v1/events?cursors={rival_channel}:0", None),
]


@pytest.mark.parametrize(("method", "template", "body"), FOREIGN_BODIES, ids=[f[1] for f in FOREIGN_BODIES])
def test_ids_of_another_workspace_in_a_request_answer_404(
    db: Any, matrix_world: MatrixWorld, method: str, template: str, body: dict[str, Any] | None
) -> None:
    """The owner of one workspace names an object of the rival one — in a body, a query, a
    list: refused with 404 (or, for lists, an answer without it), never 403."""
    import json
    import uuid

    from crm_bridge.sources.builtin import ensure_default_source
    from hub.models import PartnerOrg, Workspace

    w = matrix_world
    rival = Workspace.objects.get(pk=w.ids["rival_ws"])
    values = {
        **{k: v for k, v in w.ids.items() if isinstance(v, int)},
        "outsider_id": w.user_id("outsider"),
        "rival_partner": PartnerOrg.objects.create(workspace=rival, name="rival customer", kind="customer").pk,
        "rival_source": ensure_default_source(rival).pk,
    }

    def fill(text: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), text)

    client = w.client("owner")
    if body is None:
        response = client.get(fill(template))
        if template.startswith("/api/v1/events"):
            assert response.status_code == 404 or not response.json().get("events"), response.content
            return
    else:
        raw = fill(json.dumps(body)).replace('"UUID"', json.dumps(str(uuid.uuid4())))
        raw = re.sub(r'"(\d+)"', r"\1", raw)  # placeholders filled with ids back to numbers
        response = client.generic(method, fill(template), raw, content_type="application/json")
    assert response.status_code == 404, (response.status_code, response.content[:300])


# --- ids of an unreadable object of the same workspace inside request bodies ----------------------

# (persona, method, url, body): the persona can use the URL's object but not the one named in
# the body — a message or an attachment of a conversation they cannot read — and must get 404.
SMUGGLED = [
    # A guest replies in the shared channel "under" a message of the private channel.
    ("guest", "POST", "/api/v1/conversations/{shared}/messages", {"body": "x", "thread_root_id": "{msg_private}"}),
    # Someone attaches a file uploaded to a conversation they cannot read (it would reappear
    # in a channel the customer's guest reads).
    ("member2", "POST", "/api/v1/conversations/{group}/messages", {"body": "x", "attachment_ids": ["{att_private}"]}),
    ("guest", "POST", "/api/v1/conversations/{shared}/messages", {"body": "x", "attachment_ids": ["{att_private}"]}),
    # Copying messages one cannot read into the ERP's notes.
    (
        "admin",
        "POST",
        "/api/v1/records/log",
        {"source_id": "{source}", "record_type": "customer", "key": "{party}", "message_ids": ["{msg_private}"]},
    ),
    # A document placed in a conversation the caller cannot read.
    ("admin", "POST", "/api/v1/documents", {"workspace_id": "{ws}", "title": "x", "conversation_id": "{private}"}),
    # Forwarding a message one cannot read.
    ("admin", "POST", "/api/v1/messages/{msg_private}/forward", {"conversation_id": "{public}"}),
]


@pytest.mark.parametrize(("persona", "method", "template", "body"), SMUGGLED, ids=[f"{s[0]} {s[2]}" for s in SMUGGLED])
def test_unreadable_objects_named_in_a_body_answer_404(
    db: Any, matrix_world: MatrixWorld, persona: str, method: str, template: str, body: dict[str, Any]
) -> None:
    import json
    import uuid

    w = matrix_world
    values = {k: v for k, v in w.ids.items() if isinstance(v, int)}

    def fill(text: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), text)

    def ids(value: Any, name: str = "") -> Any:
        if isinstance(value, dict):
            return {k: ids(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [ids(v) for v in value]
        if isinstance(value, str) and value.startswith("{"):
            filled = fill(value)
            return filled if name == "key" else int(filled)  # record keys are strings
        return value

    raw = json.dumps(ids({**body, "client_id": str(uuid.uuid4())}))
    response = w.client(persona).generic(method, fill(template), raw, content_type="application/json")
    assert response.status_code == 404, (response.status_code, response.content[:300])


# --- lists answer 200 to many personas: what they hold is the permission -------------------------


@pytest.mark.parametrize(
    ("persona", "cards", "search"),
    [
        ("member", ["C001", "C002"], ["C001", "C002"]),
        ("guest", ["C001"], ["C001"]),  # their own company only
        ("other_guest", [], []),
    ],
)
def test_record_lists_hold_only_what_the_persona_may_see(
    db: Any, matrix_world: MatrixWorld, persona: str, cards: list[str], search: list[str]
) -> None:
    w = matrix_world
    refs = [f"{w.ids['source']}:customer:{w.ids[key]}" for key in ("party", "other_party")]
    client = w.client(persona)
    batch = client.get("/api/v1/records/cards", {"workspace": w.ids["ws"], "refs": refs}).json()
    assert sorted(c["number"] for c in batch["cards"]) == cards
    # Another company's card is "missing", exactly like a reference to nothing.
    assert len(batch["missing"]) == 2 - len(cards)
    found = client.get("/api/v1/records/search", {"workspace": w.ids["ws"], "type": "customer", "q": ""}).json()
    assert sorted(c["number"] for c in found["cards"]) == search


@pytest.mark.parametrize("persona", ["owner", "admin", "member", "guest", "other_guest", "bot"])
def test_conversation_and_document_lists_hold_nothing_unreadable(
    db: Any, matrix_world: MatrixWorld, persona: str
) -> None:
    from tests.security.matrix_rules import READERS

    w = matrix_world
    client = w.client(persona)
    kind_of = {w.ids[kind]: kind for kind in READERS}
    listed = {c["id"] for c in client.get("/api/v1/conversations", {"workspace": w.ids["ws"]}).json()}
    unreadable = {kind_of[c] for c in listed if c in kind_of and persona not in READERS[kind_of[c]]}
    assert not unreadable, f"{persona} lists {unreadable}"
    if persona == "bot":
        assert listed == {w.ids["botroom"]}
    docs = {d["id"] for d in client.get("/api/v1/documents", {"workspace": w.ids["ws"]}).json()}
    expected_docs = {
        w.ids[d] for d, kind in (("doc_shared", "shared"), ("doc_private", "private")) if persona in READERS[kind]
    }
    assert docs & {w.ids["doc_shared"], w.ids["doc_private"]} == expected_docs


# --- privilege escalation between roles ------------------------------------------------------------

ESCALATIONS = [
    # (actor, method, path under /api/v1/workspaces/{ws}, body, status)
    ("admin", "patch", "/members/{owner}", {"role": "member"}, 403),  # demote the owner
    ("admin", "patch", "/members/{member2}", {"role": "owner"}, 403),  # make an owner
    ("admin", "patch", "/members/{admin}", {"role": "owner"}, 403),  # promote oneself
    ("owner", "patch", "/members/{owner}", {"role": "member"}, 403),  # the last owner steps down
    ("admin", "post", "/members/{owner}/deactivate", None, 403),
    ("member", "patch", "/members/{member}", {"role": "admin"}, 403),
    ("guest", "patch", "/members/{guest}", {"role": "member"}, 403),
    ("admin", "post", "/invitations", {"role": "owner"}, 422),  # not a role one can invite to
    # People of another workspace are not members here, whatever the caller's role.
    ("owner", "patch", "/members/{outsider}", {"role": "member"}, 404),
    ("owner", "post", "/members/{outsider}/deactivate", None, 404),
    ("owner", "post", "/members/{outsider}/deactivate-account", None, 404),
]


@pytest.mark.parametrize(
    ("actor", "method", "path", "body", "status"), ESCALATIONS, ids=[f"{e[0]} {e[2]} {e[3]}" for e in ESCALATIONS]
)
def test_roles_cannot_be_escalated(
    db: Any, matrix_world: MatrixWorld, actor: str, method: str, path: str, body: Any, status: int
) -> None:
    w = matrix_world

    def user_id(match: re.Match[str]) -> str:
        return str(w.user_id(match.group(1)))

    url = f"/api/v1/workspaces/{w.ids['ws']}" + re.sub(r"\{(\w+)\}", user_id, path)
    response = getattr(w.client(actor), method)(url, body or {}, content_type="application/json")
    assert response.status_code == status, (response.status_code, response.content[:200])
