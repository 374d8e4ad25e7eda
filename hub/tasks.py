"""Background jobs of ``hub`` (run by the django-tasks worker that ``serve`` starts)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

from hub.models import Invitation


@task()
def send_invitation_email(invitation_id: int, url: str) -> bool:
    """Mail the invitation link. The link carries the only copy of the token (the database keeps
    its hash), so it travels in the task arguments; the result row is pruned with the others.

    Returns False (and sends nothing) when the invitation was revoked or deleted meanwhile.
    """
    invitation = (
        Invitation.objects.select_related("workspace", "partner", "created_by").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.revoked_at is not None or not invitation.email:
        return False
    context = {"invitation": invitation, "url": url, "inviter": invitation.created_by}
    subject = render_to_string("hub/email/invitation_subject.txt", context).strip()
    body = render_to_string("hub/email/invitation_message.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    return True
