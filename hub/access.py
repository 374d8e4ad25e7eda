"""Fetch-or-raise with permission for hub objects. Every permission rule of ``hub`` lives here,
one condition per line (Zulip's ``access_*`` pattern)."""

from __future__ import annotations

from hub.errors import NotFound, PermissionDenied
from hub.models import Member, PartnerOrg, User, Workspace


def access_member(user: User, workspace_id: int) -> Member:
    """The caller's active membership, or 404 (not 403: never confirm a workspace exists)."""
    if not user.is_authenticated or not user.is_active:
        raise NotFound("workspace")
    member = (
        Member.objects.select_related("workspace", "partner")
        .filter(workspace_id=workspace_id, user=user, is_active=True)
        .first()
    )
    if member is None:
        raise NotFound("workspace")
    return member


def access_workspace_admin(user: User, workspace_id: int) -> Member:
    member = access_member(user, workspace_id)
    if not member.is_admin:
        raise PermissionDenied("only workspace owners and admins can do this")
    return member


def access_staff(user: User, workspace_id: int) -> Member:
    """Staff = anyone but guests (guests may not see the directory or create channels)."""
    member = access_member(user, workspace_id)
    if member.is_guest:
        raise PermissionDenied("guests cannot do this")
    return member


def access_partner(member: Member, partner_id: int) -> PartnerOrg:
    partner = PartnerOrg.objects.filter(pk=partner_id, workspace_id=member.workspace_id).first()
    if partner is None:
        raise NotFound("partner")
    if member.is_guest and member.partner_id != partner.pk:
        raise NotFound("partner")
    return partner


def can_manage_role(actor: Member, role: str) -> bool:
    """Owners grant any role; admins grant all but owner; others grant nothing."""
    if actor.role == Member.Role.OWNER:
        return True
    if actor.role == Member.Role.ADMIN:
        return role != Member.Role.OWNER
    return False


def workspace_ids_of(user: User) -> list[int]:
    return list(Member.objects.filter(user=user, is_active=True).values_list("workspace_id", flat=True))


__all__ = [
    "Workspace",
    "access_member",
    "access_partner",
    "access_staff",
    "access_workspace_admin",
    "can_manage_role",
    "workspace_ids_of",
]
