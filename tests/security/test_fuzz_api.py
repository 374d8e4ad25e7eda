"""Schemathesis against the OpenAPI document: every operation, fed generated (valid and
invalid) parameters and bodies as an authenticated member, never answers 5xx, and what it
answers with a documented status matches the documented schema.

Path parameters that name an object (``conversation_id``, ``ws``, ``document_id``…) are pointed
at real objects the member can reach half of the time, so the generated bodies get past
the 404 of a random id and exercise the handlers; the other half keeps the random ids (which
must be a clean 404 or 422). The number of examples per operation is bounded so that the whole
run stays within about two minutes of CI time (``HUB_FUZZ_EXAMPLES`` raises it locally).
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.core.result import Err

from docs_collab.models import Document
from hub.models import Member
from messaging import actions as messaging_actions
from tests.conftest import World
from tests.docs_collab.conftest import make_document

EXAMPLES = int(os.environ.get("HUB_FUZZ_EXAMPLES", "6"))

# Slow (~90 s): the SQLite pass runs it; the PostgreSQL pass (which skips "slow") would only
# repeat the same examples against the same views.
pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.slow]


@pytest.fixture
def fuzz_targets(world: World) -> dict[str, int]:
    """Real objects the fuzzed member can reach: their workspace, a channel with a message,
    a document."""
    owner = Member.objects.get(workspace=world.workspace, user=world.owner.user)
    member = Member.objects.get(workspace=world.workspace, user=world.member.user)
    conversation = messaging_actions.check_create_conversation(owner, "public", "模糊测试", [world.member.user.pk])
    message, _ = messaging_actions.check_send_message(member, conversation, "第一条 *first*", uuid.uuid4())
    document: Document = make_document(world, world.member)
    return {
        "ws": world.workspace.pk,
        "workspace_id": world.workspace.pk,
        "conversation_id": conversation.pk,
        "message_id": message.pk,
        "document_id": document.pk,
        "user_id": world.member2.user.pk,
        "target_id": conversation.pk,
    }


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """Django's WSGI application, with the per-request connection clean-up switched off as
    Django's own test client does: at the end of each request it would close the test
    transaction's connection (on PostgreSQL), and every later request would find no database."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _fuzz_operation(operation: Any, token: str, targets: dict[str, int], statuses: Counter[int]) -> None:
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        # Examples share one world (function-scoped fixtures on purpose) and some operations
        # filter many generated values: neither is a problem here.
        suppress_health_check=list(HealthCheck),
        derandomize=True,  # the same examples in CI every run: a failure is reproducible
        database=None,
    )
    def run(case: Any) -> None:
        if case.path_parameters and hash(repr(sorted(case.path_parameters.items()))) % 2 == 0:
            for name in case.path_parameters:
                if name in targets:
                    case.path_parameters[name] = targets[name]
        headers = {"Authorization": f"Bearer {token}"}
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance], headers=headers)

    run()


def test_no_operation_errors_or_breaks_its_schema(world: World, fuzz_targets: dict[str, int], wsgi_app: Any) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    failures: list[str] = []
    operations = 0
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # the document itself is broken somewhere
            failures.append(f"invalid schema: {result.err()}")
            continue
        operation = result.ok()
        operations += 1
        try:
            _fuzz_operation(operation, world.member.token, fuzz_targets, statuses)
        except Exception as exc:  # one report for all operations, not the first only
            failures.append(f"{operation.label}:\n{str(exc)[:1500]}")
    assert operations > 100  # the whole API was loaded, not an empty document
    # The run reached the handlers: many requests were authenticated and accepted, not
    # all refused at the door (a broken token or target set would pass vacuously).
    assert sum(n for status, n in statuses.items() if status < 300) > 50, statuses
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
