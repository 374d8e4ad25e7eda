"""ERPNext / Frappe (v14–v15): ``/api/resource/<DocType>`` with ``fields`` and ``filters``
(JSON lists), ``limit_start`` / ``limit_page_length`` paging, ``Authorization: token
key:secret``; naive datetimes in the site's time zone (set ``time_zone`` to the value of
System Settings → Time Zone); submits and cancels through ``frappe.client``; notes as
``Comment`` documents; webhooks signed with ``X-Frappe-Webhook-Signature`` = base64
HMAC-SHA256 of the body.

Purchase-order approval follows a Workflow on Purchase Order whose states are "Pending
Approval", "Approved" and "Rejected" (docs/erp.md shows how to set it up): approving submits
the document, rejecting sets the workflow state.
"""

from __future__ import annotations

from typing import Any

# Keyset paging in Frappe's terms: (modified >= t) AND (modified > t OR name > k) is
# "after (t, k)"; with k = "" on a pass's first page it is just "modified >= since".
_CHANGES = {
    "filters": [["modified", ">=", "{since}"], ["modified", "<=", "{until}"]],
    "or_filters": [["modified", ">", "{since}"], ["name", ">", "{after_key}"]],
    "order_by": "modified asc, name asc",
}


def _resource(doctype: str, fields: list[str], search: list[str], number: str = "name") -> dict[str, Any]:
    return {
        "list": {"path": f"/api/resource/{doctype}", "params": {"fields": fields, "order_by": "modified desc"}},
        "item": f"/api/resource/{doctype}/{{key}}",
        "search_params": {"or_filters": [[f, "like", "%{query}%"] for f in search]},
        "number_params": {"filters": [[number, "=", "{number}"]]},
        "changes_params": _CHANGES,
        "webhook_name": doctype,
        "ui_url": "{base_url}/app/" + doctype.lower().replace(" ", "-") + "/{key}",
    }


_ORDER_LINE = {
    "name": "item_name",
    "quantity": "qty",
    "sku": "item_code",
    "product_key": "item_code",
    "unit_price": "rate",
    "amount": "amount",
}

