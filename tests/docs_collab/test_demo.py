"""The demo workspace comes with a collaborative document, deterministically."""

from __future__ import annotations

import pytest

from docs_collab.demo import DEMO_TITLE, demo_updates
from docs_collab.models import Document, DocUpdate
from hub.demo import load_demo
from messaging.models import Message
from tests.docs_collab.conftest import stored_text

pytestmark = pytest.mark.django_db


def test_demo_has_a_document_once_and_deterministically() -> None:
    data = load_demo()
    document = Document.objects.get(workspace=data.workspace, title=DEMO_TITLE)
    assert document.conversation == data.conversations["general"]
    text = stored_text(document.pk)
    assert "确认冷库 B2 区容量" in text and "明前龙井" in text
    assert not Message.objects.filter(body__contains="/docs/").exists()  # the scripted history stays as is
    stored = bytes(DocUpdate.objects.get(document=document).data)
    load_demo()
    assert Document.objects.filter(workspace=data.workspace).count() == 1
    assert demo_updates() == demo_updates()  # same bytes every time
    assert bytes(DocUpdate.objects.get(document=document).data) == stored
