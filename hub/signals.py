"""Signals declared by ``hub`` so that higher layers can react without hub importing them."""

from __future__ import annotations

import django.dispatch

# Sent on commit when a person's access changed in a way open sockets must notice
# (deactivated, role changed, token revoked). kwargs: user_id, workspace_id (None = everywhere).
access_revoked = django.dispatch.Signal()

# Sent inside the demo loader's transaction after the demo company, its people and its
# conversations exist, so that higher apps (documents, ERP bridge) add their demo data without
# hub importing them. kwargs: data (hub.demo.DemoData). Receivers must be deterministic.
demo_workspace_created = django.dispatch.Signal()