ERPNEXT: dict[str, Any] = {
    "auth_header": "Authorization",
    "auth_template": "token {api_key}:{api_secret}",
    "time_zone": "Asia/Shanghai",
    "datetime_format": "%Y-%m-%d %H:%M:%S.%f",
    "list_path": "data",
    "item_path": "data",
    "page_size": 100,
    "paging": {"style": "offset", "limit_param": "limit_page_length", "offset_param": "limit_start"},
    "health_path": "/api/method/frappe.auth.get_logged_user",
    "types": {
        "customer": {
            **_resource(
                "Customer",
                ["name", "customer_name", "email_id", "mobile_no", "default_price_list", "account_manager", "modified"],
                ["name", "customer_name"],
            ),
            "fields": {
                "key": "name",
                "number": "name",
                "title": "customer_name",
                "updated_at": "modified",
                "owner": "account_manager",
                "extra": {"email": "email_id", "phone": "mobile_no"},
            },
        },
        "supplier": {
            **_resource("Supplier", ["name", "supplier_name", "email_id", "modified"], ["name", "supplier_name"]),
            "fields": {
                "key": "name",
                "number": "name",
                "title": "supplier_name",
                "updated_at": "modified",
                "extra": {"email": "email_id"},
            },
        },
        "product": {
            **_resource(
                "Item",
                ["name", "item_code", "item_name", "standard_rate", "valuation_rate", "stock_uom", "modified"],
                ["item_code", "item_name"],
                number="item_code",
            ),
            "fields": {
                "key": "name",
                "number": "item_code",
                "title": "item_name",
                "updated_at": "modified",
                "amount": "standard_rate",
                "extra": {"uom": "stock_uom", "list_price": "standard_rate"},
                "internal": {"cost": "valuation_rate"},
            },
        },
        "sales_order": {
            **_resource(
                "Sales Order",
                [
                    "name",
                    "customer",
                    "customer_name",
                    "status",
                    "grand_total",
                    "currency",
                    "transaction_date",
                    "modified",
                ],
                ["name", "customer_name"],
            ),
            "fields": {
                "key": "name",
                "number": "name",
                "title": "customer_name",
                "updated_at": "modified",
                "status": "status",
                "counterparty_key": "customer",
                "counterparty_name": "customer_name",
                "amount": "grand_total",
                "currency": "currency",
                "owner": "owner",
                "lines": "items",
                "extra": {"ordered_on": "transaction_date", "delivery_date": "delivery_date"},
            },
            "line": _ORDER_LINE,
            "line_stock": True,
            "status_map": {
                "Draft": "draft",
                "On Hold": "confirmed",
                "To Deliver and Bill": "confirmed",
                "To Bill": "confirmed",
                "To Deliver": "confirmed",
                "Completed": "done",
                "Closed": "done",
                "Cancelled": "cancelled",
            },
            "default_status": "draft",
            "transitions": {
                "confirm": {
                    "allowed_from": ["draft"],
                    "request": {
                        "method": "POST",
                        "path": "/api/method/frappe.client.submit",
                        "body": {"doc": "{record}"},
                    },
                },
                "approve": {
                    "allowed_from": ["draft"],
                    "request": {
                        "method": "POST",
                        "path": "/api/method/frappe.client.submit",
                        "body": {"doc": "{record}"},
                    },
                },
                "cancel": {
                    "allowed_from": ["confirmed"],
                    "request": {
                        "method": "POST",
                        "path": "/api/method/frappe.client.cancel",
                        "body": {"doctype": "Sales Order", "name": "{key}"},
                    },
                },
            },
        },
        "purchase_order": {
            **_resource(
                "Purchase Order",
                [
                    "name",
                    "supplier",
                    "supplier_name",
                    "status",
                    "workflow_state",
                    "grand_total",
                    "currency",
                    "transaction_date",
                    "modified",
                ],
                ["name", "supplier_name"],
            ),
            "fields": {
                "key": "name",
                "number": "name",
                "title": "supplier_name",
                "updated_at": "modified",
                "status": "workflow_state|status",
                "counterparty_key": "supplier",
                "counterparty_name": "supplier_name",
                "amount": "grand_total",
                "currency": "currency",
                "owner": "owner",
                "lines": "items",
                "extra": {"ordered_on": "transaction_date"},
            },
            "line": _ORDER_LINE,
            "status_map": {
                "Pending Approval": "to_approve",
                "Approved": "approved",
                "Rejected": "rejected",
                "Draft": "draft",
                "To Receive and Bill": "approved",
                "To Bill": "approved",
                "To Receive": "approved",
                "Completed": "done",
                "Closed": "done",
                "Cancelled": "cancelled",
            },
            "default_status": "draft",
            "transitions": {
                "approve": {
                    "allowed_from": ["to_approve"],
                    "request": {
                        "method": "POST",
                        "path": "/api/method/frappe.client.submit",
                        "body": {"doc": "{record}"},
                    },
                },
                "reject": {
                    "allowed_from": ["to_approve"],
                    "request": {
                        "method": "POST",
                        "path": "/api/method/frappe.client.set_value",
                        "body": {
                            "doctype": "Purchase Order",
                            "name": "{key}",
                            "fieldname": "workflow_state",
                            "value": "Rejected",
                        },
                    },
                },
                "cancel": {
                    "allowed_from": ["approved"],
                    "request": {
                        "method": "POST",
                        "path": "/api/method/frappe.client.cancel",
                        "body": {"doctype": "Purchase Order", "name": "{key}"},
                    },
                },
            },
        },
        "invoice": {
            **_resource(
                "Sales Invoice",
                [
                    "name",
                    "customer",
                    "customer_name",
                    "status",
                    "grand_total",
                    "outstanding_amount",
                    "currency",
                    "posting_date",
                    "due_date",
                    "modified",
                ],
                ["name", "customer_name"],
            ),
            "fields": {
                "key": "name",
                "number": "name",
                "title": "customer_name",
                "updated_at": "modified",
                "status": "status",
                "counterparty_key": "customer",
                "counterparty_name": "customer_name",
                "amount": "grand_total",
                "amount_due": "outstanding_amount",
                "currency": "currency",
                "due_date": "due_date",
                "extra": {"posting_date": "posting_date"},
            },
            "status_map": {
                "Draft": "draft",
                "Unpaid": "open",
                "Overdue": "open",
                "Partly Paid": "open",
                "Unpaid and Discounted": "open",
                "Overdue and Discounted": "open",
                "Paid": "paid",
                "Credit Note Issued": "paid",
                "Return": "paid",
                "Cancelled": "cancelled",
            },
            "default_status": "draft",
        },
    },
    "stock": {
        "request": {
            "path": "/api/resource/Bin",
            "params": {
                "fields": ["item_code", "warehouse", "actual_qty", "reserved_qty"],
                "filters": [["item_code", "in", "{product_keys}"]],
                "limit_page_length": 500,
            },
        },
        "product_key": "item_code",
        "warehouse": "warehouse",
        "on_hand": "actual_qty",
        "reserved": "reserved_qty",
    },
    "price": {
        "request": {
            "path": "/api/resource/Item Price",
            "params": {
                "fields": ["item_code", "price_list", "price_list_rate", "currency", "customer"],
                "filters": [["item_code", "=", "{product_key}"], ["selling", "=", 1]],
                "limit_page_length": 100,
            },
        },
        "unit_price": "price_list_rate",
        "price_list": "price_list",
        "currency": "currency",
        "customer_key": "customer",
        "customer_price_list": "default_price_list",
        "default_price_list": "Standard Selling",
    },
    "sales_summary": {
        "request": {
            "path": "/api/resource/Sales Order",
            "params": {
                "fields": ["name", "grand_total", "currency", "creation"],
                "filters": [["docstatus", "=", 1], ["creation", ">=", "{start}"], ["creation", "<", "{end}"]],
                "limit_page_length": 1000,
            },
        },
        "time": "creation",
        "amount": "grand_total",
        "currency": "currency",
    },
    "note": {
        "request": {
            "method": "POST",
            "path": "/api/resource/Comment",
            "body": {
                "comment_type": "Comment",
                "reference_doctype": "{type_name}",
                "reference_name": "{key}",
                "content": "{body}",
                "comment_email": "{author}",
                "comment_by": "{author}",
            },
        }
    },
    "webhook": {
        "header": "X-Frappe-Webhook-Signature",
        "encoding": "base64",
        "type_path": "doctype",
        "key_path": "name",
    },
}
