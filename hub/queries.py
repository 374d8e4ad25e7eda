"""Reads of ``hub`` shaped for the API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from hub.models import ApiToken, AuditEvent, Invitation, Member, PartnerOrg, User

if TYPE_CHECKING:
    from hub.actions import IssuedInvitation

AUDIT_MAX = 500


def me_payload(user: User) -> dict[str, object]:
    memberships = Member.objects.filter(user=user, is_active=True).select_related("workspace").order_by("workspace_id")
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.name,
        "time_zone": user.time_zone,
        "language": user.language,
        "mobile": user.mobile,
        "avatar_url": avatar_url(user),
        "workspaces": [{"id": m.workspace_id, "name": m.workspace.name, "role": m.role} for m in memberships],
    }


def is_active_member(user: User, workspace_id: int) -> bool:
    return Member.objects.filter(user=user, workspace_id=workspace_id, is_active=True).exists()


def avatar_url(user: User) -> str | None:
    # The name changes with every upload, so the URL doubles as a cache buster.
    if not user.avatar:
        return None
    return f"/api/v1/users/{user.pk}/avatar?v={user.avatar.name.rsplit('/', 1)[-1]}"


def partners_visible_to(member: Member) -> QuerySet[PartnerOrg]:
    partners = PartnerOrg.objects.filter(workspace_id=member.workspace_id).order_by("name")
    if member.is_guest:
        return partners.filter(pk=member.partner_id or 0)
    return partners


def member_row(member: Member) -> dict[str, object]:
    return {
        "user_id": member.user_id,
        "email": member.user.email,
        "display_name": member.user.name,
        "role": member.role,
        "partner_id": member.partner_id,
        "title": member.title,
        # A switched-off account counts as inactive everywhere, whatever its memberships say.
        "is_active": member.is_active and member.user.is_active,
        "avatar_url": avatar_url(member.user),
    }


def member_rows(viewer: Member) -> list[dict[str, object]]:
    members = (
        Member.objects.filter(workspace_id=viewer.workspace_id).select_related("user").order_by("user__display_name")
    )
    return [member_row(m) for m in members]


def invitation_rows(workspace_id: int) -> list[dict[str, object]]:
    return [
        {
            "id": inv.pk,
            "role": inv.role,
            "email": inv.email,
            "partner_id": inv.partner_id,
            "expires_at": inv.expires_at,
            "max_uses": inv.max_uses,
            "use_count": inv.use_count,
            "revoked": inv.revoked_at is not None,
        }
        for inv in Invitation.objects.filter(workspace_id=workspace_id).order_by("-created_at")
    ]


def token_row(token: ApiToken) -> dict[str, object]:
    return {
        "id": token.pk,
        "name": token.name,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked": token.revoked_at is not None,
    }


def token_rows(user: User) -> list[dict[str, object]]:
    return [token_row(t) for t in ApiToken.objects.filter(user=user).order_by("-created_at")]


def issued_invitation_row(issued: IssuedInvitation) -> dict[str, object]:
    invitation = issued.invitation
    return {
        "id": invitation.pk,
        "token": issued.token,
        "url": issued.url,
        "expires_at": invitation.expires_at,
        "role": invitation.role,
        "partner_id": invitation.partner_id,
        "email": invitation.email,
        "max_uses": invitation.max_uses,
    }


def invitation_preview(invitation: Invitation) -> dict[str, object]:
    return {
        "workspace_name": invitation.workspace.name,
        "role": invitation.role,
        "partner_name": invitation.partner.name if invitation.partner else None,
        "email": invitation.email,
        "expires_at": invitation.expires_at,
    }


def audit_rows(workspace_id: int, *, action: str | None = None, limit: int = 100) -> QuerySet[AuditEvent]:
    """The workspace's own events plus account-level ones (sign-ins, personal tokens, account
    deactivation) of people who are or were its members: those matter to its security too.
    Failed sign-ins name no account holder and stay out (they would leak who tried what)."""
    people = Member.objects.filter(workspace_id=workspace_id).values_list("user_id", flat=True)
    account_level = Q(workspace__isnull=True) & (
        Q(actor_id__in=people) | Q(target_type="user", target_id__in=[str(pk) for pk in people])
    )
    rows = AuditEvent.objects.filter(Q(workspace_id=workspace_id) | account_level)
    if action:
        rows = rows.filter(action__startswith=action)
    return rows.order_by("-created_at", "-id")[: max(1, min(limit, AUDIT_MAX))]
