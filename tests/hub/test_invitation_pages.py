"""The HTML invitation flow at /invite/<token>/: sign up or sign in, come back, accept; and the
clear pages for bad, expired, revoked and used-up tokens (never a 500)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from hub import actions
from hub.models import Invitation, Member
from tests.conftest import World

pytestmark = pytest.mark.django_db
PASSWORD = "Longjing-Tea-2026"


def _owner(world: World) -> Member:
    return Member.objects.get(workspace=world.workspace, user=world.owner.user)


def test_new_person_signs_up_and_lands_in_the_workspace(world: World) -> None:
    issued = actions.do_create_invitation(_owner(world), role="member")
    client = Client()
    page = client.get(f"/invite/{issued.token}/")
    assert page.status_code == 200
    assert "杭州茶叶" in page.content.decode()
    response = client.post(
        "/accounts/signup/", {"email": "newbie@tea.test", "password1": PASSWORD, "password2": PASSWORD}
    )
    # allauth brings them back to the invitation...
    assert response.status_code == 302
    assert response["Location"] == f"/invite/{issued.token}/"
    page = client.get(response["Location"])
    assert 'type="submit"' in page.content.decode()
    # ... where they accept.
    response = client.post(f"/invite/{issued.token}/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    member = Member.objects.get(workspace=world.workspace, user__email="newbie@tea.test")
    assert member.role == "member"
    assert client.get("/api/v1/me").json()["workspaces"][0]["name"] == "杭州茶叶"


def test_partner_contact_signs_in_and_becomes_guest(world: World) -> None:
    issued = actions.do_create_invitation(
        _owner(world), role="guest", partner=world.customer, email="outsider@other.test"
    )
    client = Client()
    client.get(f"/invite/{issued.token}/")
    response = client.post("/accounts/login/", {"login": "outsider@other.test", "password": "pw-Secret-123"})
    assert response["Location"] == f"/invite/{issued.token}/"
    assert client.post(f"/invite/{issued.token}/").status_code == 302
    member = Member.objects.get(workspace=world.workspace, user=world.outsider.user)
    assert member.role == "guest"
    assert member.partner == world.customer


@pytest.mark.parametrize("state", ["expired", "revoked", "used"])
def test_unusable_invitation_pages(world: World, state: str) -> None:
    issued = actions.do_create_invitation(_owner(world), role="member")
    if state == "expired":
        Invitation.objects.filter(pk=issued.invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif state == "revoked":
        actions.do_revoke_invitation(_owner(world), issued.invitation)
    else:
        actions.do_accept_invitation(actions.do_create_user("first@tea.test", PASSWORD), issued.token)
    for client in (Client(), _signed_in(world)):
        response = client.get(f"/invite/{issued.token}/")
        assert response.status_code == 410
        body = response.content.decode()
        assert f'data-code="invitation_{state}"' in body
        assert client.post(f"/invite/{issued.token}/").status_code == 410


def test_unknown_token_page(world: World) -> None:
    response = Client().get("/invite/definitely-not-a-token/")
    assert response.status_code == 404
    assert 'data-code="not_found"' in response.content.decode()
    assert _signed_in(world).post("/invite/x/").status_code == 404


def test_wrong_recipient_gets_a_clear_page(world: World) -> None:
    issued = actions.do_create_invitation(_owner(world), role="member", email="someone@tea.test")
    client = _signed_in(world)
    for response in (client.get(f"/invite/{issued.token}/"), client.post(f"/invite/{issued.token}/")):
        assert response.status_code == 403
        body = response.content.decode()
        assert 'data-code="invitation_wrong_email"' in body
        assert "outsider@other.test" in body  # tells them who they are signed in as
    assert not Member.objects.filter(workspace=world.workspace, user=world.outsider.user).exists()


def test_anonymous_post_does_not_accept(world: World) -> None:
    issued = actions.do_create_invitation(_owner(world), role="member")
    response = Client().post(f"/invite/{issued.token}/")
    assert response.status_code == 200  # the sign-in / sign-up choice again
    assert Invitation.objects.get(pk=issued.invitation.pk).use_count == 0


def _signed_in(world: World) -> Client:
    client = Client()
    client.force_login(world.outsider.user)
    return client


def test_existing_member_goes_straight_in(world: World) -> None:
    issued = actions.do_create_invitation(_owner(world), role="member")
    actions.do_accept_invitation(world.outsider.user, issued.token)  # uses the only use
    client = _signed_in(world)
    response = client.get(f"/invite/{issued.token}/")
    assert response.status_code == 302  # not "already used": they are in
    assert response["Location"] == "/"


def test_invitation_page_speaks_chinese_and_english(world: World) -> None:
    issued = actions.do_create_invitation(_owner(world), role="guest", partner=world.customer)
    chinese = Client().get(f"/invite/{issued.token}/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "您受邀加入 杭州茶叶" in chinese
    assert "西湖茶馆 的访客联系人" in chinese
    english = Client().get(f"/invite/{issued.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You are invited to join 杭州茶叶" in english


def test_signed_in_people_get_their_profile_language(world: World) -> None:
    issued = actions.do_create_invitation(_owner(world), role="member")
    actions.do_update_profile(world.outsider.user, language="en")
    client = _signed_in(world)
    page = client.get(f"/invite/{issued.token}/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "You are invited to join 杭州茶叶" in page
    actions.do_update_profile(world.outsider.user, language="zh-hans")
    page = client.get(f"/invite/{issued.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "您受邀加入 杭州茶叶" in page
