"""ERP/CRM bridge: business records (customers, suppliers, products, stock, prices, orders,
invoices) from a source system shown inside conversations as live cards. See docs/erp.md."""
