"""The hub HTTP API, endpoint by endpoint, for owner / admin / member / guest / outsider /
anonymous, with bad input. Objects of another workspace answer 404."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from hub import actions
from hub.models import ApiToken, AuditEvent, Invitation, Member, PartnerOrg, User
from tests.conftest import ApiClient, Persona, World, make_persona

pytestmark = pytest.mark.django_db


def _code(response: Any) -> str:
    return str(response.json()["error"]["code"])


def _png(size: tuple[int, int] = (40, 30), color: str = "red") -> bytes:
    buffer = BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


# --- /me -------------------------------------------------------------------------------------


def test_me_lists_only_own_workspaces(world: World) -> None:
    body = world.api(world.owner).get("/api/v1/me").json()
    assert body["email"] == "owner@tea.test"
    assert body["display_name"] == "王老板"
    assert body["workspaces"] == [{"id": world.workspace.pk, "name": "杭州茶叶", "role": "owner"}]
    guest = world.api(world.guest).get("/api/v1/me").json()
    assert guest["workspaces"] == [{"id": world.workspace.pk, "name": "杭州茶叶", "role": "guest"}]
    outsider = world.api(world.outsider).get("/api/v1/me").json()
    assert [w["id"] for w in outsider["workspaces"]] == [world.other_workspace.pk]


def test_me_anonymous_and_bad_token(world: World) -> None:
    response = world.api(None).get("/api/v1/me")
    assert response.status_code == 401
    assert _code(response) == "not_authenticated"
    bogus = Persona(user=world.member.user, token="xwh_not-a-real-token")
    assert world.api(bogus).get("/api/v1/me").status_code == 401
    assert world.api(Persona(user=world.member.user, token="garbage")).get("/api/v1/me").status_code == 401


def test_update_profile(world: World) -> None:
    api = world.api(world.member)
    response = api.patch("/api/v1/me", {"display_name": " 张三丰 ", "time_zone": "Europe/Berlin", "language": "en"})
    assert response.status_code == 200
    assert response.json()["display_name"] == "张三丰"
    assert response.json()["time_zone"] == "Europe/Berlin"
    assert response.json()["language"] == "en"
    assert _code(api.patch("/api/v1/me", {"time_zone": "Mars/Olympus"})) == "invalid_time_zone"
    assert api.patch("/api/v1/me", {"language": "klingon"}).status_code == 422
    assert world.api(None).patch("/api/v1/me", {"display_name": "x"}).status_code == 401


def test_session_writes_need_csrf(world: World) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.member.user)
    assert client.get("/api/v1/me").status_code == 200
    response = client.patch("/api/v1/me", {"display_name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert _code(response) == "csrf_failed"


# --- avatars ---------------------------------------------------------------------------------


def _upload(persona: Persona, data: bytes, name: str = "me.png") -> Any:
    from django.test import Client

    return Client().post(
        "/api/v1/me/avatar", {"file": SimpleUploadedFile(name, data, content_type="image/png")}, **persona.auth
    )


def test_avatar_upload_is_reencoded_and_visible_to_colleagues_only(world: World) -> None:
    response = _upload(world.owner, _png((600, 300)), name="../../evil.png")
    assert response.status_code == 200, response.content
    url = response.json()["avatar_url"]
    assert url.startswith(f"/api/v1/users/{world.owner.user.pk}/avatar")
    world.owner.user.refresh_from_db()
    stored = world.owner.user.avatar.name
    assert "evil" not in stored
    with world.owner.user.avatar.open("rb") as handle, Image.open(handle) as image:
        assert image.size == (256, 256)
        assert image.format == "PNG"

    colleague = world.api(world.member).get(url)
    assert colleague.status_code == 200
    assert colleague["Content-Type"] == "image/png"
    assert world.api(world.owner).get(url).status_code == 200
    assert world.api(world.outsider).get(url).status_code == 404
    assert world.api(world.guest).get(url).status_code == 404  # guests do not browse staff
    assert world.api(None).get(url).status_code == 401

    # The members list shows it; deleting it removes the file reference.
    rows = world.api(world.member).get(f"/api/v1/workspaces/{world.workspace.pk}/members").json()
    assert next(r for r in rows if r["user_id"] == world.owner.user.pk)["avatar_url"] == url
    response = world.api(world.owner).delete("/api/v1/me/avatar")
    assert response.status_code == 200
    assert response.json()["avatar_url"] is None
    assert world.api(world.member).get(url).status_code == 404


def test_avatar_rejects_non_images(world: World) -> None:
    response = _upload(world.member, b"<script>alert(1)</script>", name="x.png")
    assert response.status_code == 400
    assert _code(response) == "invalid_image"
    from django.test import Client

    assert Client().post("/api/v1/me/avatar", {"file": SimpleUploadedFile("a.png", _png())}).status_code == 401
    assert Client().post("/api/v1/me/avatar", {}, **world.member.auth).status_code == 422


# --- workspaces ------------------------------------------------------------------------------


def test_create_workspace_makes_caller_owner(world: World) -> None:
    response = world.api(world.member).post("/api/v1/workspaces", {"name": "新公司"})
    assert response.status_code == 201
    ws_id = response.json()["id"]
    assert response.json()["name"] == "新公司"
    assert Member.objects.get(workspace_id=ws_id, user=world.member.user).role == "owner"
    assert AuditEvent.objects.filter(action="workspace.create", workspace_id=ws_id).exists()
    assert world.api(world.member).post("/api/v1/workspaces", {"name": ""}).status_code == 422
    assert world.api(world.member).post("/api/v1/workspaces", {}).status_code == 422
    assert world.api(None).post("/api/v1/workspaces", {"name": "x"}).status_code == 401


@pytest.mark.parametrize(("who", "status"), [("owner", 200), ("member", 200), ("guest", 200), ("outsider", 404)])
def test_get_workspace(world: World, who: str, status: int) -> None:
    response = world.api(getattr(world, who)).get(f"/api/v1/workspaces/{world.workspace.pk}")
    assert response.status_code == status
    if status == 200:
        assert response.json()["name"] == "杭州茶叶"


def test_get_workspace_anonymous_and_missing(world: World) -> None:
    assert world.api(None).get(f"/api/v1/workspaces/{world.workspace.pk}").status_code == 401
    assert world.api(world.owner).get("/api/v1/workspaces/999999").status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 200), ("admin", 200), ("member", 403), ("guest", 403), ("outsider", 404)]
)
def test_update_workspace_settings(world: World, who: str, status: int) -> None:
    response = world.api(getattr(world, who)).patch(
        f"/api/v1/workspaces/{world.workspace.pk}", {"name": "杭州茶叶有限公司", "read_receipts_enabled": False}
    )
    assert response.status_code == status
    world.workspace.refresh_from_db()
    assert (world.workspace.name == "杭州茶叶有限公司") == (status == 200)


def test_update_workspace_bad_input(world: World) -> None:
    api = world.api(world.owner)
    assert api.patch(f"/api/v1/workspaces/{world.workspace.pk}", {"name": ""}).status_code == 422
    assert api.patch(f"/api/v1/workspaces/{world.workspace.pk}", {"require_2fa_for_admins": "maybe"}).status_code == 422


# --- partners --------------------------------------------------------------------------------


def test_list_partners_by_role(world: World) -> None:
    url = f"/api/v1/workspaces/{world.workspace.pk}/partners"
    staff = world.api(world.member).get(url).json()
    assert {p["name"] for p in staff} == {"西湖茶馆", "龙井包装厂"}
    guest = world.api(world.guest).get(url).json()
    assert [p["name"] for p in guest] == ["西湖茶馆"]  # only their own organisation
    assert world.api(world.outsider).get(url).status_code == 404
    assert world.api(None).get(url).status_code == 401


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 201), ("admin", 201), ("member", 403), ("guest", 403), ("outsider", 404)]
)
def test_create_partner(world: World, who: str, status: int) -> None:
    response = world.api(getattr(world, who)).post(
        f"/api/v1/workspaces/{world.workspace.pk}/partners", {"name": "苏州茶具", "kind": "supplier"}
    )
    assert response.status_code == status
    if status == 201:
        assert response.json()["kind"] == "supplier"
    assert PartnerOrg.objects.filter(name="苏州茶具").exists() == (status == 201)


def test_create_partner_bad_input(world: World) -> None:
    url = f"/api/v1/workspaces/{world.workspace.pk}/partners"
    api = world.api(world.owner)
    assert api.post(url, {"name": "X", "kind": "competitor"}).status_code == 422
    assert api.post(url, {"name": "", "kind": "customer"}).status_code == 422
    assert _code(api.post(url, {"name": "   ", "kind": "customer"})) == "invalid_name"
    duplicate = api.post(url, {"name": "西湖茶馆", "kind": "customer"})
    assert duplicate.status_code == 409
    assert _code(duplicate) == "duplicate"
    # The same name in another workspace is fine: names are per tenant.
    other = world.api(world.outsider).post(
        f"/api/v1/workspaces/{world.other_workspace.pk}/partners", {"name": "西湖茶馆", "kind": "customer"}
    )
    assert other.status_code == 201


# --- members ---------------------------------------------------------------------------------


def test_list_members_staff_only(world: World) -> None:
    url = f"/api/v1/workspaces/{world.workspace.pk}/members"
    rows = world.api(world.member).get(url).json()
    assert {r["email"] for r in rows} >= {"owner@tea.test", "guest@customer.test"}
    assert "outsider@other.test" not in {r["email"] for r in rows}
    guest = world.api(world.guest).get(url)
    assert guest.status_code == 403
    assert world.api(world.outsider).get(url).status_code == 404
    assert world.api(None).get(url).status_code == 401


def test_change_role_rules(world: World) -> None:
    ws = world.workspace.pk
    member_id = world.member.user.pk
    owner = world.api(world.owner)
    response = owner.patch(f"/api/v1/workspaces/{ws}/members/{member_id}", {"role": "admin"})
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    event = AuditEvent.objects.get(action="member.role")
    assert event.data == {"old": "member", "new": "admin"}

    admin = world.api(world.admin)
    assert admin.patch(f"/api/v1/workspaces/{ws}/members/{member_id}", {"role": "owner"}).status_code == 403
    assert admin.patch(f"/api/v1/workspaces/{ws}/members/{world.owner.user.pk}", {"role": "member"}).status_code == 403
    assert admin.patch(f"/api/v1/workspaces/{ws}/members/{world.admin.user.pk}", {"role": "member"}).status_code == 403
    guest_change = owner.patch(f"/api/v1/workspaces/{ws}/members/{world.guest.user.pk}", {"role": "member"})
    assert _code(guest_change) == "invalid_role"
    assert owner.patch(f"/api/v1/workspaces/{ws}/members/{member_id}", {"role": "guest"}).status_code == 422
    assert owner.patch(f"/api/v1/workspaces/{ws}/members/{member_id}", {"role": "emperor"}).status_code == 422
    # Someone of another workspace is not a member here: 404, not 403.
    assert (
        owner.patch(f"/api/v1/workspaces/{ws}/members/{world.outsider.user.pk}", {"role": "admin"}).status_code == 404
    )
    for who, status in (("member2", 403), ("guest", 403), ("outsider", 404)):
        persona = getattr(world, who)
        response = world.api(persona).patch(f"/api/v1/workspaces/{ws}/members/{member_id}", {"role": "member"})
        assert response.status_code == status, who
    assert world.api(None).patch(f"/api/v1/workspaces/{ws}/members/{member_id}", {"role": "member"}).status_code == 401


def test_deactivate_member(world: World) -> None:
    ws = world.workspace.pk
    url = f"/api/v1/workspaces/{ws}/members/{world.member.user.pk}/deactivate"
    assert world.api(world.member2).post(url).status_code == 403
    assert world.api(world.guest).post(url).status_code == 403
    assert world.api(world.outsider).post(url).status_code == 404
    assert world.api(None).post(url).status_code == 401
    response = world.api(world.admin).post(url)
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    # The person is out of this workspace at once, but their account still works elsewhere.
    member_api = world.api(world.member)
    assert member_api.get(f"/api/v1/workspaces/{ws}").status_code == 404
    assert member_api.get("/api/v1/me").json()["workspaces"] == []
    # Admins cannot deactivate owners or themselves.
    assert (
        world.api(world.admin).post(f"/api/v1/workspaces/{ws}/members/{world.owner.user.pk}/deactivate").status_code
        == 403
    )
    assert (
        world.api(world.admin).post(f"/api/v1/workspaces/{ws}/members/{world.admin.user.pk}/deactivate").status_code
        == 403
    )
    assert (
        world.api(world.owner).post(f"/api/v1/workspaces/{ws}/members/{world.outsider.user.pk}/deactivate").status_code
        == 404
    )


def test_deactivate_account_revokes_tokens_and_sessions(world: World) -> None:
    from django.contrib.sessions.models import Session
    from django.test import Client

    ws = world.workspace.pk
    browser = Client()
    browser.force_login(world.member.user)
    assert browser.get("/api/v1/me").status_code == 200
    assert Session.objects.count() == 1
    url = f"/api/v1/workspaces/{ws}/members/{world.member.user.pk}/deactivate-account"
    assert world.api(world.admin).post(url).status_code == 403  # owners only
    assert world.api(world.member2).post(url).status_code == 403
    assert world.api(world.outsider).post(url).status_code == 404
    response = world.api(world.owner).post(url)
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert world.api(world.member).get("/api/v1/me").status_code == 401
    assert browser.get("/api/v1/me").status_code == 401
    assert Session.objects.count() == 0
    assert not ApiToken.objects.filter(user=world.member.user, revoked_at__isnull=True).exists()
    event = AuditEvent.objects.get(action="user.deactivate")
    assert event.workspace_id == ws
    assert event.data["sessions"] == 1


def test_deactivate_account_refused_for_people_of_other_workspaces(world: World) -> None:
    ws = world.workspace.pk
    # member2 also works for the outsider's company: the tea company's owner may not lock them out.
    Member.objects.create(workspace=world.other_workspace, user=world.member2.user, role=Member.Role.MEMBER)
    response = world.api(world.owner).post(
        f"/api/v1/workspaces/{ws}/members/{world.member2.user.pk}/deactivate-account"
    )
    assert response.status_code == 403
    assert _code(response) == "user_in_other_workspaces"
    assert User.objects.get(pk=world.member2.user.pk).is_active
    own = world.api(world.owner).post(f"/api/v1/workspaces/{ws}/members/{world.owner.user.pk}/deactivate-account")
    assert own.status_code == 403


# --- invitations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 201), ("admin", 201), ("member", 403), ("guest", 403), ("outsider", 404)]
)
def test_create_invitation_by_role(world: World, who: str, status: int) -> None:
    response = world.api(getattr(world, who)).post(
        f"/api/v1/workspaces/{world.workspace.pk}/invitations", {"role": "member"}
    )
    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert body["url"].endswith(f"/invite/{body['token']}/")
        invitation = Invitation.objects.get(pk=body["id"])
        assert invitation.token_hash != body["token"]  # only the hash is stored
        assert invitation.token_hash == Invitation.hash_token(body["token"])


def test_create_invitation_bad_input(world: World) -> None:
    url = f"/api/v1/workspaces/{world.workspace.pk}/invitations"
    owner = world.api(world.owner)
    assert _code(owner.post(url, {"role": "guest"})) == "partner_required"
    assert _code(owner.post(url, {"role": "member", "partner_id": world.customer.pk})) == "partner_not_allowed"
    assert owner.post(url, {"role": "owner"}).status_code == 422
    assert owner.post(url, {"role": "member", "max_uses": 0}).status_code == 422
    assert owner.post(url, {"role": "member", "expires_in_days": 0}).status_code == 422
    assert _code(owner.post(url, {"role": "member", "email": "not an email"})) == "invalid_email"
    # A partner of another workspace does not exist here.
    foreign = actions.do_create_partner(Member.objects.get(user=world.outsider.user), "外部客户", "customer")
    assert owner.post(url, {"role": "guest", "partner_id": foreign.pk}).status_code == 404
    assert world.api(None).post(url, {"role": "member"}).status_code == 401


def test_staff_link_invitation_with_max_uses(world: World) -> None:
    body = (
        world.api(world.admin)
        .post(f"/api/v1/workspaces/{world.workspace.pk}/invitations", {"role": "member", "max_uses": 2})
        .json()
    )
    first, second, third = (make_persona(f"new{i}@tea.test") for i in range(3))
    for persona in (first, second):
        response = ApiClient(persona).post(f"/api/v1/invitations/{body['token']}/accept")
        assert response.status_code == 200
        assert response.json() == {"workspace_id": world.workspace.pk, "role": "member", "partner_id": None}
    # Accepting again is harmless and uses nothing up.
    assert ApiClient(first).post(f"/api/v1/invitations/{body['token']}/accept").status_code == 200
    used = ApiClient(third).post(f"/api/v1/invitations/{body['token']}/accept")
    assert used.status_code == 410
    assert _code(used) == "invitation_used"
    assert Invitation.objects.get(pk=body["id"]).use_count == 2


def test_partner_contact_invitation_lands_as_guest(world: World) -> None:
    body = (
        world.api(world.owner)
        .post(
            f"/api/v1/workspaces/{world.workspace.pk}/invitations",
            {"role": "guest", "partner_id": world.supplier.pk, "email": "Buyer@Supplier.test"},
        )
        .json()
    )
    assert body["email"] == "buyer@supplier.test"
    contact = make_persona("buyer@supplier.test", "采购员")
    response = ApiClient(contact).post(f"/api/v1/invitations/{body['token']}/accept")
    assert response.status_code == 200
    assert response.json() == {"workspace_id": world.workspace.pk, "role": "guest", "partner_id": world.supplier.pk}
    member = Member.objects.get(workspace=world.workspace, user=contact.user)
    assert member.partner == world.supplier
    assert ApiClient(contact).get(f"/api/v1/workspaces/{world.workspace.pk}/members").status_code == 403


def test_invitation_bound_to_email_refuses_others(world: World) -> None:
    body = (
        world.api(world.owner)
        .post(f"/api/v1/workspaces/{world.workspace.pk}/invitations", {"role": "member", "email": "right@tea.test"})
        .json()
    )
    response = world.api(world.outsider).post(f"/api/v1/invitations/{body['token']}/accept")
    assert response.status_code == 403
    assert _code(response) == "invitation_wrong_email"


def test_invitation_email_is_sent_through_the_task(world: World, django_capture_on_commit_callbacks: Any) -> None:
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        body = (
            world.api(world.owner)
            .post(f"/api/v1/workspaces/{world.workspace.pk}/invitations", {"role": "member", "email": "new@tea.test"})
            .json()
        )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new@tea.test"]
    assert "杭州茶叶" in message.subject
    assert body["url"] in message.body
    # Without an email nothing is sent.
    with django_capture_on_commit_callbacks(execute=True):
        world.api(world.owner).post(f"/api/v1/workspaces/{world.workspace.pk}/invitations", {"role": "member"})
    assert len(mail.outbox) == 1


def test_invitation_email_task_skips_revoked() -> None:
    from hub.tasks import send_invitation_email

    assert send_invitation_email.call(999999, "http://x/invite/y/") is False


def test_list_and_revoke_invitations(world: World) -> None:
    ws = world.workspace.pk
    created = world.api(world.owner).post(f"/api/v1/workspaces/{ws}/invitations", {"role": "admin"}).json()
    rows = world.api(world.admin).get(f"/api/v1/workspaces/{ws}/invitations").json()
    assert [r["id"] for r in rows] == [created["id"]]
    assert "token" not in rows[0]
    for who, status in (("member", 403), ("guest", 403), ("outsider", 404)):
        assert world.api(getattr(world, who)).get(f"/api/v1/workspaces/{ws}/invitations").status_code == status
        assert (
            world.api(getattr(world, who)).delete(f"/api/v1/workspaces/{ws}/invitations/{created['id']}").status_code
            == status
        )
    # The outsider's own workspace does not contain this invitation either.
    other = world.other_workspace.pk
    assert (
        world.api(world.outsider).delete(f"/api/v1/workspaces/{other}/invitations/{created['id']}").status_code == 404
    )
    assert world.api(world.admin).delete(f"/api/v1/workspaces/{ws}/invitations/{created['id']}").status_code == 204
    assert world.api(world.admin).get(f"/api/v1/workspaces/{ws}/invitations").json()[0]["revoked"] is True
    response = world.api(world.outsider).post(f"/api/v1/invitations/{created['token']}/accept")
    assert response.status_code == 410
    assert _code(response) == "invitation_revoked"


def test_expired_and_unknown_invitations(world: World) -> None:
    owner_member = Member.objects.get(workspace=world.workspace, user=world.owner.user)
    issued = actions.do_create_invitation(owner_member, role="member")
    Invitation.objects.filter(pk=issued.invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = world.api(world.outsider).post(f"/api/v1/invitations/{issued.token}/accept")
    assert response.status_code == 410
    assert _code(response) == "invitation_expired"
    unknown = world.api(world.outsider).post("/api/v1/invitations/no-such-token/accept")
    assert unknown.status_code == 404
    assert _code(unknown) == "not_found"
    assert world.api(None).post(f"/api/v1/invitations/{issued.token}/accept").status_code == 401


def test_invitation_preview_needs_no_sign_in(world: World) -> None:
    body = (
        world.api(world.owner)
        .post(
            f"/api/v1/workspaces/{world.workspace.pk}/invitations", {"role": "guest", "partner_id": world.customer.pk}
        )
        .json()
    )
    preview = world.api(None).get(f"/api/v1/invitations/{body['token']}")
    assert preview.status_code == 200
    assert preview.json()["workspace_name"] == "杭州茶叶"
    assert preview.json()["partner_name"] == "西湖茶馆"
    assert world.api(None).get("/api/v1/invitations/nope").status_code == 404


# --- audit log -------------------------------------------------------------------------------


def test_audit_log_records_security_events_and_is_admin_only(world: World) -> None:
    from django.test import Client

    ws = world.workspace.pk
    owner = world.api(world.owner)
    # A sign-in through the allauth form.
    assert (
        Client().post("/accounts/login/", {"login": "member@tea.test", "password": "pw-Secret-123"}).status_code == 302
    )
    owner.patch(f"/api/v1/workspaces/{ws}/members/{world.member.user.pk}", {"role": "admin"})
    invitation = owner.post(f"/api/v1/workspaces/{ws}/invitations", {"role": "member"}).json()
    ApiClient(make_persona("joiner@tea.test")).post(f"/api/v1/invitations/{invitation['token']}/accept")
    second = owner.post(f"/api/v1/workspaces/{ws}/invitations", {"role": "member"}).json()
    owner.delete(f"/api/v1/workspaces/{ws}/invitations/{second['id']}")
    token = world.api(world.member).post("/api/v1/tokens", {"name": "phone"}).json()
    world.api(world.member).delete(f"/api/v1/tokens/{token['id']}")
    assert world.api(world.member2).get(f"/api/v1/workspaces/{ws}/audit").status_code == 403
    owner.post(f"/api/v1/workspaces/{ws}/members/{world.member2.user.pk}/deactivate")

    rows = world.api(world.admin).get(f"/api/v1/workspaces/{ws}/audit", limit=500).json()
    seen = {r["action"] for r in rows}
    expected = {
        "auth.login",
        "member.role",
        "invitation.create",
        "invitation.accept",
        "invitation.revoke",
        "token.issue",
        "token.revoke",
        "member.deactivate",
    }
    assert expected <= seen, expected - seen
    # Filtering by prefix.
    only_invites = world.api(world.admin).get(f"/api/v1/workspaces/{ws}/audit", action="invitation.").json()
    assert {r["action"] for r in only_invites} == {"invitation.create", "invitation.accept", "invitation.revoke"}
    # The other workspace's log shows none of it, and vice versa.
    other_rows = world.api(world.outsider).get(f"/api/v1/workspaces/{world.other_workspace.pk}/audit").json()
    assert not ({r["action"] for r in other_rows} & {"member.role", "invitation.accept"})
    assert all(r["actor_id"] != world.member.user.pk for r in other_rows)
    for who, status in (("member2", 404), ("guest", 403), ("outsider", 404)):  # member2 is deactivated now
        assert world.api(getattr(world, who)).get(f"/api/v1/workspaces/{ws}/audit").status_code == status, who
    assert world.api(None).get(f"/api/v1/workspaces/{ws}/audit").status_code == 401


# --- personal API tokens ---------------------------------------------------------------------


def test_tokens_issue_list_revoke(world: World) -> None:
    api = world.api(world.member)
    issued = api.post("/api/v1/tokens", {"name": "手机"})
    assert issued.status_code == 201
    key = issued.json()["token"]
    fresh = ApiClient(Persona(user=world.member.user, token=key))
    assert fresh.get("/api/v1/me").status_code == 200
    listed = api.get("/api/v1/tokens").json()
    assert {t["name"] for t in listed} == {"test", "手机"}
    assert all("token" not in t for t in listed)
    # Someone else's token id is not found, not forbidden.
    assert world.api(world.member2).delete(f"/api/v1/tokens/{issued.json()['id']}").status_code == 404
    assert api.delete(f"/api/v1/tokens/{issued.json()['id']}").status_code == 204
    assert fresh.get("/api/v1/me").status_code == 401
    assert api.delete("/api/v1/tokens/999999").status_code == 404
    assert api.post("/api/v1/tokens", {"name": "x" * 81}).status_code == 422
    assert world.api(None).get("/api/v1/tokens").status_code == 401
    assert world.api(None).post("/api/v1/tokens", {"name": "x"}).status_code == 401


# --- two-factor enforcement ------------------------------------------------------------------


def _enable_totp(user: User) -> None:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())


def test_admins_need_totp_when_the_workspace_requires_it(world: World) -> None:
    ws = world.workspace.pk
    # Only someone who has 2FA can require it (or they would lock themselves out).
    refused = world.api(world.owner).patch(f"/api/v1/workspaces/{ws}", {"require_2fa_for_admins": True})
    assert refused.status_code == 400
    assert _code(refused) == "mfa_setup_first"
    _enable_totp(world.owner.user)
    assert world.api(world.owner).patch(f"/api/v1/workspaces/{ws}", {"require_2fa_for_admins": True}).status_code == 200
    assert AuditEvent.objects.filter(action="workspace.settings").exists()
    response = world.api(world.admin).get(f"/api/v1/workspaces/{ws}/members")
    assert response.status_code == 403
    assert _code(response) == "mfa_required"
    # Members are not affected; /me still works for the admin (it is how apps learn what to do).
    assert world.api(world.member).get(f"/api/v1/workspaces/{ws}/members").status_code == 200
    assert world.api(world.admin).get("/api/v1/me").status_code == 200
    _enable_totp(world.admin.user)
    assert world.api(world.admin).get(f"/api/v1/workspaces/{ws}/members").status_code == 200
    # The other workspace does not require it, and the outsider is unaffected.
    assert world.api(world.outsider).get(f"/api/v1/workspaces/{world.other_workspace.pk}/members").status_code == 200


def _totp_code(secret: str) -> str:
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_html_pages_send_admins_to_totp_setup_until_done(world: World) -> None:
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
    from django.test import Client

    # The admin switches it on (having 2FA); the owner, without it, is sent to set it up.
    _enable_totp(world.admin.user)
    admin_member = Member.objects.get(user=world.admin.user, workspace=world.workspace)
    actions.do_update_workspace(admin_member, require_2fa_for_admins=True)
    # allauth lets only verified addresses add an authenticator.
    EmailAddress.objects.create(user=world.owner.user, email="owner@tea.test", verified=True, primary=True)
    browser = Client()
    response = browser.post("/accounts/login/", {"login": "owner@tea.test", "password": "pw-Secret-123"}, follow=True)
    # Sent to the TOTP set-up, which (allauth's rule) first asks for the password again.
    assert [url for url, _ in response.redirect_chain][-2:] == [
        "/accounts/2fa/totp/activate/",
        "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F",
    ]
    # Any other page keeps sending them back.
    assert browser.get("/")["Location"] == "/accounts/2fa/totp/activate/"
    response = browser.post(
        "/accounts/reauthenticate/?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F", {"password": "pw-Secret-123"}
    )
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert browser.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = browser.session[SECRET_SESSION_KEY]
    assert browser.post("/accounts/2fa/totp/activate/", {"code": "000000"}).status_code == 200  # wrong code
    response = browser.post("/accounts/2fa/totp/activate/", {"code": _totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=world.owner.user, type="totp").exists()
    assert browser.get("/").status_code == 200
    # Members are never redirected.
    member_browser = Client()
    member_browser.force_login(world.member.user)
    assert member_browser.get("/").status_code == 200


# --- isolation -------------------------------------------------------------------------------


def test_two_workspaces_side_by_side(world: World) -> None:
    """Everything of one workspace is invisible from the other, by id and by listing."""
    ws, other = world.workspace.pk, world.other_workspace.pk
    outsider = world.api(world.outsider)
    owner = world.api(world.owner)
    for path in ("", "/partners", "/members", "/invitations", "/audit"):
        assert outsider.get(f"/api/v1/workspaces/{ws}{path}").status_code == 404, path
        assert owner.get(f"/api/v1/workspaces/{other}{path}").status_code == 404, path
    # The same shapes of data exist on both sides, but listings stay within their tenant.
    outsider_member = Member.objects.get(user=world.outsider.user)
    actions.do_create_partner(outsider_member, "别家客户", "customer")
    assert {p["name"] for p in owner.get(f"/api/v1/workspaces/{ws}/partners").json()} == {"西湖茶馆", "龙井包装厂"}
    assert {p["name"] for p in outsider.get(f"/api/v1/workspaces/{other}/partners").json()} == {"别家客户"}
    assert {m["email"] for m in outsider.get(f"/api/v1/workspaces/{other}/members").json()} == {"outsider@other.test"}
    # Member ids of one workspace cannot be acted on through the other.
    assert (
        outsider.patch(f"/api/v1/workspaces/{other}/members/{world.member.user.pk}", {"role": "admin"}).status_code
        == 404
    )
    assert outsider.post(f"/api/v1/workspaces/{other}/members/{world.member.user.pk}/deactivate").status_code == 404
    assert Member.objects.get(user=world.member.user).role == "member"
