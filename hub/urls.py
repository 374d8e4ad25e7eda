"""Project URL routing: the API (hub + app routers), accounts, health, the web app."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from crm_bridge.api import router as records_router
from crm_bridge.erplite.api import router as erplite_router
from crm_bridge.importer.api import router as erp_import_router
from crm_bridge.rooms_api import router as record_rooms_router
from crm_bridge.rules_api import router as erp_rules_router
from crm_bridge.sources_api import router as erp_sources_router
from docs_collab.api import router as docs_router
from hub import health, metrics, views
from hub.api import router as hub_router
from hub.apicore import api
from hub.policy.api import router as policy_router
from hub.portability.api import router as portability_router
from messaging.api import router as messaging_router
from messaging.apps_api import router as apps_router
from messaging.delivery.api import router as notify_router
from messaging.integrations.api import router as integrations_router
from messaging.search_api import router as search_router

api.add_router("", hub_router)
api.add_router("", policy_router)
api.add_router("", portability_router)
api.add_router("", messaging_router)
api.add_router("", notify_router)
api.add_router("", apps_router)
api.add_router("", integrations_router)
api.add_router("", search_router)
api.add_router("", docs_router)
api.add_router("", records_router)
api.add_router("", erp_import_router)
api.add_router("", erplite_router)
api.add_router("", record_rooms_router)
api.add_router("", erp_rules_router)
api.add_router("", erp_sources_router)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/v1/", api.urls),
    # Incoming webhooks at the platforms' own URL shapes (/hooks/…, /robot/send, …).
    path("", include("messaging.integrations.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("invite/<str:token>/", views.invitation, name="invitation"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("app/<path:client_path>", views.home, name="webapp"),
    path("", views.home, name="home"),
]
