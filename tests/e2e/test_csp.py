"""The Content-Security-Policy in a real browser: markup that slipped past the sanitiser still
cannot run script. Each probe would set a sentinel if it executed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Server, sign_in

pytestmark = pytest.mark.browser

PROBES = [
    '<img src="/nowhere.png" onerror="window.__pwned = \'img-onerror\'">',
    "<svg><script>window.__pwned = 'svg-script'</script></svg>",
    '<a id="js-link" href="javascript:window.__pwned=\'js-url\'">x</a>',
    "<iframe srcdoc=\"<script>parent.__pwned = 'srcdoc'</script>\"></iframe>",
]


def test_injected_markup_cannot_run_script(new_context: Any, server: Server) -> None:
    page = new_context().new_page()
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    sign_in(page, "alice@e2e.test")
    page.evaluate(
        """() => { window.__violations = 0;
                   document.addEventListener('securitypolicyviolation', () => { window.__violations += 1; }); }"""
    )
    for probe in PROBES:
        page.evaluate(
            "html => { const d = document.createElement('div'); d.innerHTML = html; document.body.append(d); }", probe
        )
    # An inline <script> element added by code (the classic stored-XSS payload) is refused too.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.__pwned = 1'; document.body.append(s); }"
    )
    page.locator("#js-link").click()
    page.wait_for_function("() => window.__violations >= 3")
    assert page.evaluate("() => window.__pwned") is None
    assert violations, "the browser reported no CSP violation"
