from django.core.management.base import BaseCommand, CommandError

from catalog.models import Product
from movements.selectors import ledger_differences


class Command(BaseCommand):
    help = "Recompute every product's stock from its movements and report any difference."

    def handle(self, *args, **options):
        differences = ledger_differences()
        if differences:
            for diff in differences:
                self.stderr.write(
                    f"{diff.serial_number} (id {diff.product_id}): recorded {diff.recorded}, "
                    f"movements say {diff.expected}"
                )
            raise CommandError(
                f"Ledger inconsistent: {len(differences)} product(s) differ from their movements.",
                returncode=1,
            )
        count = Product.objects.count()
        self.stdout.write(f"Ledger consistent: {count} product(s) match their movements.")
