"""Record fields from the ERP are attacker-controlled too (a customer's name typed by anyone
with ERP access, a synced Odoo partner): an ERP-lite customer, product and sales order whose
fields carry the XSS corpus, shown as a live card in a conversation and in the record room,
must render as text. The sentinel and CSP listener are those of test_xss_render.py."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, Server, _server_env, screenshot, sign_in
from tests.e2e.conv_helpers import DELIVERY_TIMEOUT, message_row, new_channel, post
from tests.e2e.test_xss_render import _armed_page, _assert_inert
from tests.security.xss_corpus import SHORT, VECTORS

pytestmark = pytest.mark.browser

ORDER_NUMBER = "SO-9901"

# The default ERP-lite source (created here unless test_erp_cards.py made it first, as it does
# in a full run) and hostile rows in it. Payloads are passed as JSON so no quoting can break.
SEED = """
import json
from decimal import Decimal
from crm_bridge.erplite.models import Party, Product, SalesOrder, SalesOrderLine
from crm_bridge.models import ErpSource
from crm_bridge.sources.builtin import DEFAULT_NAME
from hub.models import Workspace

ws = Workspace.objects.get(pk={workspace})
payloads = json.loads({payloads!r})
if not ErpSource.objects.filter(workspace=ws, is_default=True).exists():
    ErpSource.objects.create(workspace=ws, name=DEFAULT_NAME, kind="builtin", is_default=True, config={{}})
party = Party.objects.create(
    workspace=ws, kind="customer", code="XSS-CUST", name=payloads["name"][:120],
    address=payloads["long"][:255], internal_notes=payloads["long"], phone=payloads["short"][:40],
)
product = Product.objects.create(
    workspace=ws, sku="XSS-SKU", name=payloads["product"][:120], unit=payloads["unit"][:16]
)
order = SalesOrder.objects.create(workspace=ws, number="{order}", party=party, internal_notes=payloads["long"])
SalesOrderLine.objects.create(order=order, product=product, quantity=Decimal(2), unit_price=Decimal("9.50"))
print("ERPXSS " + json.dumps({{"party": party.pk, "order": order.pk}}))
"""


@pytest.fixture(scope="module")
def hostile_records(server: Server) -> dict[str, int]:
    payloads = {
        "name": SHORT[0].payload + SHORT[1].payload,
        "product": SHORT[2].payload + SHORT[5].payload,
        "unit": "<b>件",
        "short": SHORT[3].payload,
        "long": "\n".join(v.payload for v in VECTORS[:30]),
    }
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            SEED.format(workspace=server.ids["workspace"], payloads=json.dumps(payloads), order=ORDER_NUMBER),
        ],
        cwd=ROOT,
        env=_server_env(server.data_dir),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("ERPXSS "))
    return dict(json.loads(line[7:]))


def test_hostile_erp_fields_render_as_text_in_cards(
    new_context: Any, server: Server, hostile_records: dict[str, int]
) -> None:
    author = new_context().new_page()
    sign_in(author, "alice@e2e.test")
    channel = new_channel(author, server, "ERP 注入")
    post(author, channel, f"{ORDER_NUMBER} 这个客户名字很奇怪")
    post(author, channel, "#customer: XSS-CUST")
    page = _armed_page(new_context, "bob@e2e.test", f"/app/w/{server.ids['workspace']}/c/{channel}/")
    card = message_row(page, ORDER_NUMBER).get_by_test_id("record-card")
    expect(card).to_contain_text(ORDER_NUMBER, timeout=DELIVERY_TIMEOUT)
    # The customer's hostile name is on the card, as visible text.
    expect(card).to_contain_text("<script>__xss(900)</script>", timeout=DELIVERY_TIMEOUT)
    customer = message_row(page, "XSS-CUST").get_by_test_id("record-card")
    expect(customer).to_contain_text("<img src=x onerror=__xss(901)>", timeout=DELIVERY_TIMEOUT)
    card.hover()
    _assert_inert(page, "ERP record cards")
    screenshot(page, "xss-erp-card")
