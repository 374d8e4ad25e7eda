"""``manage.py issue_api_token <email>`` — print a new personal API token on the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub import actions
from hub.models import User


class Command(BaseCommand):
    help = "Issue a personal API token for an existing active user; the token is the last line of output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--name", default="cli", help="a label shown in the token list")

    def handle(self, *args: Any, email: str, name: str, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"no user with email {email!r}")
        if not user.is_active:
            raise CommandError(f"user {email!r} is deactivated; reactivate the account first")
        token, key = actions.do_issue_api_token(user, name)
        # Scripts take the last line: nothing else may share it.
        self.stdout.write(f"Issued API token #{token.pk} ({token.name}) for {user.email}. It is shown only once:")
        self.stdout.write(key)
