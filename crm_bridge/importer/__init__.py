"""CSV and Excel import into ERP-lite: customers, suppliers, products, stock and prices.

``readers`` turns a file (UTF-8 with or without BOM, GBK/GB18030 from Chinese Excel, or
.xlsx) into numbered rows; ``columns`` maps Chinese or English headers to fields;
``importers`` validates and upserts one row at a time (idempotent by code / SKU), so a bad row
is rejected with its row number and reason while the good rows are kept; ``run`` ties them
together with progress. Entry points: ``manage.py import_erp`` and the admin import API
(a django-tasks background job). See docs/erp.md."""
