"""What every ERP slash command shares: the workspace's source, bilingual replies, argument
splitting, usage replies and autocomplete from the source (with the cache as fallback)."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings

from crm_bridge import access
from crm_bridge.models import ErpSource, RecordSnapshot
from crm_bridge.sources.base import Record, RecordType, Source, SourceError
from crm_bridge.sources.registry import build_source
from messaging.commands import CommandContext, CommandReply, SlashCommand, Suggestion

MAX_SUGGESTIONS = 8


def t(ctx: CommandContext, zh: str, en: str) -> str:
    return en if ctx.language == "en" else zh


def split_args(args: str) -> list[str]:
    """Whitespace-separated, with quotes for names containing spaces (``"西湖龙井 500g"``)."""
    try:
        return shlex.split(args)
    except ValueError:  # an unbalanced quote: take the words as typed
        return args.split()


def parse_quantity(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def usage(ctx: CommandContext, command: SlashCommand, zh: str, en: str) -> CommandReply:
    """Bad or missing arguments: say how the command is used, with an example."""
    return CommandReply(text=f"{t(ctx, '用法', 'Usage')}：`{command.usage}`\n\n{t(ctx, zh, en)}")


def no_source(ctx: CommandContext) -> CommandReply:
    return CommandReply(
        text=t(ctx, "本工作区还没有连接 ERP。管理员可在设置中添加。", "No ERP is connected to this workspace yet.")
    )


def unavailable(ctx: CommandContext, source_row: ErpSource, error: SourceError) -> CommandReply:
    return CommandReply(
        text=t(
            ctx,
            f"{source_row.name} 暂时无法访问（{error.message}），请稍后再试。",
            f"{source_row.name} is unavailable right now ({error.message}). Try again later.",
        )
    )


def source_for(ctx: CommandContext) -> tuple[ErpSource, Source] | None:
    source_row = access.default_source(ctx.member.workspace_id)
    if source_row is None:
        return None
    return source_row, build_source(source_row)


def workspace_time_zone(source_row: ErpSource) -> ZoneInfo:
    """The workspace's business day: the source's ``config["time_zone"]``, else the
    deployment's ``TIME_ZONE`` (Asia/Shanghai by default)."""
    name = (source_row.config or {}).get("time_zone") or settings.TIME_ZONE
    try:
        return ZoneInfo(str(name))
    except (KeyError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def search_records(ctx: CommandContext, types: Sequence[RecordType], query: str) -> list[tuple[RecordType, str, str]]:
    """(type, number, title) of records matching ``query``: from the source, or — when it is
    down — from the cache, so autocomplete keeps working during an outage."""
    found = source_for(ctx)
    if found is None:
        return []
    source_row, source = found
    results: list[tuple[RecordType, str, str]] = []
    try:
        for type in types:
            records: Sequence[Record] = source.search(type, query, limit=MAX_SUGGESTIONS)
            results += [(type, r.number, r.title) for r in records]
    except SourceError:
        cached = RecordSnapshot.objects.filter(source=source_row, record_type__in=[str(x) for x in types])
        if query:
            cached = cached.filter(title__icontains=query) | cached.filter(number__icontains=query)
        results = [(RecordType(s.record_type), s.number, s.title) for s in cached[:MAX_SUGGESTIONS]]
    return results[:MAX_SUGGESTIONS]


Label = Callable[[RecordType, str, str], str]  # (type, number, title) → the argument text


def _quoted(text: str) -> str:
    return f'"{text}"' if " " in text else text


def suggester(
    types: Sequence[RecordType],
    value: Label | None = None,
    *,
    then: Sequence[RecordType] = (),
    then_value: Label | None = None,
) -> Callable[[CommandContext], Sequence[Suggestion]]:
    """Autocomplete for a command whose first argument is a record of ``types`` (and, with
    ``then``, whose second is one of ``then``: ``/price <商品> <客户>``). A suggestion's value
    is the whole argument text (quoted where it holds a space); the composer puts it after the
    command name."""

    def suggest(ctx: CommandContext) -> Sequence[Suggestion]:
        words = split_args(ctx.args)
        if len(words) <= 1:
            found, label, prefix = search_records(ctx, types, words[0] if words else ""), value, ""
        elif len(words) == 2 and then:
            found, label, prefix = search_records(ctx, then, words[1]), then_value, _quoted(words[0]) + " "
        else:
            return []  # past the arguments we can complete
        return [
            Suggestion(
                value=prefix + _quoted(label(type, number, title) if label else number),
                label=f"{number} · {title}",
                detail=str(type),
            )
            for type, number, title in found
        ]

    return suggest
