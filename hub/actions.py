"""Every write of ``hub``. ``do_*`` functions change rows inside a transaction and record an
audit event; callers have already checked permission through ``hub.access``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from hub.access import can_manage_role, has_totp
from hub.errors import HubError, NotFound, PermissionDenied
from hub.models import ApiToken, AuditEvent, Invitation, Member, PartnerOrg, User, Workspace
from hub.policy.quotas import check_member_quota
from hub.signals import access_revoked


def audit(
    action: str,
    *,
    actor: User | None = None,
    workspace: Workspace | int | None = None,
    target: Any = None,
    ip: str | None = None,
    **data: Any,
) -> AuditEvent:
    workspace_id = workspace.pk if isinstance(workspace, Workspace) else workspace
    return AuditEvent.objects.create(
        workspace_id=workspace_id,
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data,
        ip=ip,
    )


def check_not_bot(user: User) -> None:
    """A bot lives in the one workspace that created it: with its token it must not found
    another workspace or join one (it would escape the scope an admin gave it)."""
    if user.is_bot:
        raise PermissionDenied("bots cannot create or join workspaces", code="bot_not_allowed")


@transaction.atomic
def do_create_workspace(owner: User, name: str) -> Workspace:
    check_not_bot(owner)
    name = name.strip()
    if not name:
        raise HubError("invalid_name", "a workspace needs a name")
    workspace = Workspace.objects.create(name=name[:120])
    Member.objects.create(workspace=workspace, user=owner, role=Member.Role.OWNER)
    audit("workspace.create", actor=owner, workspace=workspace, target=workspace)
    return workspace


@transaction.atomic
def do_create_partner(actor: Member, name: str, kind: str) -> PartnerOrg:
    name = name.strip()
    if not name:
        raise HubError("invalid_name", "a partner organisation needs a name")
    if PartnerOrg.objects.filter(workspace_id=actor.workspace_id, name=name).exists():
        raise HubError("duplicate", "a partner organisation with this name already exists", status=409)
    partner = PartnerOrg.objects.create(workspace_id=actor.workspace_id, name=name[:120], kind=kind)
    audit("partner.create", actor=actor.user, workspace=actor.workspace_id, target=partner, kind=kind)
    return partner


@transaction.atomic
def do_create_user(email: str, password: str | None, display_name: str = "", *, email_verified: bool = False) -> User:
    """Accounts normally come from allauth sign-up; this is for operators, importers and the demo.

    ``email_verified`` records the address as verified for allauth, so that the person can sign
    in at once even when ``HUB_EMAIL_VERIFICATION=mandatory``.
    """
    from allauth.account.models import EmailAddress

    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise HubError("duplicate", "a user with this email address already exists", status=409)
    user = User.objects.create_user(email=email, password=password, display_name=display_name.strip()[:80])
    if email_verified:
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    audit("user.create", target=user)
    return user


@transaction.atomic
def do_add_member(
    actor: Member | None,
    workspace: Workspace,
    user: User,
    role: str,
    *,
    partner: PartnerOrg | None = None,
    title: str = "",
) -> Member:
    """Adds someone directly (operators, the demo loader); people normally join by invitation.

    ``actor`` None means the operator (management command); otherwise role rules apply.
    """
    if actor is not None and not can_manage_role(actor, role):
        raise PermissionDenied("you cannot add people with this role")
    if (role == Member.Role.GUEST) != (partner is not None):
        raise HubError("partner_required", "guests, and only guests, belong to a partner organisation")
    if partner is not None and partner.workspace_id != workspace.pk:
        raise NotFound("partner")
    if not Member.objects.filter(workspace=workspace, user=user).exists():
        check_member_quota(workspace.pk)
    member, created = Member.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": role, "partner": partner, "title": title[:80]}
    )
    if not created:
        raise HubError("duplicate", "this person is already a member of the workspace", status=409)
    audit("member.add", actor=actor.user if actor else None, workspace=workspace, target=member, role=role)
    return member


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once; only its hash is stored

    @property
    def url(self) -> str:
        return f"{settings.SITE_URL}/invite/{self.token}/"


@transaction.atomic
def do_create_invitation(
    actor: Member,
    *,
    role: str,
    partner: PartnerOrg | None = None,
    email: str = "",
    max_uses: int = 1,
    expires_at: datetime | None = None,
) -> IssuedInvitation:
    if not can_manage_role(actor, role):
        raise PermissionDenied("you cannot invite people with this role")
    if role == Member.Role.GUEST and partner is None:
        raise HubError("partner_required", "guest invitations need a partner_id")
    if role != Member.Role.GUEST and partner is not None:
        raise HubError("partner_not_allowed", "only guest invitations belong to a partner")
    if not 1 <= max_uses <= 1000:
        raise HubError("invalid_max_uses", "max_uses must be between 1 and 1000")
    email = email.strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise HubError("invalid_email", f"{email!r} is not an email address") from None
    if expires_at is not None and expires_at <= timezone.now():
        raise HubError("invalid_expiry", "expires_at must be in the future")
    token = Invitation.new_token()
    invitation = Invitation.objects.create(
        workspace_id=actor.workspace_id,
        token_hash=Invitation.hash_token(token),
        role=role,
        partner=partner,
        email=email,
        created_by=actor.user,
        expires_at=expires_at or Invitation.default_expiry(settings.HUB_INVITATION_DAYS),
        max_uses=max_uses,
    )
    audit("invitation.create", actor=actor.user, workspace=actor.workspace_id, target=invitation, role=role)
    issued = IssuedInvitation(invitation=invitation, token=token)
    if invitation.email:
        # Enqueued after commit: the worker must find the row, and a rolled-back invitation
        # must not be mailed.
        from hub.tasks import send_invitation_email

        transaction.on_commit(lambda: send_invitation_email.enqueue(invitation.pk, issued.url))
    return issued


def get_invitation(token: str) -> Invitation:
    invitation = (
        Invitation.objects.select_related("workspace", "partner")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
    if invitation is None:
        raise NotFound("invitation")
    return invitation


def check_invitation_usable(invitation: Invitation, user: User | None) -> None:
    """Raise a clear error for revoked, expired, used-up or wrong-recipient invitations."""
    if user is not None:
        check_not_bot(user)
    if invitation.revoked_at is not None:
        raise HubError("invitation_revoked", "this invitation has been revoked", status=410)
    if invitation.expires_at <= timezone.now():
        raise HubError("invitation_expired", "this invitation has expired", status=410)
    if invitation.use_count >= invitation.max_uses:
        raise HubError("invitation_used", "this invitation has already been used", status=410)
    if user is not None and invitation.email and invitation.email != user.email.lower():
        raise PermissionDenied("this invitation was sent to another email address", code="invitation_wrong_email")


@transaction.atomic
def do_accept_invitation(user: User, token: str, ip: str | None = None) -> Member:
    # Lock the invitation row so two people racing for the last use cannot both get in.
    invitation = get_invitation(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    existing = Member.objects.filter(workspace_id=invitation.workspace_id, user=user).first()
    if existing is not None and existing.is_active:
        # Accepting twice is harmless: it does not consume a use or change the role.
        return existing
    check_invitation_usable(invitation, user)
    check_member_quota(invitation.workspace_id)
    if existing is not None:
        existing.is_active = True
        existing.deactivated_at = None
        existing.role = invitation.role
        existing.partner = invitation.partner
        existing.save(update_fields=["is_active", "deactivated_at", "role", "partner"])
        member = existing
    else:
        member = Member.objects.create(
            workspace_id=invitation.workspace_id, user=user, role=invitation.role, partner=invitation.partner
        )
    invitation.use_count += 1
    invitation.save(update_fields=["use_count"])
    audit(
        "invitation.accept", actor=user, workspace=invitation.workspace_id, target=invitation, ip=ip, role=member.role
    )
    return member


@transaction.atomic
def do_revoke_invitation(actor: Member | None, invitation: Invitation, *, operator: User | None = None) -> None:
    """``actor`` None is a site operator (Django admin), named by ``operator`` in the audit log."""
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit(
        "invitation.revoke",
        actor=actor.user if actor is not None else operator,
        workspace=invitation.workspace_id,
        target=invitation,
    )


@transaction.atomic
def do_issue_api_token(user: User, name: str = "personal") -> tuple[ApiToken, str]:
    key = ApiToken.new_key()
    token = ApiToken.objects.create(user=user, name=name[:80] or "personal", key_hash=ApiToken.hash_key(key))
    audit("token.issue", actor=user, target=token, name=token.name)
    return token, key


@transaction.atomic
def do_revoke_api_token(user: User, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit("token.revoke", actor=user, target=token)
        transaction.on_commit(lambda: access_revoked.send(sender=ApiToken, user_id=token.user_id, workspace_id=None))


@transaction.atomic
def do_change_role(actor: Member, member: Member, role: str) -> Member:
    if member.pk == actor.pk:
        raise PermissionDenied("you cannot change your own role")
    if not can_manage_role(actor, role) or not can_manage_role(actor, member.role):
        raise PermissionDenied("you cannot give or take this role")
    if role == Member.Role.GUEST or member.is_guest:
        raise HubError("invalid_role", "guests are invited through a partner organisation; they cannot be converted")
    old = member.role
    member.role = role
    member.save(update_fields=["role"])
    audit("member.role", actor=actor.user, workspace=actor.workspace_id, target=member, old=old, new=role)
    transaction.on_commit(
        lambda: access_revoked.send(sender=Member, user_id=member.user_id, workspace_id=member.workspace_id)
    )
    return member


@transaction.atomic
def do_deactivate_member(actor: Member | None, member: Member, *, operator: User | None = None) -> Member:
    """Removes a person from one workspace at once: open sockets are closed on commit.

    ``actor`` None is a site operator (Django admin), named by ``operator`` in the audit log;
    the role rules below apply to workspace admins only.
    """
    if actor is not None:
        if member.pk == actor.pk:
            raise PermissionDenied("you cannot deactivate yourself")
        if not can_manage_role(actor, member.role):
            raise PermissionDenied("you cannot deactivate this member")
    member.is_active = False
    member.deactivated_at = timezone.now()
    member.save(update_fields=["is_active", "deactivated_at"])
    audit(
        "member.deactivate",
        actor=actor.user if actor is not None else operator,
        workspace=member.workspace_id,
        target=member,
        by_operator=actor is None,
    )
    transaction.on_commit(
        lambda: access_revoked.send(sender=Member, user_id=member.user_id, workspace_id=member.workspace_id)
    )
    return member


@transaction.atomic
def do_deactivate_user(actor: User | None, user: User, workspace: Workspace | None = None) -> None:
    """Logs a person out everywhere: account off, every session deleted, every token revoked.

    allauth's headless app session tokens are Django sessions too, so they die with the rest.
    ``workspace`` only files the audit entry where that workspace's admins will see it.
    """
    user.is_active = False
    user.save(update_fields=["is_active"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    # Sessions are signed blobs keyed by id; the user id lives inside, so scan and match.
    user_key = str(user.pk)
    live = Session.objects.filter(expire_date__gt=timezone.now())
    doomed = [s.session_key for s in live.iterator() if s.get_decoded().get("_auth_user_id") == user_key]
    Session.objects.filter(session_key__in=doomed).delete()
    audit("user.deactivate", actor=actor, workspace=workspace, target=user, sessions=len(doomed))
    transaction.on_commit(lambda: access_revoked.send(sender=User, user_id=user.pk, workspace_id=None))


@transaction.atomic
def do_update_profile(
    user: User,
    *,
    display_name: str | None = None,
    time_zone: str | None = None,
    language: str | None = None,
    mobile: str | None = None,
) -> User:
    import zoneinfo

    fields: list[str] = []
    if display_name is not None:
        user.display_name = display_name.strip()[:80]
        fields.append("display_name")
    if time_zone is not None:
        if time_zone not in zoneinfo.available_timezones():
            raise HubError("invalid_time_zone", f"unknown time zone {time_zone!r}")
        user.time_zone = time_zone
        fields.append("time_zone")
    if language is not None:
        user.language = language
        fields.append("language")
    if mobile is not None:
        user.mobile = normalize_mobile(mobile)
        fields.append("mobile")
    if fields:
        user.save(update_fields=fields)
    return user


def normalize_mobile(raw: str) -> str:
    """``+86 138-0013-8000`` → ``13800138000``: the form robot payloads use (atMobiles)."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if raw.strip().startswith("+86") and len(digits) == 13:
        digits = digits[2:]
    if digits and not 6 <= len(digits) <= 15:
        raise HubError("invalid_mobile", "a mobile number has 6 to 15 digits")
    return digits


