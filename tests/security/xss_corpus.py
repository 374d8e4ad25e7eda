"""A corpus of well-known XSS vectors, shared by the sanitiser tests and the browser tests.

Every payload, if it ever executed, would call ``window.__xss(n)`` with its own number ``n``
(the browser tests install that sentinel before any content arrives, so a hit names the vector
that got through). Payloads come from the usual public catalogues — OWASP's filter-evasion
cheat sheet, the PortSwigger XSS cheat sheet, the DOMPurify/bleach mutation-XSS reports — and
are grouped by the trick they use:

* ``script`` — script elements, split and nested tags, breaking out of attributes/elements;
* ``handler`` — event-handler attributes on elements that fire without a click;
* ``url`` — ``javascript:`` / ``data:`` / ``vbscript:`` URLs in Markdown links and raw HTML,
  entity-encoded, mixed-case, whitespace- and control-character-split;
* ``svg`` — SVG with script, onload, animate/set and xlink:href;
* ``css`` — ``style`` attributes and elements, ``expression()``, ``url(javascript:)``;
* ``mxss`` — mutation XSS: markup that re-parses differently (noscript, template, math/svg
  namespace confusion, comments, xmp, backtick attribute quoting);
* ``markdown`` — malformed Markdown: unclosed links, nested emphasis, reference-style
  links, autolinks, code that must stay text;
* ``unicode`` — RTL override, zero-width characters inside ``javascript``, homoglyphs,
  full-width ``＜script＞``, BOM and NUL tricks.

Plain-text surfaces (display names, channel names, file names) have length limits, so
``SHORT`` lists compact payloads that fit in 60 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Vector:
    n: int
    kind: str
    payload: str

    @property
    def label(self) -> str:
        return f"{self.n:03d}-{self.kind}"


# ``X`` in a template becomes ``__xss(n)`` (an expression that calls the sentinel).
_TEMPLATES: list[tuple[str, str]] = [
    # --- script ---------------------------------------------------------------------------------
    ("script", "<script>X</script>"),
    ("script", "<SCRIPT>X</SCRIPT>"),
    ("script", '"><script>X</script>'),
    ("script", "'><script>X</script><'"),
    ("script", "</textarea></title></style><script>X</script>"),
    ("script", "<scr<script>ipt>X</scr</script>ipt>"),
    ("script", "<script\x0c>X</script>"),
    ("script", '<script src="data:text/javascript,X"></script>'),
    ("script", "<<script>X//<</script>"),
    ("script", "<script/xss>X</script>"),
    # --- handler --------------------------------------------------------------------------------
    ("handler", "<img src=x onerror=X>"),
    ("handler", '<img src="x" onerror="X">'),
    ("handler", "<IMG SRC=x OnErRoR=X>"),
    ("handler", '<img src=x onerror="window&#46;X">'),
    ("handler", "<body onload=X>"),
    ("handler", "<details open ontoggle=X>"),
    ("handler", "<input autofocus onfocus=X>"),
    ("handler", "<video><source onerror=X></video>"),
    ("handler", "<audio src=x onerror=X>"),
    ("handler", "<iframe onload=X></iframe>"),
    ("handler", "<object data=x onerror=X></object>"),
    ("handler", "<marquee onstart=X>m</marquee>"),
    ("handler", "<div style=animation-name:spin onanimationstart=X>"),
    ("handler", "<img/src=x/onerror=X>"),
    ("handler", '<a id="x" tabindex=1 onfocus=X autofocus>x</a>'),
    # --- url -------------------------------------------------------------------------------------
    ("url", "[click](javascript:X)"),
    ("url", "[click](JaVaScRiPt:X)"),
    ("url", "[click](&#106;avascript:X)"),
    ("url", "[click](&#x6A;&#x61;vascript:X)"),
    ("url", "[click](java&#x09;script:X)"),
    ("url", "[click](<javascript:X>)"),
    ("url", "[click](  javascript:X  )"),
    ("url", "[click](data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3MoMSk8L3NjcmlwdD4=)"),
    ("url", "[click](data:text/html,<script>X</script>)"),
    ("url", "[click](vbscript:msgbox(1))"),
    ("url", "![img](javascript:X)"),
    ("url", '![img](x" onerror="X)'),
    ("url", '<a href="javascript:X">click</a>'),
    ("url", '<a href="jav&#x09;ascript:X">click</a>'),
    ("url", '<a href="javascript&colon;X">click</a>'),
    ("url", '<a href=" &#14; javascript:X">click</a>'),
    ("url", "<iframe src=javascript:X></iframe>"),
    ("url", "<embed src=javascript:X>"),
    ("url", "<form action=javascript:X><button>go</button></form>"),
    ("url", "<form><button formaction=javascript:X>go</button></form>"),
    ("url", '<meta http-equiv="refresh" content="0;url=javascript:X">'),
    ("url", '<base href="javascript:X//">'),
    ("url", '<iframe srcdoc="&lt;script&gt;parent.X&lt;/script&gt;"></iframe>'),
    # --- svg -------------------------------------------------------------------------------------
    ("svg", "<svg><script>X</script></svg>"),
    ("svg", "<svg onload=X>"),
    ("svg", "<svg/onload=X>"),
    ("svg", "<svg><animate onbegin=X attributeName=x dur=1s>"),
    ("svg", "<svg><set attributeName=onload to=X />"),
    ("svg", '<svg><a xlink:href="javascript:X"><text x="20" y="20">x</text></a></svg>'),
    ("svg", '<svg><use href="data:image/svg+xml,<svg id=x onload=X>#x"></use></svg>'),
    ("svg", "<svg><foreignObject><img src=x onerror=X></foreignObject></svg>"),
    # --- css -------------------------------------------------------------------------------------
    ("css", '<div style="background:url(javascript:X)">x</div>'),
    ("css", '<span style="width:expression(X)">x</span>'),
    ("css", "<style>@import 'javascript:X';</style>"),
    ("css", "<style>*{background:url('javascript:X')}</style>"),
    ("css", '<link rel="stylesheet" href="javascript:X">'),
    ("css", '<span style="x:\\65 xpression(X)">x</span>'),
    ("css", "<style>@keyframes k{}</style><div style=animation-name:k onanimationend=X>"),
    # --- mxss ------------------------------------------------------------------------------------
    ("mxss", '<noscript><p title="</noscript><img src=x onerror=X>">'),
    ("mxss", "<template><img src=x onerror=X></template>"),
    (
        "mxss",
        "<math><mtext><table><mglyph><style><!--</style>"
        '<img title="--&gt;&lt;/mglyph&gt;&lt;img&Tab;src=1&Tab;onerror=X&gt;">',
    ),
    ("mxss", '<svg></p><style><a id="</style><img src=1 onerror=X>">'),
    ("mxss", "<form><math><mtext></form><form><mglyph><style></math><img src onerror=X>"),
    ("mxss", "<math><style><img src=x onerror=X></style></math>"),
    ("mxss", '<!--<img src="--><img src=x onerror=X//">'),
    ("mxss", '<xmp><p title="</xmp><img src=x onerror=X>">'),
    ("mxss", '<noembed><p title="</noembed><img src=x onerror=X>">'),
    ("mxss", "<img src=`x` onerror=`X`>"),
    ("mxss", "<a href=`javascript:X`>x</a>"),
    ("mxss", '<title><a title="</title><img src=x onerror=X>">'),
    ("mxss", "<textarea><img src=x onerror=X></textarea>"),
    ("mxss", "<select><template><style><img src=x onerror=X></style></template></select>"),
    # --- markdown --------------------------------------------------------------------------------
    ("markdown", "[unclosed](javascript:X"),
    ("markdown", "***[x](javascript:X)***"),
    ("markdown", "**_~~[x](javascript:X)~~_**"),
    ("markdown", "[x][evil]\n\n[evil]: javascript:X"),
    ("markdown", "[x][evil]\n\n[evil]: <javascript:X> 'title'"),
    ("markdown", "<javascript:X>"),
    ("markdown", '<https://hub.test/"onmouseover="X>'),
    ("markdown", '[x](https://hub.test/" onmouseover="X)'),
    ("markdown", "`<img src=x onerror=X>`"),
    ("markdown", "```html\n<script>X</script>\n```"),
    ("markdown", "| a | b |\n| - | - |\n| <img src=x onerror=X> | [c](javascript:X) |"),
    ("markdown", "> <script>X</script>\n>> [x](javascript:X)"),
    ("markdown", "- [x](javascript:X)\n  - <svg onload=X>"),
    ("markdown", "[![x](javascript:X)](javascript:X)"),
    ("markdown", "[a]: javascript:X\n[a]"),
    # --- unicode ---------------------------------------------------------------------------------
    ("unicode", "\u202e<script>X</script>\u202c"),
    ("unicode", "[click](java\u200dscript:X)"),
    ("unicode", "[click](java\u200bscript:X)"),
    ("unicode", "[click](\u0458avascript:X)"),  # Cyrillic је instead of Latin j
    ("unicode", "＜script＞X＜/script＞"),
    ("unicode", "\ufeff<script>X</script>"),
    ("unicode", "<scr\x00ipt>X</scr\x00ipt>"),
    ("unicode", "<img src=x onerror=\u2028X>"),
    ("unicode", "[click](\u3000javascript:X)"),
    ("unicode", '<a href="\u2029javascript:X">x</a>'),
]

# Compact payloads for short plain-text fields (names are limited to ~60-100 characters).
_SHORT_TEMPLATES: list[tuple[str, str]] = [
    ("script", "<script>X</script>"),
    ("handler", "<img src=x onerror=X>"),
    ("svg", "<svg/onload=X>"),
    ("url", "[x](javascript:X)"),
    ("mxss", '<noscript><p title="</noscript><img src onerror=X>">'),
    ("css", '<b style="x:expression(X)">b</b>'),
    ("unicode", "\u202e＜script＞X"),
    ("handler", '"><details open ontoggle=X>'),
]


# A lone ``X`` (not inside a word such as base64 text) is the placeholder.
_PLACEHOLDER = re.compile(r"(?<![A-Za-z0-9])X(?![A-Za-z0-9])")


def _build(templates: list[tuple[str, str]], start: int) -> list[Vector]:
    return [
        Vector(start + i, kind, _PLACEHOLDER.sub(f"__xss({start + i})", text))
        for i, (kind, text) in enumerate(templates)
    ]


VECTORS: list[Vector] = _build(_TEMPLATES, 1)
SHORT: list[Vector] = _build(_SHORT_TEMPLATES, 900)
KINDS = sorted({v.kind for v in VECTORS})

# The sentinel page script: install before content arrives. ``__xss`` records hits;
# ``securitypolicyviolation`` counts what the CSP had to block (the sanitiser's misses that
# the second wall caught) separately, with the blocked directive for the report.
SENTINEL_JS = """
window.__xss_hits = [];
window.__xss = (n) => { window.__xss_hits.push(n); };
window.__csp_blocks = [];
document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp_blocks.push(e.violatedDirective + ' ' + (e.sample || e.blockedURI || ''));
});
"""
