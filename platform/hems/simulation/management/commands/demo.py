"""``manage.py demo``: the demo user and their home of devices, created once."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from hems.devices.models import Home
from hems.plugins import registry


class Command(BaseCommand):
    help = "Create the demo user (DEMO_USERNAME / DEMO_PASSWORD) with one device of every installed kind, once."

    def handle(self, *args, **options):
        username = os.environ.get("DEMO_USERNAME", "demo")
        password = os.environ.get("DEMO_PASSWORD", "demo-password-1")
        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
                user.save()
                Home.of(user)
                for kind in sorted(registry().kinds.values(), key=lambda k: k.key):
                    if kind.example:
                        device = kind.model(name=f"Demo {kind.label.lower()}", owner=user, **dict(kind.example))
                        device.full_clean()
                        device.save()
        verb = "Created" if created else "Kept"
        # The address the web server prints on start-up, then where to go on it.
        where = "Sign in to the dashboard at / with it"
        if settings.HEMS_GRAPHIQL:
            where += "; GraphiQL at /graphql/ runs its loginUser mutation."
        else:
            where += "; API clients POST the loginUser mutation to /graphql/ (HEMS_GRAPHIQL=true serves GraphiQL)."
        self.stdout.write(
            f"{verb} the demo user: username {username!r}, password {password!r} "
            f"({user.devices.count()} devices). {where}"
        )
