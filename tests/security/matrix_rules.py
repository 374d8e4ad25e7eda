"""The permission matrix as data: for every HTTP API operation, who may do it to which object.

One ``Case`` is one request shape (an operation, the world objects that fill its path, a body)
and the personas it must succeed for; every other persona must be refused with the status the
rule gives (default: 404 for the signed-in — an id must not confirm that something exists —
and 401 for the anonymous and the logged-out). ``tests/security/test_matrix_http.py`` runs
each case as every persona and checks that every operation of the OpenAPI document has a case.

To classify a new endpoint: add a ``Case`` to ``CASES`` below (or, for a route that is not in
the API, to ``URL_ROUTES`` in test_matrix_http.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.security.matrix_world import PERSONAS, MatrixWorld

OWNER, ADMIN, MEMBER, GUEST, OTHER_GUEST, OUTSIDER, EX, BOT = (
    "owner",
    "admin",
    "member",
    "guest",
    "other_guest",
    "outsider",
    "ex_member",
    "bot",
)
ADMINS = frozenset({OWNER, ADMIN})
STAFF = frozenset({OWNER, ADMIN, MEMBER})
IN_WORKSPACE = STAFF | {GUEST, OTHER_GUEST, BOT}  # every active member, bots included
PEOPLE_IN_WORKSPACE = STAFF | {GUEST, OTHER_GUEST}
SIGNED_IN = IN_WORKSPACE | {OUTSIDER, EX}  # anyone holding a working token

# Who reads / posts in each conversation of the world (messaging.access).
READERS = {
    "public": STAFF,
    "private": frozenset({OWNER, MEMBER}),
    "dm": frozenset({OWNER, MEMBER}),
    "group": frozenset({OWNER, MEMBER}),
    "shared": STAFF | {GUEST},
}
# Participants (plus the customer's guest, whose access to the shared channel is the share).
POSTERS = {
    "public": frozenset({OWNER, MEMBER}),
    "private": frozenset({OWNER, MEMBER}),
    "dm": frozenset({OWNER, MEMBER}),
    "group": frozenset({OWNER, MEMBER}),
    "shared": frozenset({OWNER, MEMBER, GUEST}),
}
KINDS = tuple(READERS)


def readers(kind: str) -> frozenset[str]:
    return READERS[kind]


def posters(kind: str) -> frozenset[str]:
    return POSTERS[kind]


Value = Any | Callable[[MatrixWorld], Any]


@dataclass(frozen=True)
class Case:
    route: str  # "METHOD /api/v1/path/{param}" exactly as in the OpenAPI document
    ok: frozenset[str]  # personas for whom the request succeeds (2xx/3xx)
    path: Mapping[str, Any] = field(default_factory=dict)  # path param → world id key or callable
    body: Value = None
    query: Value = None
    deny: int = 404  # status for signed-in personas outside ``ok``
    deny_as: Mapping[str, int] = field(default_factory=dict)  # per-persona exceptions
    label: str = ""
    upload: bool = False  # multipart body with a small PNG as ``file``
    # Refusals that come *after* the permission check (not ready, not in it), counted as allowed.
    ok_status: frozenset[int] = frozenset()

    @property
    def id(self) -> str:
        return f"{self.route}{'[' + self.label + ']' if self.label else ''}"

    def expected(self, persona: str) -> int | None:
        """None: success expected; otherwise the refusal status."""
        if persona in self.ok:
            return None
        if persona in self.deny_as:
            return self.deny_as[persona]
        if persona in ("anonymous", "disabled"):
            return 401
        return self.deny


def resolve(value: Value, w: MatrixWorld) -> Any:
    if callable(value):
        return value(w)
    if isinstance(value, str) and value.startswith("@"):
        return w.ids[value[1:]]
    return value


def readers_deny(kind: str, status: int = 403) -> dict[str, int]:
    """Personas who can see the conversation but are refused the action: 403, not 404."""
    return {p: status for p in READERS[kind]}


def _per_kind(
    route: str, param: str, fmt: str, ok_of: Callable[[str], Iterable[str]], kinds: Iterable[str], kw: dict[str, Any]
) -> list[Case]:
    """One case per conversation kind; ``deny_as_of(kind)`` gives that case's ``deny_as``."""
    deny_as_of = kw.pop("deny_as_of", None)
    out = []
    for kind in kinds:
        extra = dict(kw)
        if deny_as_of is not None:
            extra["deny_as"] = deny_as_of(kind)
        path = {param: fmt.format(kind), **extra.pop("path_extra", {})}
        out.append(Case(route, frozenset(ok_of(kind)), path=path, label=kind, **extra))
    return out


