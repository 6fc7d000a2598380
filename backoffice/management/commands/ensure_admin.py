import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Make sure a superuser exists. The first time, create 'admin' with a random "
        "password kept in var/admin-password (readable by you only) and print it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--url", default="http://127.0.0.1:8000/admin/")

    def handle(self, *args, **options):
        username = options["username"]
        password_file = settings.VAR_DIR / "admin-password"
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(
                username, f"{username}@example.com", password
            )
            user.groups.add(Group.objects.get(name="Admin"))
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.touch(mode=0o600)
            password_file.write_text(password + "\n")
        if password_file.exists():
            password = password_file.read_text().strip()
            self.stdout.write(
                f"\nLog in at {options['url']} as {username} / {password}\n"
                "Demo users per role: demo_admin, demo_manager, demo_operator, demo_analyst "
                "(password demo-pass-2024)\n"
            )
        else:
            self.stdout.write(f"\nLog in at {options['url']} with your existing account.\n")
