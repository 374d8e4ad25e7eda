"""Reading and rewriting the rich text: the ``XmlFragment`` named ``default`` as written by
Tiptap/y-prosemirror (node names such as ``paragraph``, ``heading``, ``taskItem``; marks as text
formatting attributes such as ``bold``, ``link``). Export to Markdown and sanitised HTML, plain
text for search, and copying one document's content into another (restore)."""

from __future__ import annotations

import html
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from hub.rendering import ALLOWED_PROTOCOLS, sanitize_html

FRAGMENT = "default"  # Tiptap's Collaboration extension uses this field name by default

XmlNode = XmlElement | XmlText


def fragment_of(doc: Doc) -> XmlFragment:
    return doc.get(FRAGMENT, type=XmlFragment)


def doc_from_state(state: bytes) -> Doc:
    doc: Doc = Doc()
    if state:
        doc.apply_update(state)
    return doc


def _children(node: XmlFragment | XmlElement) -> list[XmlNode]:
    return [c for c in node.children if isinstance(c, XmlElement | XmlText)]


def _attributes(node: XmlElement) -> dict[str, Any]:
    return dict(node.attributes)  # type: ignore[call-overload]  # a view of (name, value) pairs


def _attr(node: XmlElement, name: str, default: str = "") -> str:
    value = _attributes(node).get(name)
    return default if value is None else str(value)


def _int_attr(node: XmlElement, name: str, default: int) -> int:
    """A numeric attribute (heading level, list start) as written by any client: garbage such
    as ``"<script>"`` falls back to the default instead of failing the whole export."""
    try:
        return int(_attr(node, name) or default)
    except ValueError:
        return default


# --- mentions ----------------------------------------------------------------------------------

MENTION = "mention"  # Tiptap's Mention node: an inline atom with ``id`` (the user id) and ``label``
MENTION_MARKER = MENTION.encode()  # present in any Yjs update that creates a mention node


def _mention_text(node: XmlElement) -> str:
    return "@" + (_attr(node, "label") or _attr(node, "id"))


def mentioned_user_ids(doc: Doc) -> set[int]:
    """User ids of every mention node. The ids are whatever a client wrote (attacker
    controlled): callers check that each is a member who may read the document."""
    found: set[int] = set()
    stack: list[XmlFragment | XmlElement] = [fragment_of(doc)]
    while stack:
        for child in _children(stack.pop()):
            if not isinstance(child, XmlElement):
                continue
            if child.tag == MENTION:
                raw = _attr(child, "id")
                if raw.isdecimal() and len(raw) < 19:
                    found.add(int(raw))
            else:
                stack.append(child)
    return found


# --- plain text --------------------------------------------------------------------------------


def plain_text(doc: Doc) -> str:
    """Blocks separated by newlines; what search indexes and tests compare."""
    lines: list[str] = []
    _text_blocks(fragment_of(doc), lines)
    return "\n".join(lines)


def _text_blocks(node: XmlFragment | XmlElement, lines: list[str]) -> None:
    inline: list[str] = []
    for child in _children(node):
        if isinstance(child, XmlText):
            inline.append("".join(chunk for chunk, _ in _diff(child)))
        elif child.tag == "hardBreak":
            inline.append("\n")
        elif child.tag == MENTION:
            inline.append(_mention_text(child))
        else:
            if inline:
                lines.append("".join(inline))
                inline = []
            _text_blocks(child, lines)
    if inline:
        lines.append("".join(inline))


def _diff(text: XmlText) -> list[tuple[str, dict[str, Any]]]:
    return [(chunk, attrs or {}) for chunk, attrs in text.diff() if isinstance(chunk, str)]


# --- Markdown ----------------------------------------------------------------------------------


def to_markdown(doc: Doc) -> str:
    blocks = [_md_block(child, "") for child in _children(fragment_of(doc))]
    return "\n\n".join(b for b in blocks if b) + "\n"


