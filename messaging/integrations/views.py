"""The webhook endpoints at each platform's own URL shape (not under /api/v1/: clients of
those platforms build these paths themselves). CSRF-exempt: the capability key in the URL,
and the signature where the platform has one, are the credentials; no cookie is consulted."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from messaging.integrations import incoming, slash
from messaging.integrations.kinds import dingtalk, feishu, mattermost, slack, wecom


@csrf_exempt
@require_POST
def slack_hook(request: HttpRequest, key: str) -> HttpResponse:
    return incoming.receive(slack.KIND, request, key)


@csrf_exempt
@require_POST
def mattermost_hook(request: HttpRequest, key: str) -> HttpResponse:
    return incoming.receive(mattermost.KIND, request, key)


@csrf_exempt
@require_POST
def dingtalk_robot(request: HttpRequest) -> HttpResponse:
    return incoming.receive(dingtalk.KIND, request)


@csrf_exempt
@require_POST
def wecom_robot(request: HttpRequest) -> HttpResponse:
    return incoming.receive(wecom.KIND, request)


@csrf_exempt
@require_POST
def feishu_hook(request: HttpRequest, key: str) -> HttpResponse:
    return incoming.receive(feishu.KIND, request, key)


@csrf_exempt
@require_POST
def command_response(request: HttpRequest, key: str) -> HttpResponse:
    """An external slash-command app's delayed reply (its ``response_url``)."""
    return slash.respond(request, key)
