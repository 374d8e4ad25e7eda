from __future__ import annotations

from datetime import datetime

from ninja import Schema


class RowErrorOut(Schema):
    row: int
    message: str


class ImportJobOut(Schema):
    id: int
    type: str
    file_name: str
    state: str  # queued | running | done | failed
    percent: int
    total_rows: int
    processed_rows: int
    created: int
    updated: int
    rejected: int
    errors: list[RowErrorOut]
    failure: str
    encoding: str
    created_at: datetime
    finished_at: datetime | None
