"""ERP-lite: the built-in, embedded ERP (parties, products, stock, prices, orders, invoices).

Its own Django app (label ``erplite``) so its tables and migrations stay apart from the bridge
core; the bridge reaches it only through ``crm_bridge.sources.builtin.BuiltinSource``, exactly
like it reaches Odoo or a REST system. See docs/erp.md."""