def _md_inline(node: XmlFragment | XmlElement) -> str:
    out: list[str] = []
    for child in _children(node):
        if isinstance(child, XmlText):
            for chunk, attrs in _diff(child):
                out.append(_md_marks(chunk, attrs))
        elif child.tag == "hardBreak":
            out.append("  \n")
        elif child.tag == "image":
            out.append(_md_inline_single(child))
        elif child.tag == MENTION:
            out.append(_md_escape(_mention_text(child)))
        else:
            out.append(_md_inline(child))
    return "".join(out)


def _md_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in text)


def _md_marks(chunk: str, attrs: dict[str, Any]) -> str:
    if "code" in attrs:
        return f"`{chunk}`"
    text = _md_escape(chunk)
    if "bold" in attrs:
        text = f"**{text}**"
    if "italic" in attrs:
        text = f"*{text}*"
    if "strike" in attrs:
        text = f"~~{text}~~"
    link = attrs.get("link")
    if isinstance(link, dict) and _safe_href(link.get("href")):
        text = f"[{text}]({link['href']})"
    return text


def _safe_href(href: object) -> bool:
    """The same protocol allow-list as the HTML sanitiser, for Markdown that leaves the hub."""
    if not isinstance(href, str) or not href or any(c in href for c in " \n()<>"):
        return False
    scheme = href.split(":", 1)[0].lower() if ":" in href.split("/", 1)[0] else None
    return scheme is None or scheme in ALLOWED_PROTOCOLS


def _md_block(node: XmlNode, indent: str) -> str:
    if isinstance(node, XmlText):
        return indent + _md_escape(str(node))
    tag = node.tag
    if tag == "paragraph":
        return indent + _md_inline(node)
    if tag == "heading":
        level = max(1, min(6, _int_attr(node, "level", 1)))
        return indent + "#" * level + " " + _md_inline(node)
    if tag == "blockquote":
        inner = "\n\n".join(_md_block(c, "") for c in _children(node))
        return "\n".join(indent + "> " + line for line in inner.splitlines())
    if tag == "codeBlock":
        code = "".join(str(c) for c in _children(node))
        return f"{indent}```{_attr(node, 'language')}\n{code}\n{indent}```"
    if tag == "horizontalRule":
        return indent + "---"
    if tag in ("bulletList", "orderedList", "taskList"):
        return _md_list(node, indent)
    if tag == "table":
        return _md_table(node, indent)
    if tag == "image":
        return indent + _md_inline_single(node)
    return "\n\n".join(_md_block(c, indent) for c in _children(node))


def _md_inline_single(node: XmlElement) -> str:
    src = _attr(node, "src")
    return f"![{_md_escape(_attr(node, 'alt'))}]({src if _safe_href(src) else ''})"


def _md_list(node: XmlElement, indent: str) -> str:
    lines = []
    start = _int_attr(node, "start", 1)
    for number, item in enumerate(_children(node), start=start):
        if not isinstance(item, XmlElement):
            continue
        if node.tag == "orderedList":
            bullet = f"{number}. "
        elif node.tag == "taskList":
            checked = _attr(item, "checked").lower() == "true"
            bullet = "- [x] " if checked else "- [ ] "
        else:
            bullet = "- "
        parts = [_md_block(c, indent + " " * len(bullet)) for c in _children(item)]
        body = "\n".join(parts).lstrip()
        lines.append(indent + bullet + body)
    return "\n".join(lines)


