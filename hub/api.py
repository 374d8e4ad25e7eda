"""HTTP API of ``hub``: the caller, workspaces, partners, invitations, members, tokens, audit.
Each view authenticates (ninja), checks access, calls one action, serialises."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest
from ninja import File, Router, Status
from ninja.files import UploadedFile

from hub import actions, queries, ratelimit
from hub.access import (
    access_account_for_deactivation,
    access_member,
    access_member_of,
    access_partner,
    access_staff,
    access_workspace_admin,
    shares_workspace,
)
from hub.apicore import authed_user, client_ip
from hub.errors import NotFound
from hub.models import ApiToken, Invitation, User
from hub.schemas import (
    AcceptOut,
    AuditOut,
    InvitationIn,
    InvitationInfo,
    InvitationOut,
    InvitationPreview,
    IssuedTokenOut,
    MemberOut,
    MeOut,
    PartnerIn,
    PartnerOut,
    ProfileIn,
    RoleIn,
    TokenIn,
    TokenOut,
    WorkspaceIn,
    WorkspaceOut,
    WorkspaceSettingsIn,
    WorkspaceSettingsOut,
)

router = Router(tags=["hub"])


# --- the caller ------------------------------------------------------------------------------


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, object]:
    return queries.me_payload(authed_user(request))


@router.patch("/me", response=MeOut)
def update_me(request: HttpRequest, payload: ProfileIn) -> dict[str, object]:
    user = authed_user(request)
    actions.do_update_profile(user, **payload.dict(exclude_none=True))
    return queries.me_payload(user)


@router.post("/me/avatar", response=MeOut)
def upload_avatar(request: HttpRequest, file: File[UploadedFile]) -> dict[str, object]:
    user = authed_user(request)
    actions.check_set_avatar(user, file)
    return queries.me_payload(user)


@router.delete("/me/avatar", response=MeOut)
def delete_avatar(request: HttpRequest) -> dict[str, object]:
    user = authed_user(request)
    actions.do_clear_avatar(user)
    return queries.me_payload(user)


@router.get("/users/{user_id}/avatar", response={200: None})
def get_avatar(request: HttpRequest, user_id: int) -> FileResponse:
    viewer = authed_user(request)
    if not shares_workspace(viewer, user_id):
        raise NotFound("avatar")
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.avatar:
        raise NotFound("avatar")
    response = FileResponse(user.avatar.open("rb"), content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    return response


# --- workspaces ------------------------------------------------------------------------------


@router.post("/workspaces", response={201: WorkspaceOut})
def create_workspace(request: HttpRequest, payload: WorkspaceIn) -> Status[object]:
    return Status(201, actions.do_create_workspace(authed_user(request), payload.name))


@router.get("/workspaces/{ws}", response=WorkspaceSettingsOut)
def get_workspace(request: HttpRequest, ws: int) -> object:
    return access_member(authed_user(request), ws).workspace


@router.patch("/workspaces/{ws}", response=WorkspaceSettingsOut)
def update_workspace(request: HttpRequest, ws: int, payload: WorkspaceSettingsIn) -> object:
    admin = access_workspace_admin(authed_user(request), ws)
    return actions.do_update_workspace(admin, **payload.dict(exclude_none=True))


# --- partners --------------------------------------------------------------------------------


@router.get("/workspaces/{ws}/partners", response=list[PartnerOut])
def list_partners(request: HttpRequest, ws: int) -> object:
    return queries.partners_visible_to(access_member(authed_user(request), ws))


@router.post("/workspaces/{ws}/partners", response={201: PartnerOut})
def create_partner(request: HttpRequest, ws: int, payload: PartnerIn) -> Status[object]:
    admin = access_workspace_admin(authed_user(request), ws)
    return Status(201, actions.do_create_partner(admin, payload.name, payload.kind))


# --- members ---------------------------------------------------------------------------------


@router.get("/workspaces/{ws}/members", response=list[MemberOut])
def list_members(request: HttpRequest, ws: int) -> object:
    # Guests never see the staff directory.
    return queries.member_rows(access_staff(authed_user(request), ws))


@router.patch("/workspaces/{ws}/members/{user_id}", response=MemberOut)
def change_role(request: HttpRequest, ws: int, user_id: int, payload: RoleIn) -> object:
    admin = access_workspace_admin(authed_user(request), ws)
    member = access_member_of(admin, user_id)
    return queries.member_row(actions.do_change_role(admin, member, payload.role))


@router.post("/workspaces/{ws}/members/{user_id}/deactivate", response=MemberOut)
def deactivate_member(request: HttpRequest, ws: int, user_id: int) -> object:
    admin = access_workspace_admin(authed_user(request), ws)
    member = access_member_of(admin, user_id)
    return queries.member_row(actions.do_deactivate_member(admin, member))


@router.post("/workspaces/{ws}/members/{user_id}/deactivate-account", response=MemberOut)
def deactivate_account(request: HttpRequest, ws: int, user_id: int) -> object:
    """Switch the person's whole account off (all sessions and tokens), not just this membership."""
    owner = access_workspace_admin(authed_user(request), ws)
    user = access_account_for_deactivation(owner, user_id)
    actions.do_deactivate_user(owner.user, user, workspace=owner.workspace)
    return queries.member_row(access_member_of(owner, user_id))


