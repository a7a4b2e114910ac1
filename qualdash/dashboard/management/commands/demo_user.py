from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "qualdash-demo"  # noqa: S105 - a local demo account, printed on purpose


class Command(BaseCommand):
    help = "Create (or reset) the demo user for `make demo` and print its credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        user, created = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
        user.set_password(DEMO_PASSWORD)
        user.save()
        verb = "Created" if created else "Reset"
        self.stdout.write(
            f"{verb} the demo user. Sign in with user name {DEMO_USERNAME!r} "
            f"and password {DEMO_PASSWORD!r}."
        )
