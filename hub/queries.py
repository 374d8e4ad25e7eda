"""Reads of ``hub`` shaped for the API."""

from __future__ import annotations

from django.db.models import QuerySet

from hub.models import ApiToken, Invitation, Member, PartnerOrg, User


def me_payload(user: User) -> dict[str, object]:
    memberships = Member.objects.filter(user=user, is_active=True).select_related("workspace").order_by("workspace_id")
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.name,
        "time_zone": user.time_zone,
        "language": user.language,
        "workspaces": [{"id": m.workspace_id, "name": m.workspace.name, "role": m.role} for m in memberships],
    }


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
        "is_active": member.is_active,
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
