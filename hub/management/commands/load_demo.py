"""``manage.py load_demo`` — create the demo workspace (or report the existing one)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from hub.demo import DEMO_PASSWORD, accounts_table, load_demo


def print_accounts(write: Any) -> None:
    write(f"Demo sign-in accounts (password for all: {DEMO_PASSWORD}):")
    for email, name, role in accounts_table():
        write(f"  {email:<32} {name:<16} {role}")


class Command(BaseCommand):
    help = "Load the deterministic demo workspace (杭州西湖茶业有限公司). Safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        data = load_demo()
        verb = "Created" if data.created else "Found existing"
        self.stdout.write(f"{verb} demo workspace {data.workspace.name} (id {data.workspace.pk}).")
        print_accounts(self.stdout.write)
