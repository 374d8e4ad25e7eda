"""hub's own part of an archive: the workspace's settings, partner organisations, members with
their roles, and every person any row refers to (``hub/people.json``, by email).

On import, people are matched by email address (case-insensitive) to existing accounts; a
person without an account here gets one that is *inactive* with no password: the operator
activates them (Django admin), and they set a password with "forgot password".
"""

from __future__ import annotations

from typing import Any

from hub.models import Member, PartnerOrg, User
from hub.portability.archive import ArchiveError, ExportContext, ImportContext
from hub.portability.registry import register_contributor


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class HubContributor:
    name = "hub"
    order = 0

    def count(self, workspace_id: int) -> int:
        return (
            PartnerOrg.objects.filter(workspace_id=workspace_id).count()
            + Member.objects.filter(workspace_id=workspace_id).count()
        )

    def export(self, ctx: ExportContext) -> None:
        ws = ctx.workspace
        ctx.write_json(
            "hub/workspace.json",
            {
                "name": ws.name,
                "created_at": _iso(ws.created_at),
                "require_2fa_for_admins": ws.require_2fa_for_admins,
                "read_receipts_enabled": ws.read_receipts_enabled,
                "broadcast_mention_threshold": ws.broadcast_mention_threshold,
            },
        )
        partners = [
            {"id": p.pk, "name": p.name, "kind": p.kind, "created_at": _iso(p.created_at)}
            for p in PartnerOrg.objects.filter(workspace_id=ws.pk).order_by("pk")
        ]
        ctx.write_json("hub/partners.json", partners)
        ctx.advance(len(partners))
        members = []
        for m in Member.objects.filter(workspace_id=ws.pk).order_by("pk"):
            members.append(
                {
                    "user": ctx.person(m.user_id),
                    "role": m.role,
                    "partner": m.partner_id,
                    "title": m.title,
                    "is_active": m.is_active,
                    "joined_at": _iso(m.joined_at),
                    "deactivated_at": _iso(m.deactivated_at),
                }
            )
        ctx.write_json("hub/members.json", members)
        ctx.advance(len(members))

    def import_(self, ctx: ImportContext) -> None:
        self._people(ctx)
        for row in ctx.read_json("hub/partners.json", []):
            partner = PartnerOrg.objects.create(
                workspace=ctx.workspace, name=row["name"], kind=row["kind"], created_at=row["created_at"]
            )
            ctx.ids.set("partner", row["id"], partner.pk)
            ctx.advance()
        members = [
            Member(
                workspace=ctx.workspace,
                user_id=ctx.ids.require("user", row["user"]),
                role=row["role"],
                partner_id=ctx.ids.get("partner", row["partner"]),
                title=row.get("title", ""),
                is_active=row["is_active"],
                joined_at=row["joined_at"],
                deactivated_at=row.get("deactivated_at"),
            )
            for row in ctx.read_json("hub/members.json", [])
        ]
        if not any(m.role == Member.Role.OWNER and m.is_active for m in members):
            raise ArchiveError("archive_inconsistent", "the archive's workspace has no active owner")
        Member.objects.bulk_create(members)
        ctx.advance(len(members))

    def _people(self, ctx: ImportContext) -> None:
        people = ctx.read_json("hub/people.json", [])
        emails = [str(p["email"]).lower() for p in people]
        existing = {u.email.lower(): u for u in User.objects.filter(email__in=emails)}
        for person in people:
            email = str(person["email"]).lower()
            user = existing.get(email)
            if user is None:
                # Never active with someone else's password: the account waits for the operator.
                user = User.objects.create_user(
                    email=email,
                    password=None,
                    display_name=person.get("display_name", "")[:80],
                    time_zone=person.get("time_zone") or "Asia/Shanghai",
                    language=person.get("language") or "zh-hans",
                    is_bot=bool(person.get("is_bot")),
                    is_active=False,
                )
                existing[email] = user
            ctx.ids.set("user", int(person["id"]), user.pk)


def write_people(ctx: ExportContext) -> None:
    """Every person the other files refer to; written after all contributors have run."""
    rows = [
        {
            "id": u.pk,
            "email": u.email,
            "display_name": u.display_name,
            "time_zone": u.time_zone,
            "language": u.language,
            "is_bot": u.is_bot,
        }
        for u in User.objects.filter(pk__in=ctx.people).order_by("pk")
    ]
    ctx.write_json("hub/people.json", rows)


register_contributor(HubContributor())
