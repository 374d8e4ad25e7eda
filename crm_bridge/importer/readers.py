"""Files → (row number, {header: text}) rows. Row numbers are what the person sees in Excel:
the header is row 1, the first data row is row 2."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

MAX_ROWS = 50_000


class FileUnreadable(ValueError):
    """The whole file cannot be read (wrong encoding, not a spreadsheet, no header)."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number, cells as text)
    encoding: str = ""


def read_table(content: bytes, file_name: str, encoding: str = "") -> Table:
    if file_name.lower().endswith((".xlsx", ".xlsm")) or content[:4] == b"PK\x03\x04":
        return _read_xlsx(content)
    return _read_csv(content, encoding)


def detect_encoding(content: bytes, declared: str = "") -> str:
    """The declared encoding if given; else UTF-8 (with its BOM stripped) when the bytes are
    valid UTF-8, UTF-16 when they start with its BOM; else GB18030 — the superset of GBK
    that Chinese Excel writes for "CSV"."""
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            raise FileUnreadable(f"unknown encoding {declared!r}") from None
        return "utf-8-sig" if name == "utf-8" else name
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" (tab-separated)
    try:
        content.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def _read_csv(content: bytes, declared: str) -> Table:
    encoding = detect_encoding(content, declared)
    try:
        text = content.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileUnreadable(f"the file is not valid {encoding}: {exc.reason} at byte {exc.start}") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        return _table(((n, [c or "" for c in cells]) for n, cells in enumerate(reader, start=1)), encoding)
    except csv.Error as exc:
        raise FileUnreadable(f"not a readable CSV file: {exc}") from None


def _read_xlsx(content: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — openpyxl raises many types for a bad file
        raise FileUnreadable(f"not a readable .xlsx file: {exc}") from None
    try:
        sheet = book.worksheets[0]
        rows = ((n, [_cell_text(v) for v in values]) for n, values in enumerate(sheet.iter_rows(values_only=True), 1))
        return _table(rows, "xlsx")
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # 298.0 is "298", 0.1 stays "0.1" (str, not the binary expansion).
        return str(Decimal(str(value)).normalize()) if value == value else ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _table(rows: Iterator[tuple[int, list[str]]], encoding: str) -> Table:
    headers: list[str] | None = None
    data: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # blank lines are not rows
        if headers is None:
            headers = [c.strip() for c in cells]
            continue
        data.append((number, cells))
        if len(data) > MAX_ROWS:
            raise FileUnreadable(f"more than {MAX_ROWS} rows: split the file")
    if headers is None:
        raise FileUnreadable("the file is empty (no header row)")
    return Table(headers=headers, rows=data, encoding=encoding)