@transaction.atomic
def do_update_workspace(
    actor: Member,
    *,
    name: str | None = None,
    require_2fa_for_admins: bool | None = None,
    read_receipts_enabled: bool | None = None,
) -> Workspace:
    workspace = Workspace.objects.select_for_update().get(pk=actor.workspace_id)
    changes: dict[str, object] = {}
    if name is not None and name.strip():
        workspace.name = name.strip()[:120]
        changes["name"] = workspace.name
    if require_2fa_for_admins and not workspace.require_2fa_for_admins and not has_totp(actor.user):
        # Otherwise the person switching it on would lock themselves out on the spot.
        raise HubError("mfa_setup_first", "set up two-factor authentication yourself before requiring it of admins")
    if require_2fa_for_admins is not None:
        workspace.require_2fa_for_admins = require_2fa_for_admins
        changes["require_2fa_for_admins"] = require_2fa_for_admins
    if read_receipts_enabled is not None:
        workspace.read_receipts_enabled = read_receipts_enabled
        changes["read_receipts_enabled"] = read_receipts_enabled
    if changes:
        workspace.save(update_fields=list(changes))
        audit("workspace.settings", actor=actor.user, workspace=workspace, target=workspace, changes=changes)
    return workspace


AVATAR_MAX_BYTES = 5 * 1024 * 1024
AVATAR_SIZE = 256


