"""The ``changes_since`` cursor of the remote adapters (Odoo, REST): incremental by modification
time, with a look-back window, safe to page through while records keep changing.

A *pass* reads every record modified in ``[since, until]`` (``until`` fixed when the pass
starts), page by page in (modified, id) order. Pages continue *after the last record seen* —
keyset paging: ``modified > t or (modified = t and id > k)`` — so a record that changes during
the pass just moves behind the position and nothing shifts or gets skipped (offset paging
would skip one record per change). Sources whose API cannot express that condition fall back
to offsets (``position`` is then None and ``offset`` counts).

When a pass is done the cursor remembers ``until``; the next pass starts at
``until - lookback``. The overlap catches what clocks and transactions hide: a server clock
behind ours, and a record whose modification time was stamped when its transaction began but
that committed after we read past it (Odoo stamps ``write_date`` at transaction start). The
overlap is re-read on every pass; the consumer's upserts are idempotent, so that costs only a
little traffic.

The cursor is opaque JSON holding one such state per record type.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crm_bridge.sources.base import RecordType

# Ahead of our clock on purpose: a source whose clock runs a little fast must not stamp a
# change after ``until`` and have it wait a full pass.
_UNTIL_SLACK = timedelta(seconds=1)


@dataclass(frozen=True)
class Window:
    since: datetime | None  # None = from the beginning
    until: datetime
    offset: int = 0
    # Keyset position: the (raw modification time, id) of the last record read in this pass.
    after: tuple[str, str] | None = None


def plan(
    cursor: str | None, types: Sequence[RecordType], *, now: datetime, lookback: timedelta
) -> dict[RecordType, Window]:
    """The window to read next for each type."""
    try:
        states = json.loads(cursor) if cursor else {}
    except ValueError:
        states = {}
    if not isinstance(states, dict):
        states = {}
    windows: dict[RecordType, Window] = {}
    for record_type in types:
        state = states.get(str(record_type)) or {}
        if "until" in state:  # mid-pass
            since = datetime.fromisoformat(state["since"]) if state.get("since") else None
            after = tuple(state["after"]) if state.get("after") else None
            windows[record_type] = Window(
                since,
                datetime.fromisoformat(state["until"]),
                int(state.get("offset", 0)),
                after,
            )
        elif "next" in state:  # a pass finished: start the next one, overlapping
            start = datetime.fromisoformat(state["next"]) - lookback
            windows[record_type] = Window(start, now + _UNTIL_SLACK)
        else:
            windows[record_type] = Window(None, now + _UNTIL_SLACK)
    return windows


@dataclass(frozen=True)
class Page:
    count: int
    last: tuple[str, str] | None  # (raw modification time, id) of the page's last record
    keyset: bool = True  # False: the source pages by offset


def advance(windows: dict[RecordType, Window], pages: dict[RecordType, Page], page_size: int) -> tuple[str, bool]:
    """The cursor after reading one page per window; ``more`` when some window returned a full
    page (another call may return more right away)."""
    states: dict[str, dict[str, object]] = {}
    more = False
    for record_type, window in windows.items():
        page = pages.get(record_type, Page(0, None))
        if page.count >= page_size:
            more = True
            state: dict[str, object] = {"until": window.until.isoformat()}
            if page.keyset and page.last is not None:
                state["after"] = list(page.last)  # the position supersedes ``since``
            else:
                state["since"] = window.since.isoformat() if window.since else None
                state["offset"] = window.offset + page.count
            states[str(record_type)] = state
        else:
            states[str(record_type)] = {"next": window.until.isoformat()}
    # Compact: the cursor must fit SyncState.cursor (255 characters).
    return json.dumps(states, sort_keys=True, ensure_ascii=False, separators=(",", ":")), more


def utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
