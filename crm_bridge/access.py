"""Who may see and act on which ERP/CRM record. Every permission rule of the bridge lives
here, one condition per line, so coverage shows each case.

The rule for guests (a customer's or supplier's contacts): they see only records whose
``party`` is their own company, and never ``internal`` fields (cost, margin, internal notes),
whatever the path — card, reference, search, slash command, live update.

Which ERP parties *are* a guest's company is the source's business: ERP-lite links its
``Party`` rows to the hub's ``PartnerOrg``; other sources name the links in their config
(``config["partner_parties"] = {"<partner id>": ["customer:42", …]}``). A source kind can
register its own resolver with ``register_partner_parties``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from django.apps import apps

from crm_bridge.models import ErpSource, RecordSnapshot
from crm_bridge.rule_models import WatchRule
from hub.access import access_workspace_admin
from hub.errors import NotFound, PermissionDenied
from hub.models import Member, PartnerOrg, User, Workspace
from messaging.models import Conversation

# (source, partner) → the party refs ("customer:42") that belong to that partner in that source.
PartnerParties = Callable[[ErpSource, PartnerOrg], Iterable[str]]
_partner_resolvers: dict[str, PartnerParties] = {}


def register_partner_parties(kind: str, resolver: PartnerParties) -> None:
    _partner_resolvers[kind] = resolver


def _configured_partner_parties(source: ErpSource, partner: PartnerOrg) -> Iterable[str]:
    links = (source.config or {}).get("partner_parties", {})
    value = links.get(str(partner.pk), []) if isinstance(links, dict) else []
    return [str(v) for v in value] if isinstance(value, list) else []


def _builtin_partner_parties(source: ErpSource, partner: PartnerOrg) -> Iterable[str]:
    """ERP-lite: parties whose ``partner`` is this PartnerOrg (plus any configured links)."""
    found = list(_configured_partner_parties(source, partner))
    if apps.is_installed("crm_bridge.erplite"):
        from crm_bridge.erplite.models import Party

        found += [f"{kind}:{pk}" for pk, kind in Party.objects.filter(partner=partner).values_list("pk", "kind")]
    return found


register_partner_parties("builtin", _builtin_partner_parties)


def partner_parties(source: ErpSource, partner: PartnerOrg) -> set[str]:
    resolver = _partner_resolvers.get(source.kind, _configured_partner_parties)
    return set(resolver(source, partner))


def _guest_parties(member: Member, source: ErpSource) -> set[str]:
    """``partner_parties`` of a guest, memoised on the member object: a page of cards asks once
    per source, not once per card. (Member objects live for one request or task.)"""
    assert member.partner is not None
    memo: dict[int, set[str]] = member.__dict__.setdefault("_crm_partner_parties", {})
    if source.pk not in memo:
        memo[source.pk] = partner_parties(source, member.partner)
    return memo[source.pk]


# --- sources -----------------------------------------------------------------------------------


def access_source(member: Member, source_id: int) -> ErpSource:
    """An enabled source of the member's workspace, or 404."""
    source = ErpSource.objects.filter(pk=source_id, workspace_id=member.workspace_id, enabled=True).first()
    if source is None:
        raise NotFound("ERP source")
    return source


def access_source_admin(user: User, source_id: int) -> tuple[Member, ErpSource]:
    """A source (enabled or not) for the owners and admins of its workspace: 404 for anyone
    outside the workspace, 403 for its other members (hub.access.access_workspace_admin)."""
    source = ErpSource.objects.filter(pk=source_id).first()
    if source is None:
        raise NotFound("ERP source")
    member = access_workspace_admin(user, source.workspace_id)
    return member, source


