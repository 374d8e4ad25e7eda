"""The Django admin for operators: every hub model's pages load, and deactivation goes through
the actions (sessions and tokens revoked, audit logged)."""

from __future__ import annotations

import pytest
from django.test import Client

from hub import actions
from hub.models import ApiToken, AuditEvent, Invitation, Member, User
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(world: World) -> Client:
    User.objects.create_superuser(email="root@ops.test", password="Root-Password-1")
    client = Client()
    client.force_login(User.objects.get(email="root@ops.test"))
    return client


@pytest.mark.parametrize("model", ["user", "workspace", "member", "partnerorg", "invitation", "apitoken", "auditevent"])
def test_changelists_and_change_pages_load(world: World, operator: Client, model: str) -> None:
    actions.do_create_invitation(Member.objects.get(user=world.owner.user, workspace=world.workspace), role="member")
    response = operator.get(f"/admin/hub/{model}/")
    assert response.status_code == 200
    first = {
        "user": world.member.user.pk,
        "workspace": world.workspace.pk,
        "member": Member.objects.first().pk,
        "partnerorg": world.customer.pk,
        "invitation": Invitation.objects.first().pk,
        "apitoken": ApiToken.objects.first().pk,
        "auditevent": AuditEvent.objects.first().pk,
    }[model]
    assert operator.get(f"/admin/hub/{model}/{first}/change/").status_code == 200


def test_admin_is_for_operators_only(world: World) -> None:
    client = Client()
    client.force_login(world.owner.user)  # a workspace owner is not a site operator
    response = client.get("/admin/hub/user/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_deactivate_accounts_action(world: World, operator: Client) -> None:
    response = operator.post(
        "/admin/hub/user/", {"action": "deactivate_accounts", "_selected_action": [world.member.user.pk]}
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=world.member.user.pk).is_active
    assert not ApiToken.objects.filter(user=world.member.user, revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="user.deactivate", target_id=str(world.member.user.pk)).exists()


def test_admin_deactivate_membership_action(world: World, operator: Client) -> None:
    member = Member.objects.get(user=world.member2.user, workspace=world.workspace)
    owner = Member.objects.get(user=world.owner.user, workspace=world.workspace)
    operator.post("/admin/hub/member/", {"action": "deactivate_members", "_selected_action": [member.pk, owner.pk]})
    member.refresh_from_db()
    owner.refresh_from_db()
    assert not member.is_active
    assert owner.is_active  # owners are skipped
    assert User.objects.get(pk=world.member2.user.pk).is_active  # only the membership
    event = AuditEvent.objects.get(action="member.deactivate")
    assert event.actor is not None
    assert event.actor.email == "root@ops.test"
    assert event.workspace_id == world.workspace.pk
    assert event.data == {"by_operator": True}


def test_audit_log_is_read_only_in_admin(world: World, operator: Client) -> None:
    event = AuditEvent.objects.first()
    assert event is not None
    assert operator.post(f"/admin/hub/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
