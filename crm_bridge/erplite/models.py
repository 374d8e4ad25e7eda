"""ERP-lite's business tables. Every row belongs to one workspace, has an owner (a hub user),
an ``updated_at`` (what incremental sync reads) and a ``version`` that goes up on every save
(what approvals send back as the expected version — optimistic concurrency).

Money is ``Decimal`` (``DecimalField``), quantities too (tea is sold by the 0.5 kg).
Codes, SKUs and document numbers are unique per workspace and compared case-insensitively
by the source (``so-1001`` finds ``SO-1001``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0")


class ErpRow(models.Model):
    """Columns and the save rule shared by every ERP-lite table."""

    workspace = models.ForeignKey("hub.Workspace", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every save is a new version, whoever saves (admin, importer, API, transition): a
        # card or an approval holding the old version then gets "changed since you saw it".
        if not self._state.adding:
            self.version += 1
        self.updated_at = timezone.now()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
        super().save(*args, **kwargs)

    def touch(self) -> None:
        """A new version without changing a column (its lines or stock changed)."""
        type(self)._default_manager.filter(pk=self.pk).update(version=F("version") + 1, updated_at=timezone.now())
        self.refresh_from_db(fields=["version", "updated_at"])


class Party(ErpRow):
    """A customer or a supplier. ``partner`` ties it to the hub's partner organisation, whose
    guests then see this party's records (and only those)."""

    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer")
        SUPPLIER = "supplier", _("Supplier")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=120)
    partner = models.ForeignKey(
        "hub.PartnerOrg", null=True, blank=True, on_delete=models.SET_NULL, related_name="erp_parties"
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=255, blank=True)
    # Customers: the list their prices come from before the default list.
    price_list = models.ForeignKey("PriceList", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    credit_limit = models.DecimalField(null=True, blank=True, max_digits=14, decimal_places=2)
    internal_notes = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "parties"
        constraints = [models.UniqueConstraint(fields=["workspace", "code"], name="erplite_party_unique_code")]
        indexes = [models.Index(fields=["workspace", "kind", "name"], name="erplite_party_kind_name")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Contact(ErpRow):
    party = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=80)
    title = models.CharField(max_length=80, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.party.name})"


class Product(ErpRow):
    sku = models.CharField(max_length=40)  # "TEA-500G"
    name = models.CharField(max_length=120)  # "西湖龙井 500g"
    unit = models.CharField(max_length=16, default="件")
    list_price = models.DecimalField(default=ZERO, max_digits=14, decimal_places=2)  # when no price list has an entry
    cost_price = models.DecimalField(default=ZERO, max_digits=14, decimal_places=2)  # internal: never shown to guests
    currency = models.CharField(max_length=3, default="CNY")
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "sku"], name="erplite_product_unique_sku")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class Warehouse(ErpRow):
    code = models.CharField(max_length=16)
    name = models.CharField(max_length=80)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "code"], name="erplite_warehouse_unique_code")]

    def __str__(self) -> str:
        return self.name


class Stock(ErpRow):
    """One product in one warehouse. Available = on hand − reserved."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="stock")
    warehouse = models.ForeignKey(Warehouse, on_delete=models.CASCADE, related_name="stock")
    on_hand = models.DecimalField(default=ZERO, max_digits=14, decimal_places=3)
    reserved = models.DecimalField(default=ZERO, max_digits=14, decimal_places=3)
    reorder_point = models.DecimalField(null=True, blank=True, max_digits=14, decimal_places=3)

    class Meta:
        verbose_name_plural = "stock"
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="erplite_stock_unique"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="erplite_stock_reserved_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} @ {self.warehouse.code}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # Stock shows on the product's card: the product is a new version too.
        self.product.touch()

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class PriceList(ErpRow):
    name = models.CharField(max_length=80)  # "标准价", "VIP 客户价"
    currency = models.CharField(max_length=3, default="CNY")
    is_default = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="erplite_pricelist_unique_name"),
            models.UniqueConstraint(
                fields=["workspace"], condition=models.Q(is_default=True), name="erplite_pricelist_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PriceListItem(ErpRow):
    """A unit price from ``min_quantity`` up (quantity breaks); with ``customer`` set, a price
    for that customer only (it wins over every list price)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    customer = models.ForeignKey(Party, null=True, blank=True, on_delete=models.CASCADE, related_name="prices")
    min_quantity = models.DecimalField(default=Decimal(1), max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "customer", "min_quantity"], name="erplite_price_unique"
            ),
            models.UniqueConstraint(
                fields=["price_list", "product", "min_quantity"],
                condition=models.Q(customer__isnull=True),
                name="erplite_price_unique_list",
            ),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="erplite_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product.sku} ≥{self.min_quantity}: {self.unit_price}"


