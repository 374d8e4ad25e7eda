"""Bot identities: who posts a slash command's in-channel reply, an ERP alert, a webhook's
message. A bot is a ``User`` with ``is_bot`` (no password, cannot sign in) and a ``Member``
of exactly one workspace, so everything that shows a sender, searches ``from:`` or checks
membership works for bots unchanged. Built-in bots are created on first use.

Apps get bots too: a workspace admin creates one (``do_create_bot``) and receives its API token
once. A bot reads and writes only the conversations it has been added to, through the same HTTP
API and ``/ws/`` socket as people; that scope is one rule in ``messaging.access`` (``is_bot``)
which both entry points ask."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from hub.errors import HubError
from hub.models import ApiToken, Member, User, Workspace

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


# --- bots created by admins for apps ---------------------------------------------------------


@dataclass(frozen=True)
class IssuedBot:
    member: Member
    token: str  # shown once; only its hash is stored


def app_bots(workspace_id: int) -> list[Member]:
    """Admin-created bots of the workspace (built-in and webhook identities are not listed)."""
    return list(
        Member.objects.select_related("user")
        .filter(workspace_id=workspace_id, user__is_bot=True, user__email__startswith="app-")
        .order_by("id")
    )


@transaction.atomic
def do_create_bot(admin: Member, name: str) -> IssuedBot:
    """A bot identity for an app, with its first token. Caller checked that ``admin`` is one."""
    from hub.actions import audit  # hub.actions imports models only; keeps this module light

    name = name.strip()
    if not name:
        raise HubError("invalid_name", "a bot needs a name")
    slug = f"app-{secrets.token_hex(6)}"
    user = User.objects.create_user(
        email=bot_email(admin.workspace_id, slug), password=None, display_name=name[:80], is_bot=True
    )
    member = Member.objects.create(workspace_id=admin.workspace_id, user=user, role=Member.Role.MEMBER)
    audit("bot.create", actor=admin.user, workspace=admin.workspace_id, target=member, name=user.display_name)
    return IssuedBot(member=member, token=_issue_token(admin, member))


@transaction.atomic
def do_rotate_bot_token(admin: Member, bot: Member) -> IssuedBot:
    """Revoke every token of the bot and issue a new one (a leaked token, a new deployment)."""
    from hub.actions import audit

    _revoke_tokens(bot)
    token = _issue_token(admin, bot)
    audit("bot.token_rotate", actor=admin.user, workspace=admin.workspace_id, target=bot)
    return IssuedBot(member=bot, token=token)


@transaction.atomic
def do_deactivate_bot(admin: Member, bot: Member) -> None:
    """The bot stops at once: its tokens are revoked and its membership ends (open sockets are
    closed by the ``access_revoked`` receivers)."""
    from hub.actions import audit
    from hub.signals import access_revoked

    _revoke_tokens(bot)
    Member.objects.filter(pk=bot.pk).update(is_active=False, deactivated_at=timezone.now())
    audit("bot.deactivate", actor=admin.user, workspace=admin.workspace_id, target=bot)
    user_id, workspace_id = bot.user_id, bot.workspace_id
    transaction.on_commit(lambda: access_revoked.send(sender=Member, user_id=user_id, workspace_id=workspace_id))


def _issue_token(admin: Member, bot: Member) -> str:
    key = ApiToken.new_key()
    ApiToken.objects.create(user=bot.user, name=f"bot:{bot.user.display_name}"[:80], key_hash=ApiToken.hash_key(key))
    return key


def _revoke_tokens(bot: Member) -> None:
    ApiToken.objects.filter(user=bot.user, revoked_at__isnull=True).update(revoked_at=timezone.now())
