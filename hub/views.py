"""Server-rendered pages: the landing page and the invitation acceptance page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from hub import actions, queries
from hub.apicore import client_ip
from hub.errors import HubError
from hub.models import User


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("account_login")
    assert isinstance(request.user, User)
    return render(request, "hub/home.html", {"me": queries.me_payload(request.user)})


@login_not_required
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Shows who invites you where; signing in (or up) brings you back here to accept.

    Bad, expired, revoked or used-up tokens render a clear page with a 4xx status, never a 500.
    """
    try:
        invitation = actions.get_invitation(token)
        actions.check_invitation_usable(invitation, None)
    except HubError as exc:
        return render(request, "hub/invitation_error.html", {"error": exc}, status=exc.status)
    if not request.user.is_authenticated:
        request.session["pending_invitation"] = token
        return render(request, "hub/invitation.html", {"invitation": invitation, "signed_in": False})
    if request.method == "POST":
        assert isinstance(request.user, User)
        try:
            actions.do_accept_invitation(request.user, token, ip=client_ip(request))
        except HubError as exc:
            return render(request, "hub/invitation_error.html", {"error": exc}, status=exc.status)
        request.session.pop("pending_invitation", None)
        return redirect("home")
    return render(request, "hub/invitation.html", {"invitation": invitation, "signed_in": True})
