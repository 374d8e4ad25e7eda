"""The bridge's slash commands, registered with messaging's command registry at start-up."""

from __future__ import annotations

from messaging.commands import register_command


def register_all() -> None:
    from crm_bridge.commands.approve import APPROVE
    from crm_bridge.commands.queries import CUSTOMER, ORDER, PRICE, SALES_TODAY, STOCK

    for command in (STOCK, PRICE, CUSTOMER, ORDER, SALES_TODAY, APPROVE):
        register_command(command)
