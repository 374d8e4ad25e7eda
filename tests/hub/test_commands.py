"""Management commands: issue_api_token."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from hub import actions
from hub.models import AuditEvent, User
from hub.tokens import user_for_token
from tests.conftest import ApiClient, Persona

pytestmark = pytest.mark.django_db


def test_issue_api_token_prints_token_as_last_line() -> None:
    user = actions.do_create_user("cli@tea.test", "pw-Secret-123", "命令行")
    out = StringIO()
    call_command("issue_api_token", "CLI@tea.test", stdout=out)
    lines = out.getvalue().rstrip("\n").split("\n")
    key = lines[-1]
    assert key.startswith("xwh_")
    assert " " not in key
    assert user_for_token(key) == user
    assert AuditEvent.objects.filter(action="token.issue", actor=user).exists()
    # The token works for the API.
    response = ApiClient(Persona(user=user, token=key)).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["email"] == "cli@tea.test"


def test_issue_api_token_unknown_user() -> None:
    with pytest.raises(CommandError, match="no user"):
        call_command("issue_api_token", "nobody@tea.test", stdout=StringIO())


def test_issue_api_token_inactive_user() -> None:
    user = actions.do_create_user("gone@tea.test", "pw-Secret-123")
    actions.do_deactivate_user(None, user)
    with pytest.raises(CommandError, match="deactivated"):
        call_command("issue_api_token", "gone@tea.test", stdout=StringIO())
    assert not User.objects.get(pk=user.pk).api_tokens.exists()
