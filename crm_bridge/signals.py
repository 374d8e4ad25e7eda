"""Signals of the bridge. ``record_changed`` is sent after commit whenever a cached record's
version changes (sync, webhook re-read, a write-back, a card refresh): live cards, watch
rules and the search index react to it without the sync code knowing about them."""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: snapshot (RecordSnapshot), previous_version (str | None — None when newly cached)
record_changed = Signal()

# Sent after commit when a cached record turns stale (its source stopped answering) or fresh
# again with the same version — ``record_changed`` does not fire then, yet every card showing
# it must say "stale since …" and disable its write buttons, or stop saying so.
# kwargs: snapshot (RecordSnapshot)
record_staleness_changed = Signal()
