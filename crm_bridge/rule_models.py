"""Tables of the watch rules ("early warning"): rules are data, configured per workspace by its
admins; an alert row is one *episode* of a rule's condition holding for one record."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WatchRule(models.Model):
    class Kind(models.TextChoices):
        STOCK_BELOW_REORDER = "stock_below_reorder", _("Stock below reorder point")
        INVOICE_OVERDUE = "invoice_overdue", _("Invoice overdue")
        LARGE_SALES_ORDER = "large_sales_order", _("Large sales order")

    workspace = models.ForeignKey("hub.Workspace", on_delete=models.CASCADE, related_name="+")
    source = models.ForeignKey("crm_bridge.ErpSource", on_delete=models.CASCADE, related_name="watch_rules")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # Invoice overdue: by more than this many days (0 = any day past the due date).
    days = models.PositiveIntegerField(default=0)
    # Large sales order: at or above this amount (in the order's currency).
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    channel = models.ForeignKey("messaging.Conversation", on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "enabled"], name="watchrule_ws_enabled")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="large_sales_order") | models.Q(amount__isnull=False),
                name="watchrule_large_order_has_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class WatchAlert(models.Model):
    """The condition of ``rule`` holding for one record, from ``opened_at`` until it clears.
    At most one open episode per (rule, record): the alert card is posted once, and again
    only after the condition cleared and came back."""

    rule = models.ForeignKey(WatchRule, on_delete=models.CASCADE, related_name="alerts")
    record_type = models.CharField(max_length=32)
    record_key = models.CharField(max_length=128)
    number = models.CharField(max_length=128)
    detail = models.CharField(max_length=500)
    message = models.ForeignKey("messaging.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "record_type", "record_key"],
                condition=models.Q(cleared_at__isnull=True),
                name="watchalert_one_open_episode",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} · {self.number}"
