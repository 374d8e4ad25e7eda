"""Fixtures shared by the bridge's tests. ERP-lite's (the demo company with its ERP-lite data
and the built-in source over it) live in ``erplite_fixtures``; add other groups the same way."""

from tests.crm_bridge.chat_fixtures import channel, erp, shared  # noqa: F401
from tests.crm_bridge.erplite_fixtures import demo, primed, source, source_row  # noqa: F401
from tests.crm_bridge.remote_fixtures import erpnext_fake, erpnext_row, fresh_guards, odoo_fake, odoo_row  # noqa: F401
