"""Fetch-or-raise with permission for hub objects. Every permission rule of ``hub`` lives here,
one condition per line (Zulip's ``access_*`` pattern)."""

from __future__ import annotations

from hub.errors import NotFound, PermissionDenied
from hub.models import Member, PartnerOrg, User, Workspace


def access_member(user: User, workspace_id: int) -> Member:
    """The caller's active membership, or 404 (not 403: never confirm a workspace exists).

    Owners and admins of a workspace that requires two-factor authentication get 403
    ``mfa_required`` until they have set up TOTP (the HTML pages redirect them to the set-up
    page instead, see ``hub.middleware.RequireMfaMiddleware``).
    """
    if not user.is_authenticated or not user.is_active:
        raise NotFound("workspace")
    member = (
        Member.objects.select_related("workspace", "partner", "user")
        .filter(workspace_id=workspace_id, user=user, is_active=True)
        .first()
    )
    if member is None:
        raise NotFound("workspace")
    if mfa_missing(member):
        raise PermissionDenied(
            "this workspace requires two-factor authentication for owners and admins: set up TOTP first",
            code="mfa_required",
        )
    return member


def has_totp(user: User) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def mfa_missing(member: Member) -> bool:
    """True when the workspace demands 2FA of this member's role and they have none yet."""
    if not member.is_admin:
        return False
    if not member.workspace.require_2fa_for_admins:
        return False
    return not has_totp(member.user)


def user_must_set_up_mfa(user: User) -> bool:
    """True when any workspace the person administers demands 2FA they do not have."""
    if not user.is_authenticated:
        return False
    demanding = Member.objects.filter(
        user=user,
        is_active=True,
        role__in=[Member.Role.OWNER, Member.Role.ADMIN],
        workspace__require_2fa_for_admins=True,
    )
    return demanding.exists() and not has_totp(user)


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


def access_member_of(actor: Member, user_id: int) -> Member:
    """Another person's membership (active or not) in the actor's workspace, or 404."""
    member = (
        Member.objects.select_related("user", "workspace")
        .filter(workspace_id=actor.workspace_id, user_id=user_id)
        .first()
    )
    if member is None:
        raise NotFound("member")
    return member


def access_account_for_deactivation(owner: Member, user_id: int) -> User:
    """A workspace owner may switch off a whole account only when the person belongs to no
    other workspace that owner does not own: one company must not lock someone out of another.
    """
    if owner.role != Member.Role.OWNER:
        raise PermissionDenied("only workspace owners can deactivate accounts")
    target = access_member_of(owner, user_id)
    if target.pk == owner.pk:
        raise PermissionDenied("you cannot deactivate your own account here")
    if target.role == Member.Role.OWNER:
        raise PermissionDenied("owners cannot be deactivated by another owner")
    owned = Member.objects.filter(user=owner.user, role=Member.Role.OWNER, is_active=True).values_list("workspace_id")
    elsewhere = Member.objects.filter(user_id=user_id, is_active=True).exclude(workspace_id__in=owned)
    if elsewhere.exists():
        raise PermissionDenied(
            "this person also belongs to other workspaces; deactivate their membership instead",
            code="user_in_other_workspaces",
        )
    return target.user


def shares_workspace(viewer: User, other_id: int) -> bool:
    """Whether ``viewer`` may see ``other``'s profile picture: themselves, or someone they meet
    in a workspace where the viewer is staff (guests do not browse the staff directory)."""
    if viewer.pk == other_id:
        return True
    staff_in = (
        Member.objects.filter(user=viewer, is_active=True).exclude(role=Member.Role.GUEST).values_list("workspace_id")
    )
    return Member.objects.filter(user_id=other_id, workspace_id__in=staff_in, is_active=True).exists()


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
    "access_account_for_deactivation",
    "access_member",
    "access_member_of",
    "access_partner",
    "access_staff",
    "access_workspace_admin",
    "can_manage_role",
    "mfa_missing",
    "shares_workspace",
    "user_must_set_up_mfa",
    "workspace_ids_of",
]
