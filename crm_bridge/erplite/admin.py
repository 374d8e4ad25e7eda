"""ERP-lite in the Django admin: where a small company's admins keep their parties, products,
stock, prices, orders and invoices. Order totals are recomputed from the lines on save; state
changes that need approval limits go through the cards (``BuiltinSource.transition``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from crm_bridge.erplite.actions import recompute_total
from crm_bridge.erplite.models import (
    ApprovalLimit,
    Contact,
    ImportJob,
    Invoice,
    Note,
    Party,
    PriceList,
    PriceListItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesOrder,
    SalesOrderLine,
    Stock,
    Warehouse,
)

_ROW_READONLY = ("version", "created_at", "updated_at")


class ErpAdmin(admin.ModelAdmin):
    readonly_fields = [*_ROW_READONLY]
    list_select_related = ["workspace"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("workspace", "name", "title", "phone", "email")


@admin.register(Party)
class PartyAdmin(ErpAdmin):
    list_display = ("code", "name", "kind", "partner", "owner", "workspace", "active", "updated_at")
    list_filter = ("kind", "active", "workspace")
    search_fields = ("code", "name", "phone", "email")
    inlines = [ContactInline]


@admin.register(Product)
class ProductAdmin(ErpAdmin):
    list_display = ("sku", "name", "unit", "list_price", "cost_price", "workspace", "active", "updated_at")
    list_filter = ("active", "workspace")
    search_fields = ("sku", "name")


@admin.register(Warehouse)
class WarehouseAdmin(ErpAdmin):
    list_display = ("code", "name", "workspace")
    search_fields = ("code", "name")


@admin.register(Stock)
class StockAdmin(ErpAdmin):
    list_display = ("product", "warehouse", "on_hand", "reserved", "reorder_point", "updated_at")
    list_select_related = ["product", "warehouse"]
    list_filter = ("warehouse",)
    search_fields = ("product__sku", "product__name", "warehouse__name")


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 0
    fields = ("workspace", "product", "customer", "min_quantity", "unit_price")


@admin.register(PriceList)
class PriceListAdmin(ErpAdmin):
    list_display = ("name", "currency", "is_default", "workspace")
    search_fields = ("name",)
    inlines = [PriceListItemInline]


@admin.register(ApprovalLimit)
class ApprovalLimitAdmin(ErpAdmin):
    list_display = ("approver", "doc_type", "max_amount", "workspace")
    list_filter = ("doc_type",)


class SalesOrderLineInline(admin.TabularInline):
    model = SalesOrderLine
    extra = 0


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    extra = 0


class OrderAdmin(ErpAdmin):
    list_display = ("number", "party", "state", "amount_total", "currency", "order_date", "owner", "updated_at")
    list_filter = ("state", "workspace")
    list_select_related = ["party", "owner"]
    search_fields = ("number", "party__name", "party__code")
    readonly_fields = [*_ROW_READONLY, "amount_total"]

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        recompute_total(form.instance)


@admin.register(SalesOrder)
class SalesOrderAdmin(OrderAdmin):
    inlines = [SalesOrderLineInline]


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(OrderAdmin):
    inlines = [PurchaseOrderLineInline]


@admin.register(Invoice)
class InvoiceAdmin(ErpAdmin):
    list_display = ("number", "party", "state", "amount", "amount_due", "due_date", "owner", "updated_at")
    list_filter = ("state", "workspace")
    list_select_related = ["party", "owner"]
    search_fields = ("number", "party__name", "party__code")


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ("record_type", "record_id", "author", "created_at")
    search_fields = ("body", "author")
    readonly_fields = ("workspace", "record_type", "record_id", "author", "body", "created_at")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("file_name", "record_type", "state", "processed_rows", "total_rows", "created_at")
    list_filter = ("state", "record_type")
    exclude = ("content",)
    readonly_fields = (
        "workspace",
        "created_by",
        "record_type",
        "file_name",
        "encoding",
        "state",
        "total_rows",
        "processed_rows",
        "created_count",
        "updated_count",
        "errors",
        "failure",
        "created_at",
        "finished_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through the import API or ``manage.py import_erp``

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportJob]:
        return super().get_queryset(request).defer("content")
