"""Bot identities: who posts a slash command's in-channel reply, an ERP alert, a webhook's
message. A bot is a ``User`` with ``is_bot`` (no password, cannot sign in) and a ``Member``
of exactly one workspace, so everything that shows a sender, searches ``from:`` or checks
membership works for bots unchanged. Built-in bots are created on first use."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from hub.models import Member, User, Workspace

BOT_EMAIL_DOMAIN = "bots.invalid"  # RFC 2606: can never be a real address


@dataclass(frozen=True)
class BotSpec:
    slug: str
    display_name: str


ASSISTANT = BotSpec("assistant", "小微助手")


def bot_email(workspace_id: int, slug: str) -> str:
    return f"{slug}.{workspace_id}@{BOT_EMAIL_DOMAIN}"


def ensure_bot(workspace: Workspace, spec: BotSpec) -> Member:
    """The workspace's bot of that kind, created the first time it is needed (race-safe)."""
    email = bot_email(workspace.pk, spec.slug)
    member = Member.objects.select_related("user", "workspace").filter(workspace=workspace, user__email=email).first()
    if member is not None:
        return member
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=None, display_name=spec.display_name, is_bot=True)
            return Member.objects.create(workspace=workspace, user=user, role=Member.Role.MEMBER)
    except IntegrityError:
        return Member.objects.select_related("user", "workspace").get(workspace=workspace, user__email=email)
