"""Structured message content ("blocks"): the cards that bots, incoming webhooks, slash
commands and the ERP bridge attach to a message, next to its Markdown body.

Blocks are data, never markup: clients render each known type with their own components and
show text as text. The only HTML is ``section.html``, which the server renders from the
block's Markdown through the same Markdown → bleach pipeline as message bodies. Links must be
http(s) or a path on this site, so a block can never carry ``javascript:`` or ``data:`` URLs.

Types:
* ``header`` — a title line;
* ``section`` — Markdown text (``text``), server-rendered ``html``;
* ``fields`` — label/value pairs shown as a two-column grid (amounts, dates, statuses);
* ``context`` — small grey text (source, "as of 10:42", who triggered it);
* ``image`` — an image by URL with alt text;
* ``actions`` — buttons; clicking one calls ``POST /api/v1/messages/{id}/actions`` with the
  button's ``id``, which the registered handler for the id's namespace (``"crm:..."``,
  ``"hook:..."``) receives (see ``messaging.interactions``); a button with ``url`` is a link;
* ``record`` — a live ERP/CRM record card by reference; clients fetch and refresh the card
  from the bridge's card API and the ``record.updated`` event;
* ``document`` — a live collaborative-document card;
* ``chart`` — a small bar chart (labels and numbers), e.g. today's sales by hour;
* ``divider``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from hub.errors import HubError
from hub.rendering import render_markdown

MAX_BLOCKS = 30
_TEXT = 3000


def _safe_url(value: str) -> str:
    url = value.strip()
    # Judge the URL as a browser reads it: tabs and newlines vanish and a backslash counts as
    # "/", so "/<backslash>evil.test" or "/<tab>/evil.test" would be the off-site "//evil.test".
    seen = re.sub(r"[\t\n\r]", "", url).replace("\\", "/").lower()
    if seen.startswith(("https://", "http://")) or (seen.startswith("/") and not seen.startswith("//")):
        return url
    raise ValueError("only http(s) URLs or paths on this site are allowed")


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class HeaderBlock(_Block):
    type: Literal["header"]
    text: str = Field(min_length=1, max_length=200)


class SectionBlock(_Block):
    type: Literal["section"]
    text: str = Field(min_length=1, max_length=_TEXT)
    html: str = ""  # filled by the server; anything a client sends here is replaced


class FieldItem(_Block):
    label: str = Field(min_length=1, max_length=100)
    value: str = Field(max_length=500)


class FieldsBlock(_Block):
    type: Literal["fields"]
    fields: list[FieldItem] = Field(min_length=1, max_length=20)


class ContextBlock(_Block):
    type: Literal["context"]
    text: str = Field(min_length=1, max_length=500)


class ImageBlock(_Block):
    type: Literal["image"]
    url: str = Field(max_length=2000)
    alt: str = Field(default="", max_length=200)

    _url = field_validator("url")(_safe_url)


class ActionButton(_Block):
    # "<namespace>:<rest>" — the namespace picks the handler (messaging.interactions).
    id: str = Field(default="", max_length=200, pattern=r"^([a-z][a-z0-9_-]*:[\w:.\-]+)?$")
    label: str = Field(min_length=1, max_length=60)
    style: Literal["default", "primary", "danger"] = "default"
    url: str | None = Field(default=None, max_length=2000)
    # Ask for a comment before acting (a rejection reason, an approval remark).
    needs_comment: bool = False
    confirm: str | None = Field(default=None, max_length=200)
    disabled: bool = False

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else _safe_url(value)


class ActionsBlock(_Block):
    type: Literal["actions"]
    actions: list[ActionButton] = Field(min_length=1, max_length=10)


class RecordBlock(_Block):
    type: Literal["record"]
    source_id: int
    record_type: str = Field(min_length=1, max_length=32)
    key: str = Field(min_length=1, max_length=128)


class DocumentBlock(_Block):
    type: Literal["document"]
    document_id: int


class ChartBlock(_Block):
    type: Literal["chart"]
    title: str = Field(default="", max_length=200)
    labels: list[str] = Field(max_length=100)
    values: list[float] = Field(max_length=100)
    unit: str = Field(default="", max_length=20)


class DividerBlock(_Block):
    type: Literal["divider"]


Block = Annotated[
    HeaderBlock
    | SectionBlock
    | FieldsBlock
    | ContextBlock
    | ImageBlock
    | ActionsBlock
    | RecordBlock
    | DocumentBlock
    | ChartBlock
    | DividerBlock,
    Field(discriminator="type"),
]
_blocks_adapter: TypeAdapter[list[Block]] = TypeAdapter(list[Block])


def validate_blocks(raw: Any) -> list[dict[str, Any]]:
    """Check untrusted blocks and return their stored form (sections rendered to safe HTML).
    Raises HubError("invalid_blocks") naming the first problem."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_BLOCKS:
        raise HubError("invalid_blocks", f"blocks must be a list of at most {MAX_BLOCKS} items")
    try:
        blocks = _blocks_adapter.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise HubError("invalid_blocks", f"blocks.{where}: {first['msg']}") from None
    stored: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, SectionBlock):
            block.html = render_markdown(block.text).html
        stored.append(block.model_dump(exclude_none=True))
    return stored


def action_ids(blocks: list[dict[str, Any]]) -> set[str]:
    """Every button id present in a message's stored blocks."""
    return {
        button["id"]
        for block in blocks
        if block.get("type") == "actions"
        for button in block.get("actions", [])
        if button.get("id") and not button.get("disabled")
    }
