"""Django admin for operators: people, workspaces, members, partners, invitations, tokens and
the (read-only) audit log. Deactivation goes through the actions, so sessions and tokens are
revoked at once and the audit log records it — never by ticking ``is_active`` by hand."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from hub import actions
from hub.models import ApiToken, AuditEvent, Invitation, Member, PartnerOrg, User, Workspace


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "display_name", "is_active", "is_staff", "is_bot", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "is_bot")
    search_fields = ("email", "display_name")
    readonly_fields = ("last_login", "date_joined", "is_active")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "avatar", "time_zone", "language", "is_bot")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "display_name", "password1", "password2")}),)
    actions = ["deactivate_accounts"]

    @admin.action(description="Deactivate accounts (sign out everywhere, revoke tokens)")
    def deactivate_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        count = 0
        for user in queryset.filter(is_active=True):
            if actor is not None and user.pk == actor.pk:
                self.message_user(request, "You cannot deactivate your own account.", messages.WARNING)
                continue
            actions.do_deactivate_user(actor, user)
            count += 1
        self.message_user(request, f"Deactivated {count} account(s).")


class MemberInline(admin.TabularInline[Member, Workspace]):
    model = Member
    extra = 0
    fields = ("user", "role", "partner", "title", "is_active", "joined_at")
    readonly_fields = ("is_active", "joined_at")
    raw_id_fields = ("user",)


class PartnerInline(admin.TabularInline[PartnerOrg, Workspace]):
    model = PartnerOrg
    extra = 0
    fields = ("name", "kind", "created_at")
    readonly_fields = ("created_at",)


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin[Workspace]):
    list_display = ("id", "name", "created_at", "require_2fa_for_admins", "member_count")
    search_fields = ("name",)
    inlines = [PartnerInline, MemberInline]

    @admin.display(description="members")
    def member_count(self, obj: Workspace) -> int:
        return obj.members.filter(is_active=True).count()


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin[Member]):
    list_display = ("user", "workspace", "role", "partner", "title", "is_active", "joined_at")
    list_filter = ("role", "is_active", "workspace")
    search_fields = ("user__email", "user__display_name", "workspace__name")
    raw_id_fields = ("user", "workspace", "partner")
    readonly_fields = ("is_active", "deactivated_at")
    actions = ["deactivate_members"]

    @admin.action(description="Deactivate membership (closes their sockets)")
    def deactivate_members(self, request: HttpRequest, queryset: QuerySet[Member]) -> None:
        operator = request.user if isinstance(request.user, User) else None
        count = 0
        for member in queryset.filter(is_active=True).select_related("user", "workspace"):
            # A workspace must keep its owner; ownership moves in the app first.
            if member.role == Member.Role.OWNER:
                self.message_user(request, f"Skipped {member}: owners are not deactivated here.", messages.WARNING)
                continue
            actions.do_deactivate_member(None, member, operator=operator)
            count += 1
        self.message_user(request, f"Deactivated {count} membership(s).")


@admin.register(PartnerOrg)
class PartnerOrgAdmin(admin.ModelAdmin[PartnerOrg]):
    list_display = ("name", "kind", "workspace", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "workspace__name")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ("id", "workspace", "role", "partner", "email", "expires_at", "use_count", "max_uses", "revoked_at")
    list_filter = ("role",)
    search_fields = ("email", "workspace__name")
    # The token itself is never stored; the hash is useless to an operator.
    exclude = ("token_hash",)
    readonly_fields = ("created_by", "created_at", "use_count", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created in the app or the API, where the one-time token can be shown

    @admin.action(description="Revoke invitations")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        operator = request.user if isinstance(request.user, User) else None
        for invitation in queryset.filter(revoked_at__isnull=True):
            actions.do_revoke_invitation(None, invitation, operator=operator)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("id", "user", "name", "created_at", "last_used_at", "revoked_at")
    search_fields = ("user__email", "name")
    exclude = ("key_hash",)
    readonly_fields = ("user", "name", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issue_api_token or the API show the key once

    @admin.action(description="Revoke tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            actions.do_revoke_api_token(token.user, token)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ("created_at", "action", "actor", "workspace", "target_type", "target_id", "ip")
    list_filter = ("action",)
    search_fields = ("action", "actor__email", "target_id")
    date_hierarchy = "created_at"

    # The audit log is evidence: operators read it, nobody edits it.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
