"""Fixtures of the conversation-feature tests (cards, references, live cards, commands,
approvals): a fake source with a small, fixed data set, wired to the ``world`` personas.
Test modules import the fixtures they use by name."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from crm_bridge.models import ErpSource
from crm_bridge.sources.base import Record, RecordType, Status, StockLevel
from tests.conftest import World
from tests.crm_bridge import fakesource
from tests.crm_bridge.fakesource import FakeErp, customer, invoice, order, product
from tests.messaging.helpers_http import create_conversation, shared_channel

T = RecordType
# No retries, no breaker: a test that switches the source off expects one failing call.
NO_RESILIENCE = {"rate_per_second": 0, "max_attempts": 1, "failure_threshold": 1000}


@dataclass
class Erp:
    source: ErpSource
    fake: FakeErp
    teahouse: Record  # customer linked to world.customer (the guest's company)
    rival: Record  # another customer
    packer: Record  # supplier linked to world.supplier
    tea: Record
    so_mine: Record  # SO-1001 of the guest's company
    so_rival: Record  # SO-1002 of another company
    po: Record  # PO-2001 awaiting approval, approvers: owner + admin
    inv: Record  # INV-3001 unpaid, of the guest's company


@pytest.fixture
def erp(world: World) -> Iterator[Erp]:
    fakesource.reset()
    try:
        from crm_bridge.resilience import reset_guards

        reset_guards()
    except ImportError:  # the resilience layer is not installed in this checkout
        pass
    teahouse = customer("1", "西湖茶馆", "C-001")
    rival = customer("2", "东方茶行", "C-002")
    packer = customer("5", "龙井包装厂", "S-005", T.SUPPLIER)
    source = ErpSource.objects.create(
        workspace=world.workspace,
        name="测试ERP",
        kind="fake",
        is_default=True,
        config={
            "resilience": NO_RESILIENCE,
            "partner_parties": {str(world.customer.pk): ["customer:1"], str(world.supplier.pk): ["supplier:5"]},
        },
    )
    fake = fakesource.erp_of(source)
    for record in (teahouse, rival, packer):
        fake.put(record)
    tea = fake.put(product("1", "TEA-500G", "西湖龙井 500g", "680.00"))
    fake.put(product("2", "TEA-250G", "西湖龙井 250g", "360.00"))
    so_mine = fake.put(order("11", "SO-1001", teahouse, "13600.00"))
    so_rival = fake.put(order("12", "SO-1002", rival, "8800.00"))
    po = fake.put(
        order(
            "21",
            "PO-2001",
            packer,
            "12000.00",
            type=T.PURCHASE_ORDER,
            status=Status.TO_APPROVE,
            approvers=("owner@tea.test", "admin@tea.test"),
        )
    )
    inv = fake.put(invoice("31", "INV-3001", teahouse, "5000.00"))
    fake.stock_levels = [
        StockLevel(tea.ref, "TEA-500G", tea.title, "杭州仓", Decimal("40"), Decimal("28"), Decimal("20")),
        StockLevel(tea.ref, "TEA-500G", tea.title, "上海仓", Decimal("100"), Decimal("0"), Decimal("20")),
    ]
    yield Erp(source, fake, teahouse, rival, packer, tea, so_mine, so_rival, po, inv)
    fakesource.reset()


@pytest.fixture
def channel(world: World) -> int:
    """A public channel with owner, member and member2."""
    return create_conversation(
        world, world.owner, "public", "销售", member_ids=[world.member.user.pk, world.member2.user.pk]
    )


@pytest.fixture
def shared(world: World) -> int:
    """A channel shared with the guest's company (the customer)."""
    return shared_channel(world)