def check_set_avatar(user: User, upload: UploadedFile) -> User:
    """Accept a picture only if Pillow can decode it; store a re-encoded square PNG.

    Re-encoding drops anything else the file carried (EXIF location, polyglot payloads), and the
    stored name is generated, so a client-chosen name never reaches the filesystem.
    """
    from io import BytesIO

    from PIL import Image, ImageOps, UnidentifiedImageError

    if upload.size is None or upload.size > AVATAR_MAX_BYTES:
        raise HubError(
            "file_too_large", f"a profile picture may be at most {AVATAR_MAX_BYTES // (1024 * 1024)} MB", status=413
        )
    try:
        with Image.open(upload) as image:
            if image.width * image.height > 40_000_000:
                raise HubError("image_too_large", "the picture has too many pixels")
            image.load()
            square = ImageOps.fit(image.convert("RGBA"), (AVATAR_SIZE, AVATAR_SIZE))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        raise HubError("invalid_image", "the file is not a picture (PNG, JPEG, GIF or WebP)") from None
    buffer = BytesIO()
    square.save(buffer, format="PNG", optimize=True)
    return do_set_avatar(user, buffer.getvalue())


@transaction.atomic
def do_set_avatar(user: User, png: bytes) -> User:
    import secrets

    from django.core.files.base import ContentFile

    old = user.avatar.name if user.avatar else ""
    user.avatar.save(f"{user.pk}-{secrets.token_hex(8)}.png", ContentFile(png), save=False)
    user.save(update_fields=["avatar"])
    if old:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old))
    return user


@transaction.atomic
def do_clear_avatar(user: User) -> User:
    if user.avatar:
        old, storage = user.avatar.name, user.avatar.storage
        user.avatar = ""
        user.save(update_fields=["avatar"])
        transaction.on_commit(lambda: storage.delete(old))
    return user