class ApprovalLimit(ErpRow):
    """Who may approve purchase or sales orders, up to which amount. With no limit rows for a
    type anyone allowed by the hub may approve; with rows, the approver's limit must cover the
    order's total."""

    class DocType(models.TextChoices):
        PURCHASE_ORDER = "purchase_order", _("Purchase order")
        SALES_ORDER = "sales_order", _("Sales order")

    doc_type = models.CharField(max_length=32, choices=DocType.choices)
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    max_amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "doc_type", "approver"], name="erplite_limit_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.approver} ≤ {self.max_amount} ({self.doc_type})"


class OrderBase(ErpRow):
    number = models.CharField(max_length=32)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3, default="CNY")
    order_date = models.DateField(default=timezone.localdate)
    amount_total = models.DecimalField(default=ZERO, editable=False, max_digits=14, decimal_places=2)
    internal_notes = models.TextField(blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.number


class SalesOrder(OrderBase):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    # When it was confirmed: what "today's sales" counts, in the workspace's time zone.
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "number"], name="erplite_so_unique_number")]
        indexes = [models.Index(fields=["workspace", "confirmed_at"], name="erplite_so_confirmed")]


class PurchaseOrder(OrderBase):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        TO_APPROVE = "to_approve", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    decided_by = models.CharField(max_length=254, blank=True)  # the approver's email
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "number"], name="erplite_po_unique_number")]


class LineBase(models.Model):
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=14, decimal_places=3)
    unit_price = models.DecimalField(max_digits=14, decimal_places=2)
    warehouse = models.ForeignKey(Warehouse, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        abstract = True

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class SalesOrderLine(LineBase):
    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")

    def __str__(self) -> str:
        return f"{self.order.number}: {self.quantity} × {self.product.sku}"


class PurchaseOrderLine(LineBase):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")

    def __str__(self) -> str:
        return f"{self.order.number}: {self.quantity} × {self.product.sku}"


class Invoice(ErpRow):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(max_length=32)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="invoices")
    sales_order = models.ForeignKey(SalesOrder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    currency = models.CharField(max_length=3, default="CNY")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    amount_due = models.DecimalField(max_digits=14, decimal_places=2)
    issue_date = models.DateField(default=timezone.localdate)
    due_date = models.DateField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "number"], name="erplite_invoice_unique_number"),
            models.CheckConstraint(
                condition=models.Q(amount_due__gte=0) & models.Q(amount_due__lte=F("amount")),
                name="erplite_invoice_due_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Paid is a fact about the amount due, not a separate switch that could disagree.
        if self.state == self.State.OPEN and self.amount_due == 0:
            self.state = self.State.PAID
        elif self.state == self.State.PAID and self.amount_due > 0:
            self.state = self.State.OPEN
        super().save(*args, **kwargs)


class Note(models.Model):
    """A note logged on a record (``Source.log_note``: a conversation excerpt from the hub).
    Internal: never shown to guests."""

    workspace = models.ForeignKey("hub.Workspace", on_delete=models.CASCADE, related_name="+")
    record_type = models.CharField(max_length=32)
    record_id = models.BigIntegerField()
    author = models.CharField(max_length=254)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["workspace", "record_type", "record_id"], name="erplite_note_record")]

    def __str__(self) -> str:
        return f"note on {self.record_type} {self.record_id}"


class ImportJob(models.Model):
    """One CSV/Excel upload: the file (kept in the row so any worker process can read it),
    progress, and the per-row error report."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    workspace = models.ForeignKey("hub.Workspace", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    record_type = models.CharField(max_length=32)
    file_name = models.CharField(max_length=255)
    content = models.BinaryField()
    encoding = models.CharField(max_length=32, blank=True)  # declared by the uploader; else detected
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": 7, "message": "..."}]
    failure = models.TextField(blank=True)  # the whole file was unreadable
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"import {self.record_type} {self.file_name}"

    @property
    def percent(self) -> int:
        if self.state == self.State.DONE:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
