"""Fixtures for ERP-lite tests: the demo company with its ERP-lite data, and the built-in
source over it. Import the fixtures into a test module (``from tests.crm_bridge.erplite_fixtures
import demo, source  # noqa: F401``) or use them from the contract suite (``builtin_source``)."""

from __future__ import annotations

from typing import Any

import pytest

from crm_bridge.models import ErpSource
from crm_bridge.sources.base import RecordRef, RecordType
from crm_bridge.sources.builtin import BuiltinSource, ensure_default_source
from hub.demo import DemoData, load_demo
from hub.models import User
from tests.conftest import Persona


@pytest.fixture
def demo(db: Any) -> DemoData:
    return load_demo()


@pytest.fixture
def source_row(demo: DemoData) -> ErpSource:
    return ensure_default_source(demo.workspace)


@pytest.fixture
def source(source_row: ErpSource) -> BuiltinSource:
    return BuiltinSource(source_row)


@pytest.fixture
def primed(source_row: ErpSource) -> ErpSource:
    """The demo's ERP-lite records in the record cache (outside tests a new built-in source
    is primed after commit; the test transaction never commits)."""
    from crm_bridge.erplite.receivers import prime_cache

    prime_cache(source_row)
    return source_row


def ref(source: BuiltinSource, text: str) -> RecordRef:
    found = source.resolve(text)
    assert found is not None, text
    return found


def demo_persona(key: str) -> Persona:
    from hub import actions
    from hub.demo import PEOPLE

    email = next(p.email for p in PEOPLE if p.key == key)
    user = User.objects.get(email=email)
    return Persona(user=user, token=actions.do_issue_api_token(user, "test")[1])


__all__ = ["RecordType", "demo", "demo_persona", "primed", "ref", "source", "source_row"]