# --- invitations -----------------------------------------------------------------------------


@router.post("/workspaces/{ws}/invitations", response={201: InvitationOut})
def create_invitation(request: HttpRequest, ws: int, payload: InvitationIn) -> Status[dict[str, object]]:
    admin = access_workspace_admin(authed_user(request), ws)
    partner = access_partner(admin, payload.partner_id) if payload.partner_id is not None else None
    expires_at = Invitation.default_expiry(payload.expires_in_days) if payload.expires_in_days else None
    issued = actions.do_create_invitation(
        admin,
        role=payload.role,
        partner=partner,
        email=payload.email or "",
        max_uses=payload.max_uses,
        expires_at=expires_at,
    )
    return Status(201, queries.issued_invitation_row(issued))


@router.get("/workspaces/{ws}/invitations", response=list[InvitationInfo])
def list_invitations(request: HttpRequest, ws: int) -> object:
    admin = access_workspace_admin(authed_user(request), ws)
    return queries.invitation_rows(admin.workspace_id)


@router.delete("/workspaces/{ws}/invitations/{invitation_id}", response={204: None})
def revoke_invitation(request: HttpRequest, ws: int, invitation_id: int) -> Status[None]:
    admin = access_workspace_admin(authed_user(request), ws)
    invitation = Invitation.objects.filter(pk=invitation_id, workspace_id=admin.workspace_id).first()
    if invitation is None:
        raise NotFound("invitation")
    actions.do_revoke_invitation(admin, invitation)
    return Status(204, None)


@router.get("/invitations/{token}", response=InvitationPreview, auth=None)
def preview_invitation(request: HttpRequest, token: str) -> dict[str, object]:
    """What an invitation offers, for the sign-up screen of an app; no sign-in needed (the token
    is the secret). Unusable tokens answer 404/410 with a stable code."""
    ratelimit.check_invitation_rate(client_ip(request))
    invitation = actions.get_invitation(token)
    actions.check_invitation_usable(invitation, None)
    return queries.invitation_preview(invitation)


@router.post("/invitations/{token}/accept", response=AcceptOut)
def accept_invitation(request: HttpRequest, token: str) -> dict[str, object]:
    ratelimit.check_invitation_rate(client_ip(request))
    member = actions.do_accept_invitation(authed_user(request), token, ip=client_ip(request))
    return {"workspace_id": member.workspace_id, "role": member.role, "partner_id": member.partner_id}


# --- audit log -------------------------------------------------------------------------------


@router.get("/workspaces/{ws}/audit", response=list[AuditOut])
def list_audit(request: HttpRequest, ws: int, action: str | None = None, limit: int = 100) -> object:
    admin = access_workspace_admin(authed_user(request), ws)
    return queries.audit_rows(admin.workspace_id, action=action, limit=limit)


# --- personal API tokens ---------------------------------------------------------------------


@router.get("/tokens", response=list[TokenOut])
def list_tokens(request: HttpRequest) -> object:
    return queries.token_rows(authed_user(request))


@router.post("/tokens", response={201: IssuedTokenOut})
def issue_token(request: HttpRequest, payload: TokenIn) -> Status[dict[str, object]]:
    user = authed_user(request)
    ratelimit.check_token_issue_rate(user.pk)
    token, key = actions.do_issue_api_token(user, payload.name)
    return Status(201, {**queries.token_row(token), "token": key})


@router.delete("/tokens/{token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int) -> Status[None]:
    user = authed_user(request)
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFound("token")
    actions.do_revoke_api_token(user, token)
    return Status(204, None)