def conv_cases(
    route: str, ok_of: Callable[[str], Iterable[str]], kinds: Iterable[str] = KINDS, **kw: Any
) -> list[Case]:
    return _per_kind(route, "conversation_id", "@{}", ok_of, kinds, kw)


def msg_cases(route: str, ok_of: Callable[[str], Iterable[str]], kinds: Iterable[str] = KINDS, **kw: Any) -> list[Case]:
    return _per_kind(route, "message_id", "@msg_{}", ok_of, kinds, kw)


def _uuid(_: MatrixWorld) -> str:
    import uuid

    return str(uuid.uuid4())


WS = {"ws": "@ws"}
WSID = {"workspace_id": "@ws"}
CARD_Q = {"source_id": "@source", "type": "customer", "key": lambda w: str(w.ids["party"])}
OTHER_CARD_Q = {"source_id": "@source", "type": "customer", "key": lambda w: str(w.ids["other_party"])}
TIMELINE_Q = {"source_id": "@source", "record_type": "customer", "key": lambda w: str(w.ids["party"])}
NOT_A_MEMBER = {OUTSIDER: 404, EX: 404}


def _deny_readers_of(kind: str) -> dict[str, int]:
    return readers_deny(kind)


CASES: list[Case] = [
    # --- hub: me, tokens, workspaces ------------------------------------------------------------
    Case("GET /api/v1/me", SIGNED_IN),
    Case("PATCH /api/v1/me", SIGNED_IN, body={"display_name": "新名字"}),
    # Self-service routes: a bot is a user too (its avatar, its notification settings); what it
    # mints (tokens, targets) dies with it when an admin rotates or deactivates it.
    Case("POST /api/v1/me/avatar", SIGNED_IN, upload=True),
    Case("DELETE /api/v1/me/avatar", SIGNED_IN),
    # Colleagues see a colleague's avatar; guests do not get the staff's (no directory for them).
    Case("GET /api/v1/users/{user_id}/avatar", STAFF | {BOT}, path={"user_id": lambda w: w.ids["uid"]["member"]}),
    # Anyone may found a company (a customer's contact too); a bot may not escape its workspace.
    Case("POST /api/v1/workspaces", SIGNED_IN - {BOT}, body={"name": "新公司"}, deny_as={BOT: 403}),
    Case("GET /api/v1/workspaces/{ws}", IN_WORKSPACE, path=WS),
    Case("PATCH /api/v1/workspaces/{ws}", ADMINS, path=WS, body={"name": "杭州茶叶 2"}, deny=403, deny_as=NOT_A_MEMBER),
    Case("GET /api/v1/workspaces/{ws}/partners", IN_WORKSPACE, path=WS),
    Case(
        "POST /api/v1/workspaces/{ws}/partners",
        ADMINS,
        path=WS,
        body={"name": "新客户", "kind": "customer"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case("GET /api/v1/workspaces/{ws}/members", STAFF | {BOT}, path=WS, deny=403, deny_as=NOT_A_MEMBER),
    Case(
        "PATCH /api/v1/workspaces/{ws}/members/{user_id}",
        ADMINS,
        path={**WS, "user_id": lambda w: w.ids["uid"]["member2"]},
        body={"role": "admin"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "POST /api/v1/workspaces/{ws}/members/{user_id}/deactivate",
        ADMINS,
        path={**WS, "user_id": lambda w: w.ids["uid"]["member2"]},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "POST /api/v1/workspaces/{ws}/members/{user_id}/deactivate-account",
        frozenset({OWNER}),
        path={**WS, "user_id": lambda w: w.ids["uid"]["member2"]},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "POST /api/v1/workspaces/{ws}/invitations",
        ADMINS,
        path=WS,
        body={"role": "member"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case("GET /api/v1/workspaces/{ws}/invitations", ADMINS, path=WS, deny=403, deny_as=NOT_A_MEMBER),
    Case(
        "DELETE /api/v1/workspaces/{ws}/invitations/{invitation_id}",
        ADMINS,
        path={**WS, "invitation_id": lambda w: w.ids["invitation"]["id"]},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    # The invitation token is the capability: anyone holding it may look and (signed in) accept.
    Case(
        "GET /api/v1/invitations/{token}",
        SIGNED_IN | {"anonymous", "disabled"},
        path={"token": lambda w: w.ids["invitation"]["token"]},
    ),
    # (The bot is already a member here: accepting is a no-op. Into another workspace it is
    # refused — tests/integrations/test_bots.py.)
    Case("POST /api/v1/invitations/{token}/accept", SIGNED_IN, path={"token": lambda w: w.ids["invitation"]["token"]}),
    Case("GET /api/v1/workspaces/{ws}/audit", ADMINS, path=WS, deny=403, deny_as=NOT_A_MEMBER),
    Case("GET /api/v1/tokens", SIGNED_IN),
    Case("POST /api/v1/tokens", SIGNED_IN, body={"name": "x"}),
    # A token id of someone else answers 404, whoever asks.
    Case("DELETE /api/v1/tokens/{token_id}", frozenset({MEMBER}), path={"token_id": "@member_token"}),
    Case("GET /api/v1/workspaces/{ws}/policy", ADMINS, path=WS, deny=403, deny_as=NOT_A_MEMBER),
    Case(
        "PATCH /api/v1/workspaces/{ws}/policy",
        ADMINS,
        path=WS,
        body={"retention_days": 365},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case("POST /api/v1/workspaces/{ws}/exports", ADMINS, path=WS, deny=403, deny_as=NOT_A_MEMBER),
    Case("GET /api/v1/workspaces/{ws}/exports", ADMINS, path=WS, deny=403, deny_as=NOT_A_MEMBER),
    Case(
        "GET /api/v1/workspaces/{ws}/exports/{export_id}",
        ADMINS,
        path={**WS, "export_id": "@export"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    # The export never finishes inside the test transaction (it starts on commit): 409.
    Case(
        "GET /api/v1/workspaces/{ws}/exports/{export_id}/download",
        ADMINS,
        path={**WS, "export_id": "@export"},
        deny=403,
        deny_as=NOT_A_MEMBER,
        ok_status=frozenset({409}),
    ),
    # --- messaging: conversations ---------------------------------------------------------------
    Case("GET /api/v1/conversations", IN_WORKSPACE, query={"workspace": "@ws"}),
    # A bot may start conversations (it then sits in them); it never reaches others' ones.
    Case(
        "POST /api/v1/conversations",
        STAFF | {BOT},
        body=lambda w: {"workspace_id": w.ids["ws"], "kind": "public", "name": "新频道"},
        deny_as={GUEST: 403, OTHER_GUEST: 403},
    ),
    *conv_cases("GET /api/v1/conversations/{conversation_id}", readers),
    # Topic: any participant; but a guest never changes a shared channel.
    *conv_cases(
        "PATCH /api/v1/conversations/{conversation_id}",
        lambda k: POSTERS[k] - {GUEST},
        body={"topic": "新话题"},
        kinds=("public", "private", "shared"),
        deny_as_of=_deny_readers_of,
    ),
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/archive",
        lambda k: {OWNER, ADMIN} & READERS[k],
        kinds=("public", "private", "shared"),
        deny_as_of=_deny_readers_of,
    ),
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/unarchive",
        lambda k: {OWNER, ADMIN} & READERS[k],
        kinds=("public", "private"),
        deny_as_of=_deny_readers_of,
    ),
    # Only an ad-hoc group converts (into a private channel); any staff participant may.
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/convert",
        readers,
        kinds=("group",),
        body={"kind": "private", "name": "项目组"},
    ),
    # The shared channel is a public one: staff may join it; guests never join.
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/join",
        lambda k: STAFF if k in ("public", "shared") else set(),
        kinds=("public", "private", "shared"),
        deny_as_of=_deny_readers_of,
    ),
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/leave",
        posters,
        kinds=("public", "private", "group", "shared"),
        deny_as_of=lambda k: readers_deny(k, 409),
    ),
    *conv_cases("GET /api/v1/conversations/{conversation_id}/members", readers),
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/members",
        lambda k: {OWNER, ADMIN} & READERS[k],
        kinds=("public", "private", "shared"),
        body=lambda w: {"user_ids": [w.ids["uid"]["member2"]]},
        deny_as_of=_deny_readers_of,
    ),
    # Removing the owner (removing oneself would be leaving).
    *conv_cases(
        "DELETE /api/v1/conversations/{conversation_id}/members/{user_id}",
        lambda k: {OWNER, ADMIN} & READERS[k],
        kinds=("public", "private", "shared"),
        path_extra={"user_id": lambda w: w.ids["uid"]["owner"]},
        deny_as_of=_deny_readers_of,
    ),
    *conv_cases(
        "PATCH /api/v1/conversations/{conversation_id}/notifications",
        posters,
        body={"muted": True},
        deny_as_of=_deny_readers_of,
    ),
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/share",
        lambda k: {OWNER, ADMIN} & READERS[k],
        kinds=("public", "private"),
        body=lambda w: {"partner_id": w.ids["supplier"]},
        deny_as_of=_deny_readers_of,
    ),
    Case(
        "DELETE /api/v1/conversations/{conversation_id}/share/{partner_id}",
        ADMINS,
        path={"conversation_id": "@shared", "partner_id": "@customer"},
        deny_as={MEMBER: 403, GUEST: 403},
    ),
    *conv_cases("GET /api/v1/conversations/{conversation_id}/pins", readers),
    *conv_cases("GET /api/v1/conversations/{conversation_id}/receipts", readers, query={"seq": 1}),
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/messages",
        posters,
        body=lambda w: {"body": "hi", "client_id": _uuid(w)},
        deny_as_of=_deny_readers_of,
    ),
    *conv_cases("GET /api/v1/conversations/{conversation_id}/messages", readers),
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/attachments",
        posters,
        upload=True,
        kinds=("private", "shared"),
        deny_as_of=_deny_readers_of,
    ),
    *conv_cases("GET /api/v1/conversations/{conversation_id}/events", readers),
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/read", posters, body={"seq": 1}, deny_as_of=_deny_readers_of
    ),
    # /help answers only the caller (ephemeral): readers may ask; commands that post check more.
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/commands",
        readers,
        kinds=("private", "shared"),
        body=lambda w: {"text": "/help", "client_id": _uuid(w)},
        deny_as_of=_deny_readers_of,
    ),
    *conv_cases(
        "GET /api/v1/conversations/{conversation_id}/commands/suggest",
        readers,
        kinds=("private", "shared"),
        query={"text": "/"},
    ),
    *conv_cases(
        "POST /api/v1/conversations/{conversation_id}/webhooks",
        lambda k: {OWNER, ADMIN} & READERS[k],
        kinds=("private", "shared"),
        body={"kind": "slack", "name": "x"},
        deny_as_of=_deny_readers_of,
    ),
    *conv_cases(
        "GET /api/v1/conversations/{conversation_id}/webhooks",
        lambda k: {OWNER, ADMIN} & READERS[k],
        kinds=("private", "shared"),
        deny_as_of=_deny_readers_of,
    ),
    Case(
        "GET /api/v1/events",
        IN_WORKSPACE | {OUTSIDER, EX},
        query=lambda w: {"cursors": f"{w.ids['private']}:0"},
        label="cursor of an unreadable conversation",
    ),
    # --- messaging: messages --------------------------------------------------------------------
    *msg_cases("GET /api/v1/messages/{message_id}", readers),
    *msg_cases(
        "PATCH /api/v1/messages/{message_id}",
        lambda k: {MEMBER},
        body={"body": "改"},
        kinds=("private", "shared"),
        deny_as_of=_deny_readers_of,
    ),
    *msg_cases(
        "DELETE /api/v1/messages/{message_id}",
        lambda k: {MEMBER, OWNER, ADMIN} & READERS[k],
        kinds=("private", "shared"),
        deny_as_of=_deny_readers_of,
    ),
    *msg_cases("GET /api/v1/messages/{message_id}/edits", readers),
    *msg_cases(
        "POST /api/v1/messages/{message_id}/reactions", posters, body={"emoji": "👍"}, deny_as_of=_deny_readers_of
    ),
    *msg_cases(
        "POST /api/v1/messages/{message_id}/pin", posters, deny_as_of=_deny_readers_of, kinds=("private", "shared")
    ),
    *msg_cases(
        "DELETE /api/v1/messages/{message_id}/pin",
        posters,
        deny_as_of=_deny_readers_of,
        kinds=("private", "shared"),
    ),
    *msg_cases("POST /api/v1/messages/{message_id}/save", readers, kinds=("private", "shared")),
    *msg_cases("DELETE /api/v1/messages/{message_id}/save", readers, kinds=("private", "shared")),
    Case("GET /api/v1/saved", IN_WORKSPACE, query={"workspace": "@ws"}),
    *msg_cases("GET /api/v1/messages/{message_id}/thread", readers),
    *msg_cases("POST /api/v1/messages/{message_id}/follow", readers, kinds=("private", "shared")),
    *msg_cases("DELETE /api/v1/messages/{message_id}/follow", readers, kinds=("private", "shared")),
    # Forwarding needs the source readable and the target postable (here: the DM).
    *msg_cases(
        "POST /api/v1/messages/{message_id}/forward",
        lambda k: {OWNER, MEMBER},
        kinds=("private", "shared"),
        body=lambda w: {"conversation_id": w.ids["dm"], "client_id": _uuid(w)},
        deny_as_of=lambda k: {p: 404 for p in READERS[k]},
    ),
    *msg_cases("GET /api/v1/messages/{message_id}/receipts", readers),
    *msg_cases(
        "POST /api/v1/messages/{message_id}/actions",
        lambda k: set(),
        body={"action_id": "nope"},
        kinds=("shared",),
        deny_as_of=lambda k: {p: 404 for p in READERS[k]},
    ),
    # --- attachments -----------------------------------------------------------------------------
    *[
        Case(
            "GET /api/v1/attachments/{attachment_id}",
            frozenset(READERS[k]),
            path={"attachment_id": f"@att_{k}"},
            label=k,
        )
        for k in ("private", "shared")
    ],
    *[
        Case(
            "GET /api/v1/attachments/{attachment_id}/thumbnail",
            frozenset(READERS[k]),
            path={"attachment_id": f"@att_{k}"},
            label=k,
        )
        for k in ("private", "shared")
    ],
    # --- notifications (per person: another person's ids answer 404) ------------------------------
    Case("GET /api/v1/me/notifications", SIGNED_IN),
    Case("PATCH /api/v1/me/notifications", SIGNED_IN, body={"email_enabled": False}),
    Case("GET /api/v1/me/notify/push", SIGNED_IN),
    Case(
        "POST /api/v1/me/notify/push/subscriptions",
        SIGNED_IN,
        body=lambda w: {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": w.ids["push_keys"]},
    ),
    Case("POST /api/v1/me/notify/push/unsubscribe", SIGNED_IN, body={"endpoint": "https://fcm.googleapis.com/x"}),
    Case(
        "DELETE /api/v1/me/notify/push/subscriptions/{subscription_id}",
        frozenset(),
        path={"subscription_id": 999999},
        label="unknown id",
    ),
    Case("POST /api/v1/me/notify/push/test", SIGNED_IN),
    Case("GET /api/v1/me/notify/targets", SIGNED_IN),
    Case("POST /api/v1/me/notify/targets", SIGNED_IN, body={"kind": "email", "url": "me@example.com"}),
    Case(
        "PATCH /api/v1/me/notify/targets/{target_id}",
        frozenset({MEMBER}),
        path={"target_id": "@target"},
        body={"label": "x"},
    ),
    Case("DELETE /api/v1/me/notify/targets/{target_id}", frozenset({MEMBER}), path={"target_id": "@target"}),
    Case("POST /api/v1/me/notify/targets/{target_id}/test", frozenset({MEMBER}), path={"target_id": "@target"}),
    # --- apps, integrations ---------------------------------------------------------------------
    Case("GET /api/v1/workspaces/{workspace_id}/commands", IN_WORKSPACE, path=WSID),
    Case(
        "DELETE /api/v1/webhooks/{webhook_id}",
        ADMINS,
        path={"webhook_id": "@webhook"},
        deny_as={MEMBER: 403, GUEST: 403},
    ),
    Case("POST /api/v1/workspaces/{ws}/bots", ADMINS, path=WS, body={"name": "b"}, deny=403, deny_as=NOT_A_MEMBER),
    Case("GET /api/v1/workspaces/{ws}/bots", ADMINS, path=WS, deny=403, deny_as=NOT_A_MEMBER),
    Case(
        "POST /api/v1/workspaces/{ws}/bots/{bot_id}/token",
        ADMINS,
        path={**WS, "bot_id": "@bot"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "DELETE /api/v1/workspaces/{ws}/bots/{bot_id}",
        ADMINS,
        path={**WS, "bot_id": "@bot"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "POST /api/v1/workspaces/{ws}/bots/{bot_id}/subscriptions",
        ADMINS,
        path={**WS, "bot_id": "@bot"},
        body={"url": "https://93.184.216.34/hook", "events": ["message"]},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case("GET /api/v1/workspaces/{ws}/subscriptions", ADMINS, path=WS, deny=403, deny_as=NOT_A_MEMBER),
    Case(
        "POST /api/v1/subscriptions/{subscription_id}/enable",
        frozenset(),
        path={"subscription_id": 999999},
        label="unknown id",
    ),
    Case(
        "POST /api/v1/subscriptions/{subscription_id}/disable",
        frozenset(),
        path={"subscription_id": 999999},
        label="unknown id",
    ),
    Case(
        "DELETE /api/v1/subscriptions/{subscription_id}",
        frozenset(),
        path={"subscription_id": 999999},
        label="unknown id",
    ),
    Case(
        "GET /api/v1/subscriptions/{subscription_id}/deliveries",
        frozenset(),
        path={"subscription_id": 999999},
        label="unknown id",
    ),
    Case(
        "POST /api/v1/workspaces/{ws}/app-commands",
        ADMINS,
        path=WS,
        body=lambda w: {"bot_id": w.ids["bot"], "name": "deploy", "url": "https://93.184.216.34/cmd"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case("GET /api/v1/workspaces/{ws}/app-commands", ADMINS, path=WS, deny=403, deny_as=NOT_A_MEMBER),
    Case("DELETE /api/v1/app-commands/{command_id}", frozenset(), path={"command_id": 999999}, label="unknown id"),
    Case("GET /api/v1/search", IN_WORKSPACE, query={"workspace": "@ws", "q": "hello"}),
    # --- documents --------------------------------------------------------------------------------
    # Guests create documents only inside their shared channels (404: no such conversation).
    Case("POST /api/v1/documents", STAFF | {BOT}, body=lambda w: {"workspace_id": w.ids["ws"], "title": "新文档"}),
    Case("GET /api/v1/documents", IN_WORKSPACE, query={"workspace": "@ws"}),
    Case("GET /api/v1/documents/search", IN_WORKSPACE, query={"workspace": "@ws", "q": "记录"}),
    *[
        case
        for doc, readers in (("@doc_shared", READERS["shared"]), ("@doc_private", READERS["private"]))
        for case in (
            Case("GET /api/v1/documents/{document_id}/mentionable", readers, path={"document_id": doc}, label=doc),
            Case("GET /api/v1/documents/{document_id}", readers, path={"document_id": doc}, label=doc),
            Case(
                "PATCH /api/v1/documents/{document_id}",
                readers,
                path={"document_id": doc},
                body={"title": "改"},
                label=doc,
            ),
            Case("GET /api/v1/documents/{document_id}/activity", readers, path={"document_id": doc}, label=doc),
            Case("GET /api/v1/documents/{document_id}/versions", readers, path={"document_id": doc}, label=doc),
            Case(
                "POST /api/v1/documents/{document_id}/versions",
                readers,
                path={"document_id": doc},
                body={"name": "v"},
                label=doc,
            ),
            Case("GET /api/v1/documents/{document_id}/export", readers, path={"document_id": doc}, label=doc),
            Case(
                "POST /api/v1/documents/{document_id}/images",
                readers,
                path={"document_id": doc},
                upload=True,
                label=doc,
            ),
        )
    ],
    Case(
        "DELETE /api/v1/documents/{document_id}",
        frozenset({OWNER}),
        path={"document_id": "@doc_shared"},
        deny_as={p: 403 for p in READERS["shared"]},
    ),
    Case(
        "POST /api/v1/documents/{document_id}/permissions",
        frozenset({OWNER}),
        path={"document_id": "@doc_shared"},
        body=lambda w: {"user_id": w.ids["uid"]["member2"], "role": "view"},
        deny_as={p: 403 for p in READERS["shared"]},
    ),
    Case(
        "GET /api/v1/documents/{document_id}/versions/{version_id}",
        READERS["shared"],
        path={"document_id": "@doc_shared", "version_id": "@doc_version"},
    ),
    Case(
        "POST /api/v1/documents/{document_id}/versions/{version_id}/restore",
        READERS["shared"],
        path={"document_id": "@doc_shared", "version_id": "@doc_version"},
    ),
    Case(
        "GET /api/v1/documents/{document_id}/images/{image_id}",
        READERS["shared"],
        path={"document_id": "@doc_shared", "image_id": "@doc_image"},
    ),
    # --- ERP records -------------------------------------------------------------------------------
    Case("GET /api/v1/records/card", STAFF | {GUEST, BOT}, query=CARD_Q, label="the guest's own company"),
    Case("GET /api/v1/records/card", STAFF | {BOT}, query=OTHER_CARD_Q, label="another customer"),
    Case("POST /api/v1/records/card/refresh", STAFF | {GUEST, BOT}, body=CARD_Q, label="the guest's own company"),
    Case("POST /api/v1/records/card/refresh", STAFF | {BOT}, body=OTHER_CARD_Q, label="another customer"),
    Case(
        "GET /api/v1/records/cards",
        IN_WORKSPACE,
        query=lambda w: {"workspace": w.ids["ws"], "refs": f"{w.ids['source']}:customer:{w.ids['other_party']}"},
    ),
    # Guests may search; the results hold only their own company's records.
    Case("GET /api/v1/records/search", IN_WORKSPACE, query={"workspace": "@ws", "type": "customer", "q": "茶"}),
    Case(
        "POST /api/v1/records/rooms",
        STAFF,
        body=lambda w: {"source_id": w.ids["source"], "record_type": "customer", "key": str(w.ids["party"])},
        deny_as={GUEST: 403, OTHER_GUEST: 403, BOT: 403},
    ),
    Case(
        "POST /api/v1/records/rooms/{conversation_id}/invite-partner",
        frozenset(),
        path={"conversation_id": "@private"},
        label="not a record room",
    ),
    Case("GET /api/v1/records/timeline", STAFF | {GUEST, BOT}, query=TIMELINE_Q),
    Case(
        "POST /api/v1/records/log",
        STAFF,
        body=lambda w: {
            "source_id": w.ids["source"],
            "record_type": "customer",
            "key": str(w.ids["party"]),
            "message_ids": [w.ids["msg_shared"]],
        },
        deny_as={GUEST: 403, BOT: 403},
    ),
    # --- ERP administration (owners and admins) ----------------------------------------------------
    Case(
        "POST /api/v1/workspaces/{workspace_id}/erp/imports",
        ADMINS,
        path=WSID,
        upload=True,
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "GET /api/v1/workspaces/{workspace_id}/erp/imports/{job_id}",
        frozenset(),
        path={**WSID, "job_id": 999999},
        label="unknown id",
        deny_as={p: 403 for p in IN_WORKSPACE - ADMINS},
    ),
    Case(
        "POST /api/v1/workspaces/{workspace_id}/erp/parties",
        ADMINS,
        path=WSID,
        body={"kind": "customer", "code": "C9", "name": "新"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "PATCH /api/v1/workspaces/{workspace_id}/erp/parties/{party_id}",
        ADMINS,
        path={**WSID, "party_id": "@party"},
        body={"version": 1, "name": "改"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "POST /api/v1/workspaces/{workspace_id}/erp/products",
        ADMINS,
        path=WSID,
        body={"sku": "X1", "name": "x", "list_price": "1.00"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "PATCH /api/v1/workspaces/{workspace_id}/erp/products/{product_id}",
        ADMINS,
        path={**WSID, "product_id": "@product"},
        body={"version": 1, "name": "改"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "PUT /api/v1/workspaces/{workspace_id}/erp/stock",
        ADMINS,
        path=WSID,
        body={"sku": "LJ-01", "warehouse": "WH", "on_hand": "5"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "POST /api/v1/workspaces/{workspace_id}/erp/sales-orders",
        ADMINS,
        path=WSID,
        body={"number": "SO1", "party": "C001", "lines": [{"sku": "LJ-01", "quantity": "1"}]},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "POST /api/v1/workspaces/{workspace_id}/erp/purchase-orders",
        ADMINS,
        path=WSID,
        body={"number": "PO1", "party": "S001", "lines": [{"sku": "LJ-01", "quantity": "1", "unit_price": "80.00"}]},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "POST /api/v1/workspaces/{workspace_id}/erp/invoices",
        ADMINS,
        path=WSID,
        body={"number": "INV1", "customer": "C001", "amount": "10.00", "due_date": "2027-01-01"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "PATCH /api/v1/workspaces/{workspace_id}/erp/invoices/{invoice_id}",
        frozenset(),
        path={**WSID, "invoice_id": 999999},
        body={"version": 1},
        label="unknown id",
        deny_as={p: 403 for p in IN_WORKSPACE - ADMINS},
    ),
    Case("GET /api/v1/workspaces/{workspace_id}/erp/rules", ADMINS, path=WSID, deny=403, deny_as=NOT_A_MEMBER),
    Case(
        "POST /api/v1/workspaces/{workspace_id}/erp/rules",
        ADMINS,
        path=WSID,
        body=lambda w: {"name": "r", "kind": "invoice_overdue", "channel_id": w.ids["public"]},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "PUT /api/v1/workspaces/{workspace_id}/erp/rules/{rule_id}",
        ADMINS,
        path={**WSID, "rule_id": "@rule"},
        body=lambda w: {"name": "r", "kind": "invoice_overdue", "channel_id": w.ids["public"]},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "DELETE /api/v1/workspaces/{workspace_id}/erp/rules/{rule_id}",
        ADMINS,
        path={**WSID, "rule_id": "@rule"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case("GET /api/v1/erp/sources", ADMINS, query={"workspace": "@ws"}, deny=403, deny_as=NOT_A_MEMBER),
    Case(
        "POST /api/v1/erp/sources",
        ADMINS,
        body=lambda w: {
            "workspace": w.ids["ws"],
            "name": "Odoo",
            "kind": "odoo",
            "config": {"url": "https://93.184.216.34", "database": "db"},
            "credentials": {"username": "u", "api_key": "erp-secret-key"},
        },
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case("GET /api/v1/erp/sources/{source_id}", ADMINS, path={"source_id": "@source"}, deny=403, deny_as=NOT_A_MEMBER),
    Case(
        "PATCH /api/v1/erp/sources/{source_id}",
        ADMINS,
        path={"source_id": "@source"},
        body={"name": "ERP"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "POST /api/v1/erp/sources/{source_id}/test",
        ADMINS,
        path={"source_id": "@source"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "POST /api/v1/erp/sources/{source_id}/sync",
        ADMINS,
        path={"source_id": "@source"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    Case(
        "GET /api/v1/erp/sources/{source_id}/sync",
        ADMINS,
        path={"source_id": "@source"},
        deny=403,
        deny_as=NOT_A_MEMBER,
    ),
    # The ERP's webhook is authenticated by its signature, not by a person: nobody's token helps.
    Case(
        "POST /api/v1/erp/sources/{source_id}/webhook",
        frozenset(),
        path={"source_id": "@source"},
        deny=403,
        deny_as={"anonymous": 403, "disabled": 403},
    ),
]

assert all(set(c.ok) <= set(PERSONAS) for c in CASES)