def _md_table(node: XmlElement, indent: str) -> str:
    rows = []
    for row in _children(node):
        if isinstance(row, XmlElement):
            cells = [_md_inline_cells(c) for c in _children(row) if isinstance(c, XmlElement)]
            rows.append(cells)
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    lines = []
    for i, cells in enumerate(rows):
        cells = cells + [""] * (width - len(cells))
        lines.append(indent + "| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append(indent + "|" + " --- |" * width)
    return "\n".join(lines)


def _md_inline_cells(cell: XmlElement) -> str:
    return " ".join(_md_inline(c) if isinstance(c, XmlElement) else _md_escape(str(c)) for c in _children(cell))


# --- HTML --------------------------------------------------------------------------------------

_HTML_BLOCKS = {
    "paragraph": "p",
    "blockquote": "blockquote",
    "bulletList": "ul",
    "orderedList": "ol",
    "taskList": "ul",
    "listItem": "li",
    "taskItem": "li",
    "table": "table",
    "tableRow": "tr",
    "tableHeader": "th",
    "tableCell": "td",
}


def to_html(doc: Doc) -> str:
    """HTML built from the tree, then passed through the one sanitiser of the project: the tree
    is attacker-controlled (any client can write any tag name or attribute into the CRDT)."""
    raw = "".join(_html_node(c) for c in _children(fragment_of(doc)))
    return sanitize_html(raw)


def _html_node(node: XmlNode) -> str:
    if isinstance(node, XmlText):
        return "".join(_html_marks(chunk, attrs) for chunk, attrs in _diff(node))
    tag = node.tag
    inner = "".join(_html_node(c) for c in _children(node))
    if tag == "heading":
        level = max(1, min(6, _int_attr(node, "level", 1)))
        return f"<h{level}>{inner}</h{level}>"
    if tag == "codeBlock":
        return f"<pre><code>{inner}</code></pre>"
    if tag == "horizontalRule":
        return "<hr>"
    if tag == "hardBreak":
        return "<br>"
    if tag == MENTION:
        return html.escape(_mention_text(node))
    if tag == "image":
        src = html.escape(_attr(node, "src"), quote=True)
        return f'<a href="{src}">{html.escape(_attr(node, "alt") or "image")}</a>'
    if tag == "taskItem":
        mark = "☑ " if _attr(node, "checked").lower() == "true" else "☐ "
        return f"<li>{mark}{inner}</li>"
    element = _HTML_BLOCKS.get(tag or "")
    if element is None:
        return inner  # unknown node: keep its text, drop the wrapper
    return f"<{element}>{inner}</{element}>"


def _html_marks(chunk: str, attrs: dict[str, Any]) -> str:
    text = html.escape(chunk)
    if "code" in attrs:
        text = f"<code>{text}</code>"
    if "bold" in attrs:
        text = f"<strong>{text}</strong>"
    if "italic" in attrs:
        text = f"<em>{text}</em>"
    if "strike" in attrs:
        text = f"<s>{text}</s>"
    link = attrs.get("link")
    if isinstance(link, dict) and link.get("href"):
        text = f'<a href="{html.escape(str(link["href"]), quote=True)}">{text}</a>'
    return text


# --- copying (restore) -------------------------------------------------------------------------


def replace_content(target: Doc, source: Doc) -> None:
    """Make ``target``'s fragment equal to ``source``'s, as one ordinary edit on ``target``:
    its own items are deleted and copies inserted, so the restore syncs to every client like any
    other change and nothing of the history is rewritten."""
    fragment = fragment_of(target)
    copies = [_copy(c) for c in _children(fragment_of(source))]
    with target.transaction():
        del fragment.children[0 : len(fragment.children)]
        for copy in copies:
            _append(fragment, copy)


def _copy(node: XmlNode) -> tuple[str | None, dict[str, Any], list[Any]]:
    if isinstance(node, XmlText):
        return (None, {}, _diff(node))
    return (node.tag, _attributes(node), [_copy(c) for c in _children(node)])


def _append(parent: XmlFragment | XmlElement, spec: tuple[str | None, dict[str, Any], list[Any]]) -> None:
    tag, attrs, content = spec
    if tag is None:
        text = parent.children.append(XmlText())
        offset = 0
        for chunk, chunk_attrs in content:
            text.insert(offset, chunk, chunk_attrs or None)
            offset += len(chunk.encode())  # pycrdt's text offsets count UTF-8 bytes
        return
    element = parent.children.append(XmlElement(tag, {k: str(v) for k, v in attrs.items()}))
    for child in content:
        _append(element, child)
