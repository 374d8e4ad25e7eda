"""docs/integrations.md's examples are executed: every fenced block preceded by
``<!-- test: <kind> -->`` runs (bash with curl, or Python with the client libraries) against a
live server, with the placeholders replaced by a real webhook's URL, key and secret."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from messaging.integrations.signing import hub_signature
from messaging.models import Message

DOC = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
BLOCK = re.compile(r"<!-- test: (\w+) -->\n```(\w+)\n(.*?)\n```", re.DOTALL)


def examples(kind: str) -> list[tuple[str, str]]:
    return [(lang, code) for k, lang, code in BLOCK.findall(DOC.read_text(encoding="utf-8")) if k == kind]


def test_the_document_marks_examples_for_every_kind() -> None:
    found = {k for k, _, _ in BLOCK.findall(DOC.read_text(encoding="utf-8"))}
    assert found == {"slack", "mattermost", "dingtalk", "wecom", "feishu", "verify"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["slack", "mattermost", "dingtalk", "wecom", "feishu"])
def test_examples_post_messages(kind: str, conv: int, make_hook: Any, live_server: Any) -> None:
    hook = make_hook(kind, "文档示例")
    url = hook["url"].replace("http://testserver", live_server.url)
    key = re.split(r"[/=]", url)[-1]
    host = live_server.url.split("://", 1)[1]
    for lang, code in examples(kind):
        before = Message.objects.filter(conversation_id=conv).count()
        code = (
            code.replace("mmost://hub.example.com", f"mmost://{host}")
            .replace("https://hub.example.com", live_server.url)
            .replace("KEY_FROM_THE_HUB", key)
            .replace("SEC_FROM_THE_HUB", hook["secret"] or "")
            .replace("SECRET_FROM_THE_HUB", hook["secret"] or "")
        )
        command = ["bash", "-euo", "pipefail", "-c", code] if lang == "bash" else [sys.executable, "-c", code]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, f"{kind} {lang} example failed:\n{done.stdout}\n{done.stderr}"
        if lang == "bash":
            assert done.stdout.strip() in ("ok", '{"errcode": 0, "errmsg": "ok"}'), done.stdout
        assert Message.objects.filter(conversation_id=conv).count() == before + 1, f"{kind} {lang}: no message"


def test_the_verification_example_verifies() -> None:
    ((_, code),) = examples("verify")
    scope: dict[str, Any] = {}
    exec(compile(code, "docs/integrations.md", "exec"), scope)  # our own document
    verify = scope["verify"]
    body = b'{"type":"message"}'
    assert verify("s3cret", body, hub_signature("s3cret", body))
    assert not verify("other", body, hub_signature("s3cret", body))
    assert not verify("s3cret", body + b"x", hub_signature("s3cret", body))
    assert not verify("s3cret", body, hub_signature("s3cret", body, timestamp=1_000_000_000))
