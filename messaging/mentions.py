"""Finding @mentions in a message body."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.models import Member

# @name up to whitespace or punctuation; Chinese names are runs of CJK characters.
MENTION_RE = re.compile(r"(?<![\w@])@([\w\u3400-\u9fff.\-]{1,40})")
BROADCAST_NAMES = frozenset({"all", "channel", "here", "所有人", "全体成员"})


@dataclass(frozen=True)
class Mentions:
    user_ids: list[int]
    broadcast: bool


def find_mentions(body: str, candidates: list[Member]) -> Mentions:
    """Resolve @tokens against display names and email local parts of ``candidates``."""
    tokens = {match.group(1).rstrip(".-").lower() for match in MENTION_RE.finditer(body)}
    if not tokens:
        return Mentions([], False)
    ids: list[int] = []
    for member in candidates:
        names = {member.user.name.lower(), member.user.email.split("@", 1)[0].lower()}
        if names & tokens:
            ids.append(member.user_id)
    return Mentions(sorted(ids), bool(tokens & BROADCAST_NAMES))
