"""HTTP API of ``hub``: the caller, workspaces, partners, invitations, members, tokens, audit.
Each view authenticates (ninja), checks access, calls one action, serialises."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router

from hub import actions, queries
from hub.access import access_member, access_partner, access_staff, access_workspace_admin
from hub.apicore import authed_user, client_ip
from hub.errors import NotFound
from hub.models import ApiToken, AuditEvent, Invitation, Member
from hub.schemas import (
    AcceptOut,
    AuditOut,
    InvitationIn,
    InvitationInfo,
    InvitationOut,
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


@router.get("/me", response=MeOut)
def me(request: HttpRequest) -> dict[str, object]:
    return queries.me_payload(authed_user(request))


@router.patch("/me", response=MeOut)
def update_me(request: HttpRequest, payload: ProfileIn) -> dict[str, object]:
    user = authed_user(request)
    actions.do_update_profile(user, **payload.dict(exclude_none=True))
    return queries.me_payload(user)


@router.post("/workspaces", response={201: WorkspaceOut})
def create_workspace(request: HttpRequest, payload: WorkspaceIn) -> tuple[int, object]:
    return 201, actions.do_create_workspace(authed_user(request), payload.name)


@router.get("/workspaces/{ws}", response=WorkspaceSettingsOut)
def get_workspace(request: HttpRequest, ws: int) -> object:
    return access_member(authed_user(request), ws).workspace


@router.patch("/workspaces/{ws}", response=WorkspaceSettingsOut)
def update_workspace(request: HttpRequest, ws: int, payload: WorkspaceSettingsIn) -> object:
    admin = access_workspace_admin(authed_user(request), ws)
    return actions.do_update_workspace(admin, **payload.dict(exclude_none=True))


@router.get("/workspaces/{ws}/partners", response=list[PartnerOut])
def list_partners(request: HttpRequest, ws: int) -> object:
    return queries.partners_visible_to(access_member(authed_user(request), ws))


@router.post("/workspaces/{ws}/partners", response={201: PartnerOut})
def create_partner(request: HttpRequest, ws: int, payload: PartnerIn) -> tuple[int, object]:
    admin = access_workspace_admin(authed_user(request), ws)
    return 201, actions.do_create_partner(admin, payload.name, payload.kind)


@router.get("/workspaces/{ws}/members", response=list[MemberOut])
def list_members(request: HttpRequest, ws: int) -> object:
    # Guests never see the staff directory.
    return queries.member_rows(access_staff(authed_user(request), ws))


@router.patch("/workspaces/{ws}/members/{user_id}", response=MemberOut)
def change_role(request: HttpRequest, ws: int, user_id: int, payload: RoleIn) -> object:
    admin = access_workspace_admin(authed_user(request), ws)
    member = get_object_or_404(Member, workspace_id=ws, user_id=user_id)
    return queries.member_row(actions.do_change_role(admin, member, payload.role))


@router.post("/workspaces/{ws}/members/{user_id}/deactivate", response=MemberOut)
def deactivate_member(request: HttpRequest, ws: int, user_id: int) -> object:
    admin = access_workspace_admin(authed_user(request), ws)
    member = get_object_or_404(Member, workspace_id=ws, user_id=user_id)
    return queries.member_row(actions.do_deactivate_member(admin, member))


@router.post("/workspaces/{ws}/invitations", response={201: InvitationOut})
def create_invitation(request: HttpRequest, ws: int, payload: InvitationIn) -> tuple[int, dict[str, object]]:
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
    return 201, {
        "id": issued.invitation.pk,
        "token": issued.token,
        "url": issued.url,
        "expires_at": issued.invitation.expires_at,
    }


@router.get("/workspaces/{ws}/invitations", response=list[InvitationInfo])
def list_invitations(request: HttpRequest, ws: int) -> object:
    admin = access_workspace_admin(authed_user(request), ws)
    return queries.invitation_rows(admin.workspace_id)


@router.delete("/workspaces/{ws}/invitations/{invitation_id}", response={204: None})
def revoke_invitation(request: HttpRequest, ws: int, invitation_id: int) -> tuple[int, None]:
    admin = access_workspace_admin(authed_user(request), ws)
    invitation = get_object_or_404(Invitation, pk=invitation_id, workspace_id=ws)
    actions.do_revoke_invitation(admin, invitation)
    return 204, None


@router.post("/invitations/{token}/accept", response=AcceptOut)
def accept_invitation(request: HttpRequest, token: str) -> dict[str, object]:
    member = actions.do_accept_invitation(authed_user(request), token, ip=client_ip(request))
    return {"workspace_id": member.workspace_id, "role": member.role}


@router.get("/workspaces/{ws}/audit", response=list[AuditOut])
def list_audit(request: HttpRequest, ws: int, action: str | None = None, limit: int = 100) -> object:
    admin = access_workspace_admin(authed_user(request), ws)
    rows = AuditEvent.objects.filter(workspace_id=admin.workspace_id)
    if action:
        rows = rows.filter(action__startswith=action)
    return rows[: max(1, min(limit, 500))]


@router.get("/tokens", response=list[TokenOut])
def list_tokens(request: HttpRequest) -> object:
    return queries.token_rows(authed_user(request))


@router.post("/tokens", response={201: IssuedTokenOut})
def issue_token(request: HttpRequest, payload: TokenIn) -> tuple[int, dict[str, object]]:
    token, key = actions.do_issue_api_token(authed_user(request), payload.name)
    return 201, {**queries.token_row(token), "token": key}


@router.delete("/tokens/{token_id}", response={204: None})
def revoke_token(request: HttpRequest, token_id: int) -> tuple[int, None]:
    user = authed_user(request)
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFound("token")
    with transaction.atomic():
        actions.do_revoke_api_token(user, token)
    return 204, None
