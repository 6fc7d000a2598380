from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

# Any constant works; it names the lock that every migrating container takes.
MIGRATION_LOCK_ID = 7_405_113


class Command(BaseCommand):
    help = "Run migrate under a PostgreSQL advisory lock, so containers never migrate at once."

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            call_command("migrate", interactive=False)
            return
        with connection.cursor() as cursor:
            # Blocks until any other container's migrate has finished; the
            # second one then finds nothing left to apply.
            cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_ID])
            try:
                call_command("migrate", interactive=False)
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])
