"""Server-rendered pages: the web app shell, its service worker, and the invitation page."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from hub import actions, queries, ratelimit
from hub.apicore import client_ip
from hub.errors import HubError
from hub.models import User

# The committed build of frontend/ (a fixed place in the source tree, not a setting).
WEBAPP_DIR = Path(__file__).resolve().parent.parent / "static" / "app"


@lru_cache(maxsize=4)
def _webapp_assets(mtime: float) -> dict[str, list[str]]:
    manifest = json.loads((WEBAPP_DIR / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest.get("src/main.tsx", {})
    js = [f"app/{entry['file']}"] if "file" in entry else []
    return {"js": js, "css": [f"app/{c}" for c in entry.get("css", [])]}


def webapp_assets() -> dict[str, list[str]]:
    """The built bundle's hashed file names, from Vite's manifest (frontend/, docs/webapp.md)."""
    try:
        return _webapp_assets((WEBAPP_DIR / "manifest.json").stat().st_mtime)
    except (OSError, ValueError):
        return {"js": [], "css": []}


@ensure_csrf_cookie
def home(request: HttpRequest, client_path: str = "") -> HttpResponse:
    """The web app shell at ``/`` and its client-side routes ``/app/...`` (signed-in only)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path()) if client_path else redirect("account_login")
    assert isinstance(request.user, User)
    return render(request, "hub/app.html", {"me": queries.me_payload(request.user), "webapp": webapp_assets()})


@login_not_required
def service_worker(request: HttpRequest) -> FileResponse:
    """The PWA service worker, served from the root so that its scope can be the whole app."""
    path = WEBAPP_DIR / "sw.js"
    if not path.is_file():
        raise Http404("service worker not built")
    response = FileResponse(path.open("rb"), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Shows who invites you where; signing in (or up) brings you back here to accept.

    Bad, expired, revoked or used-up tokens, and invitations meant for another address, render a
    clear page with a 4xx status, never a 500. Someone already in the workspace goes straight in.
    """
    user = request.user if isinstance(request.user, User) and request.user.is_authenticated else None
    try:
        ratelimit.check_invitation_rate(client_ip(request))
        invitation = actions.get_invitation(token)
        if user is not None and queries.is_active_member(user, invitation.workspace_id):
            request.session.pop("pending_invitation", None)
            return redirect("home")
        actions.check_invitation_usable(invitation, user)
        if user is None:
            request.session["pending_invitation"] = token
            return render(request, "hub/invitation.html", {"invitation": invitation, "signed_in": False})
        if request.method == "POST":
            actions.do_accept_invitation(user, token, ip=client_ip(request))
            request.session.pop("pending_invitation", None)
            return redirect("home")
    except HubError as exc:
        return render(request, "hub/invitation_error.html", {"error": exc}, status=exc.status)
    return render(request, "hub/invitation.html", {"invitation": invitation, "signed_in": True})