def default_source(workspace_id: int) -> ErpSource | None:
    """The source bare references and slash commands use: the default, else the oldest enabled.

    ERP-lite is the embedded default: a workspace that has never had a source gets the built-in
    one on first need, so ``SO-1001`` and ``/stock`` work before anyone configures an ERP. A
    workspace whose admins disabled every source gets None (their choice is kept)."""
    enabled = ErpSource.objects.filter(workspace_id=workspace_id, enabled=True)
    found = enabled.filter(is_default=True).first() or enabled.order_by("pk").first()
    if found is None and not ErpSource.objects.filter(workspace_id=workspace_id).exists():
        from crm_bridge.sources.builtin import ensure_default_source  # the adapter imports access

        workspace = Workspace.objects.filter(pk=workspace_id).first()
        found = ensure_default_source(workspace) if workspace is not None else None
    return found


# --- records -----------------------------------------------------------------------------------


def can_see_internal(member: Member) -> bool:
    """Cost, margin and internal notes: staff only."""
    return not member.is_guest


def can_view_record(member: Member, snapshot: RecordSnapshot) -> bool:
    if not member.is_active:
        return False
    if snapshot.source.workspace_id != member.workspace_id:
        return False
    if not member.is_guest:
        return True
    if member.partner is None or not snapshot.party_key:
        return False
    return f"{snapshot.party_type}:{snapshot.party_key}" in _guest_parties(member, snapshot.source)


def check_view_record(member: Member, snapshot: RecordSnapshot) -> None:
    # 404, not 403: a guest must not learn that another company's order exists.
    if not can_view_record(member, snapshot):
        raise NotFound("record")


def can_use_erp_commands(member: Member) -> bool:
    """Slash commands query the whole ERP (any customer's price, all stock): staff only."""
    return member.is_active and not member.is_guest and not member.user.is_bot


# --- approvals ---------------------------------------------------------------------------------


def check_can_decide(member: Member, snapshot: RecordSnapshot) -> None:
    """Permission and amount limit for approving or rejecting the record as cached.

    The source says who may decide an order of this amount (``Record.approvers``: ERP-lite
    computes it from its approval limits, Odoo from its approval groups). When a source names
    nobody, the workspace's owners and admins decide. The source checks again on write.
    """
    if member.is_guest or member.user.is_bot:
        raise PermissionDenied("only staff can approve orders", code="not_an_approver")
    approvers = {str(email).lower() for email in snapshot.data.get("approvers", [])}
    if approvers and member.user.email.lower() not in approvers:
        raise PermissionDenied(_limit_message(snapshot), code="not_an_approver")
    if not approvers and not member.is_admin:
        raise PermissionDenied("only owners and admins approve orders here", code="not_an_approver")


def _limit_message(snapshot: RecordSnapshot) -> str:
    amount = snapshot.data.get("amount") or {}
    if amount:
        return (
            f"{snapshot.number} ({Decimal(amount['amount']):,.2f} {amount['currency']}) "
            "is above your approval limit or you are not one of its approvers"
        )
    return f"you are not an approver of {snapshot.number}"


# --- rooms, timeline, watch rules ----------------------------------------------------------------


def check_can_open_room(member: Member) -> None:
    """Opening a record's room creates a channel: staff only (guests cannot create channels)."""
    if member.is_guest or member.user.is_bot:
        raise PermissionDenied("guests cannot open record rooms")


def check_can_write_notes(member: Member) -> None:
    """Copying conversations into the ERP ("log to ERP") is staff work."""
    if member.is_guest or member.user.is_bot:
        raise PermissionDenied("guests cannot write to the ERP")


def access_watch_rule(admin: Member, rule_id: int) -> WatchRule:
    """A watch rule of the admin's workspace (the caller came through access_workspace_admin)."""
    rule = WatchRule.objects.filter(pk=rule_id, workspace_id=admin.workspace_id).first()
    if rule is None:
        raise NotFound("rule")
    return rule


def access_alert_channel(admin: Member, channel_id: int) -> Conversation:
    """The channel a rule posts alerts to: one of the workspace's the admin can read (an
    admin must not route alerts into a private channel they are not in)."""
    from messaging.access import can_read

    channel = Conversation.objects.filter(pk=channel_id, workspace_id=admin.workspace_id).first()
    if channel is None or not can_read(admin, channel):
        raise NotFound("channel")
    return channel
