"""The search box's query language, parsed into a backend-independent ``ParsedQuery``.

    订单 "quoted phrase" -excluded from:@张三 in:#销售 mentions:@me has:file has:link has:record
    is:thread before:2026-05-01 after:2026-04-01 on:昨天

Words are ANDed; several values of one operator are ORed (``from:@a from:@b``). Dates are days in
the asking user's time zone: ``before:D`` is strictly before D, ``after:D`` strictly after D,
``on:D`` that day. Anything the parser cannot honour is a ``QuerySyntaxError`` (HTTP 400) with a
message that says what to fix — never a 500 and never a silent guess.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from hub.errors import HubError

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
OPERATORS = ("from", "in", "before", "after", "on", "has", "is", "mentions", "kind")
HAS_VALUES = ("file", "link", "record")
IS_VALUES = ("thread",)
# kind: what a result is. Chinese names too: the search box is used in both languages.
KIND_VALUES = {
    "message": "message",
    "document": "document",
    "record": "record",
    "消息": "message",
    "文档": "document",
    "记录": "record",
}
# Full-width and typographic quotes people type on Chinese keyboards count as quotes.
_QUOTES = {'"': '"', "\u201c": "\u201d", "\u300c": "\u300d"}
_OPERATOR_RE = re.compile(r"^([a-zA-Z_]+):(.*)$", re.DOTALL)
_DATE_RES = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)
_RELATIVE_DAYS = {"today": 0, "今天": 0, "yesterday": -1, "昨天": -1}


class QuerySyntaxError(HubError):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__("invalid_query", message)


@dataclass(frozen=True)
class TextTerm:
    text: str
    phrase: bool = False
    negated: bool = False


@dataclass
class ParsedQuery:
    terms: list[TextTerm] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)  # names as typed, without "@"
    channels: list[str] = field(default_factory=list)  # names as typed, without "#"
    mentions: list[str] = field(default_factory=list)
    has: set[str] = field(default_factory=set)
    is_thread: bool = False
    kinds: set[str] = field(default_factory=set)  # kind:record — empty: the caller decides
    # Excluded with a leading "-": -from:@张三 -in:#闲聊 -has:file -is:thread -mentions:@me
    not_senders: list[str] = field(default_factory=list)
    not_channels: list[str] = field(default_factory=list)
    not_mentions: list[str] = field(default_factory=list)
    not_has: set[str] = field(default_factory=set)
    not_thread: bool = False
    since: datetime | None = None  # inclusive, aware
    until: datetime | None = None  # exclusive, aware

    @property
    def positive_terms(self) -> list[TextTerm]:
        return [t for t in self.terms if not t.negated]


@dataclass(frozen=True)
class _Raw:
    text: str
    quoted: bool
    negated: bool
    bare_prefix: str  # the characters before the first quote: only there can an operator be


def _split(query: str) -> list[_Raw]:
    """Whitespace-separated words; quotes group; a leading ``-`` negates. ``op:"a b"`` is one word."""
    words: list[_Raw] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        negated = False
        if query[i] == "-" and i + 1 < n and not query[i + 1].isspace():
            negated = True
            i += 1
        buf: list[str] = []
        quoted = False
        prefix = ""
        while i < n and not query[i].isspace():
            char = query[i]
            if char in _QUOTES:
                closing = _QUOTES[char]
                end = query.find(closing, i + 1)
                if end < 0 and closing != '"':
                    end = query.find('"', i + 1)
                if end < 0:
                    raise QuerySyntaxError("unbalanced quotes: close the phrase with a matching quote")
                if not quoted:
                    prefix = "".join(buf)
                buf.append(query[i + 1 : end])
                quoted = True
                i = end + 1
                continue
            if char in _QUOTES.values():
                raise QuerySyntaxError("unbalanced quotes: a closing quote has no opening quote")
            buf.append(char)
            i += 1
        words.append(_Raw("".join(buf), quoted, negated, prefix if quoted else "".join(buf)))
    return words


def parse_date(value: str, tz: tzinfo, today: date) -> date:
    value = value.strip().lower()
    if value in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[value])
    for pattern in _DATE_RES:
        match = pattern.match(value)
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                break
    raise QuerySyntaxError(f"bad date {value!r}: use YYYY-MM-DD (for example 2026-05-01), today or yesterday")


def _start_of(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min).replace(tzinfo=tz)


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


def _earlier(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b < a else a


def parse_query(query: str, tz: tzinfo, *, now: datetime | None = None) -> ParsedQuery:
    """Parse ``query`` for a user in time zone ``tz``. Raises ``QuerySyntaxError``."""
    if len(query) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"the query is longer than {MAX_QUERY_CHARS} characters")
    if "\x00" in query:
        raise QuerySyntaxError("the query contains a NUL character")
    # Full-width colons, hashes and at-signs (：＃＠) fold to ASCII so operators work from any IME.
    query = unicodedata.normalize("NFKC", query)
    today = (now or datetime.now(tz)).astimezone(tz).date()
    parsed = ParsedQuery()
    for raw in _split(query):
        match = _OPERATOR_RE.match(raw.text) if ":" in raw.bare_prefix else None
        if match and not raw.text.startswith(("http:", "https:")):
            _apply_operator(parsed, match.group(1).lower(), match.group(2), raw, tz, today)
            continue
        text = raw.text.strip()
        if not text:
            if raw.quoted:
                raise QuerySyntaxError("empty quotes: put words between the quotes")
            continue
        parsed.terms.append(TextTerm(text, phrase=raw.quoted, negated=raw.negated))
    if len(parsed.terms) > MAX_TERMS:
        raise QuerySyntaxError(f"too many words: use at most {MAX_TERMS}")
    if parsed.terms and not parsed.positive_terms and not _has_filters(parsed):
        raise QuerySyntaxError("a query cannot only exclude words: add a word or an operator to search for")
    if not parsed.terms and not _has_filters(parsed):
        if _has_exclusions(parsed):
            raise QuerySyntaxError("a query cannot only exclude: add a word or an operator to search for")
        raise QuerySyntaxError("the query is empty: type a word to search for")
    if parsed.since and parsed.until and parsed.since >= parsed.until:
        raise QuerySyntaxError("the date range is empty: after/on/before do not overlap")
    return parsed


def _has_exclusions(parsed: ParsedQuery) -> bool:
    return bool(parsed.not_senders or parsed.not_channels or parsed.not_mentions or parsed.not_has or parsed.not_thread)


def _has_filters(parsed: ParsedQuery) -> bool:
    return bool(
        parsed.senders
        or parsed.channels
        or parsed.mentions
        or parsed.has
        or parsed.is_thread
        or parsed.kinds
        or parsed.since
        or parsed.until
    )


def _apply_operator(parsed: ParsedQuery, name: str, value: str, raw: _Raw, tz: tzinfo, today: date) -> None:
    if name not in OPERATORS:
        known = " ".join(f"{op}:" for op in OPERATORS)
        raise QuerySyntaxError(f"unknown operator {name}: — use one of {known}")
    if raw.negated and name == "kind":
        raise QuerySyntaxError("-kind: cannot be excluded: name the kinds you want, e.g. kind:message kind:record")
    if raw.negated and name in ("before", "after", "on"):
        raise QuerySyntaxError(f"-{name}: cannot be excluded: use before:/after: for a date range instead")
    value = value.strip()
    if not value:
        raise QuerySyntaxError(f"{name}: needs a value, for example {_EXAMPLES[name]}")
    if raw.negated:
        _apply_exclusion(parsed, name, value)
    elif name in ("from", "mentions"):
        (parsed.senders if name == "from" else parsed.mentions).append(value.removeprefix("@"))
    elif name == "in":
        parsed.channels.append(value.removeprefix("#"))
    elif name == "has":
        if value.lower() not in HAS_VALUES:
            raise QuerySyntaxError(f"has:{value} is unknown — use has:file, has:link or has:record")
        parsed.has.add(value.lower())
    elif name == "is":
        if value.lower() not in IS_VALUES:
            raise QuerySyntaxError(f"is:{value} is unknown — use is:thread")
        parsed.is_thread = True
    elif name == "kind":
        if value.lower() not in KIND_VALUES:
            raise QuerySyntaxError(f"kind:{value} is unknown — use kind:message, kind:document or kind:record")
        parsed.kinds.add(KIND_VALUES[value.lower()])
    else:
        day = parse_date(value, tz, today)
        if name == "before":
            parsed.until = _earlier(parsed.until, _start_of(day, tz))
        elif name == "after":
            parsed.since = _later(parsed.since, _start_of(day + timedelta(days=1), tz))
        else:  # on
            parsed.since = _later(parsed.since, _start_of(day, tz))
            parsed.until = _earlier(parsed.until, _start_of(day + timedelta(days=1), tz))


def _apply_exclusion(parsed: ParsedQuery, name: str, value: str) -> None:
    if name in ("from", "mentions"):
        (parsed.not_senders if name == "from" else parsed.not_mentions).append(value.removeprefix("@"))
    elif name == "in":
        parsed.not_channels.append(value.removeprefix("#"))
    elif name == "has":
        if value.lower() not in HAS_VALUES:
            raise QuerySyntaxError(f"has:{value} is unknown — use has:file, has:link or has:record")
        parsed.not_has.add(value.lower())
    else:  # is
        if value.lower() not in IS_VALUES:
            raise QuerySyntaxError(f"is:{value} is unknown — use is:thread")
        parsed.not_thread = True


_EXAMPLES = {
    "from": "from:@张三",
    "in": "in:#销售",
    "mentions": "mentions:@me",
    "has": "has:file",
    "is": "is:thread",
    "kind": "kind:record",
    "before": "before:2026-05-01",
    "after": "after:2026-05-01",
    "on": "on:2026-05-01",
}
