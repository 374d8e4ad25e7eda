"""Group robots of the Chinese office suites, as their documentation describes them.

* WeCom (企业微信) group robot: ``POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``
  with ``{"msgtype": "text", "text": {"content": …}}``; answers ``{"errcode": 0, "errmsg": "ok"}``.
* DingTalk (钉钉) custom robot: ``POST https://oapi.dingtalk.com/robot/send?access_token=…``
  with ``{"msgtype": "text", "text": {"content": …}}``. With 加签 on, the URL also carries
  ``timestamp`` (ms) and ``sign`` = urlencode(base64(HMAC-SHA256(secret, "{timestamp}\\n{secret}"))).
  Answers ``{"errcode": 0, "errmsg": "ok"}``.
* Feishu / Lark (飞书) custom bot: ``POST https://open.feishu.cn/open-apis/bot/v2/hook/…`` with
  ``{"msg_type": "text", "content": {"text": …}}``; with signature verification on, the body also
  carries ``timestamp`` (s) and ``sign`` = base64(HMAC-SHA256(key="{timestamp}\\n{secret}", msg=b"")).
  Answers ``{"code": 0, "msg": "success"}`` (older bots: ``{"StatusCode": 0}``).

All three answer HTTP 200 with a non-zero code for errors, so the body decides."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote_plus

import requests
from django.conf import settings

from messaging.delivery import netguard
from messaging.delivery.compose import Notice
from messaging.delivery.crypto import redact, secret_parts
from messaging.delivery.outcome import Outcome

# Codes that mean "slow down" rather than "this robot is misconfigured".
_TOO_FAST = {
    "wecom": {45009, 45033},
    "dingtalk": {130101, 130102},
    "feishu": {9499, 11232, 11233},
}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def request_for(
    kind: str, url: str, secret: str, notice: Notice, now: float | None = None
) -> tuple[str, dict[str, Any]]:
    """(URL, JSON body) of one text message to this robot."""
    now = time.time() if now is None else now
    text = notice.as_text()
    if kind == "wecom":
        return url, {"msgtype": "text", "text": {"content": text}}
    if kind == "dingtalk":
        if secret:
            ts = int(now * 1000)
            url = f"{url}{'&' if '?' in url else '?'}timestamp={ts}&sign={dingtalk_sign(secret, ts)}"
        return url, {"msgtype": "text", "text": {"content": text}}
    if kind == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if secret:
            ts = int(now)
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
        return url, body
    raise ValueError(f"not a robot kind: {kind}")


def _code_and_message(kind: str, data: Any) -> tuple[int, str]:
    if not isinstance(data, dict):
        return -1, "the robot answered something that is not a JSON object"
    if kind == "feishu":
        code: object = data.get("code", data.get("StatusCode", -1))
        message: object = data.get("msg", data.get("StatusMessage", ""))
    else:
        code, message = data.get("errcode", -1), data.get("errmsg", "")
    if isinstance(code, bool) or not isinstance(code, int | str):
        return -1, "the robot answered an unexpected code"
    try:
        return int(code), str(message)
    except ValueError:
        return -1, "the robot answered an unexpected code"


def send(kind: str, url: str, secret: str, notice: Notice) -> Outcome:
    target_url, body = request_for(kind, url, secret, notice)
    hide = [*secret_parts(url), secret]
    try:
        with netguard.guarded():
            # No redirects: a robot endpoint answers itself; following one could lead anywhere.
            response = requests.post(
                target_url, json=body, timeout=settings.HUB_NOTIFY_TIMEOUT_SECONDS, allow_redirects=False
            )
    except requests.RequestException as exc:
        if netguard.was_blocked(exc):
            return Outcome.permanent("the robot's host is not a public address")
        return Outcome.transient(redact(f"could not reach the robot: {type(exc).__name__}", hide))
    if response.status_code == 429 or response.status_code >= 500:
        return Outcome.transient(f"the robot's server answered HTTP {response.status_code}")
    if response.status_code != 200:
        return Outcome.permanent(f"the robot's server answered HTTP {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        return Outcome.permanent("the robot answered something that is not JSON")
    code, message = _code_and_message(kind, data)
    if code == 0:
        return Outcome.success()
    detail = redact(f"the robot refused the message: {code} {message}".strip(), hide)
    return Outcome.transient(detail) if code in _TOO_FAST[kind] else Outcome.permanent(detail)
