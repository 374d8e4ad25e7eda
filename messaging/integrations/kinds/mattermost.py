"""Mattermost incoming webhooks, at Mattermost's own path ``/hooks/<key>`` (so that clients
configured with a host and a key — apprise's ``mmost://host:port/<key>`` — find it). The
payload is Slack's shape with Markdown text; success is ``200 ok``, errors are Mattermost's
JSON application errors."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse

from messaging.integrations.kinds import IncomingMessage, Refusal
from messaging.integrations.kinds.slack import parse_slack_shaped, read_payload

_ERRORS: dict[str, tuple[int, str, str]] = {
    "unknown": (400, "web.incoming_webhook.invalid.app_error", "Invalid webhook."),
    "bad_json": (400, "web.incoming_webhook.parse.app_error", "Unable to parse incoming data."),
    "bad_payload": (400, "web.incoming_webhook.parse.app_error", "Unable to parse incoming data."),
    "empty": (400, "web.incoming_webhook.text.app_error", "No text specified."),
    "bad_sign": (401, "web.incoming_webhook.invalid.app_error", "Invalid webhook."),
    "too_large": (413, "web.incoming_webhook.size.app_error", "Request body is too large."),
    "rate_limited": (429, "app.rate_limit.app_error", "Too many requests, slow down."),
    "archived": (403, "web.incoming_webhook.channel_archived.app_error", "The channel is archived."),
    "keywords": (400, "web.incoming_webhook.parse.app_error", "Unable to parse incoming data."),
}


class MattermostKind:
    name = "mattermost"
    signed = False
    has_keywords = False

    def key(self, request: HttpRequest, url_key: str | None) -> str | None:
        return url_key

    def read(self, request: HttpRequest) -> dict[str, Any]:
        return read_payload(request)

    def verify(self, request: HttpRequest, payload: dict[str, Any], secret: str) -> None:
        return None

    def parse(self, payload: dict[str, Any]) -> IncomingMessage:
        return parse_slack_shaped(payload, markdown=True)

    def ok(self) -> HttpResponse:
        return HttpResponse("ok", content_type="text/plain")

    def refuse(self, refusal: Refusal) -> HttpResponse:
        status, error_id, message = _ERRORS[refusal.reason]
        body = {"id": error_id, "message": message, "detailed_error": refusal.detail, "status_code": status}
        return HttpResponse(json.dumps(body), status=status, content_type="application/json")


KIND = MattermostKind()
