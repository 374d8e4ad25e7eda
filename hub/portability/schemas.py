"""Bodies of the workspace export API."""

from __future__ import annotations

from datetime import datetime

from ninja import Schema


class ExportOut(Schema):
    id: int
    status: str  # queued | running | done | failed
    done: int  # rows and files written so far …
    total: int  # … of about this many
    size: int  # bytes of the finished archive
    error: str
    created_at: datetime
    finished_at: datetime | None
    download_url: str | None  # set when status is "done"
