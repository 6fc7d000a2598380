from django.core.management.base import BaseCommand, CommandError

from catalog.models import Product
from movements.rollups import DAY_TOTALS, rollup_differences, totals_differences
from movements.selectors import ledger_differences

# Rollup differences listed at most; the count says when there are more.
ROLLUP_LINES = 1000


class Command(BaseCommand):
    help = (
        "Recompute every product's stock and daily rollups from its movements "
        "and report any difference."
    )

    def handle(self, *args, **options):
        differences = ledger_differences()
        for diff in differences:
            self.stderr.write(
                f"{diff.serial_number} (id {diff.product_id}): recorded {diff.recorded}, "
                f"movements say {diff.expected}"
            )
        rollups = rollup_differences(limit=ROLLUP_LINES)
        for diff in rollups:
            self.stderr.write(
                f"Daily rollup of product id {diff.product_id} on {diff.day}, {diff.column}: "
                f"recorded {_shown(diff.recorded)}, movements say {_shown(diff.expected)}"
            )
        totals = totals_differences(limit=ROLLUP_LINES)
        for diff in totals:
            where = (
                f"Day total of {diff.key}"
                if diff.table == DAY_TOTALS
                else f"30-day sales of product id {diff.key}"
            )
            self.stderr.write(
                f"{where}, {diff.column}: recorded {_shown(diff.recorded)}, "
                f"daily rollups say {_shown(diff.expected)}"
            )
        problems = []
        if differences:
            problems.append(f"{len(differences)} product(s) differ from their movements")
        if rollups:
            product_days = len({(diff.product_id, diff.day) for diff in rollups})
            problems.append(
                f"{product_days} daily rollup(s) (product and day) differ from the movements "
                "(python manage.py rebuild_rollups recomputes them)"
            )
        if totals:
            rows = len({(diff.table, diff.key) for diff in totals})
            problems.append(
                f"{rows} day total(s) or 30-day product sales differ from the daily rollups "
                "(python manage.py rebuild_rollups recomputes them)"
            )
        if problems:
            raise CommandError(f"Ledger inconsistent: {'; '.join(problems)}.", returncode=1)
        count = Product.objects.count()
        self.stdout.write(
            f"Ledger consistent: {count} product(s) match their movements, "
            "and so do the daily rollups and their day and 30-day totals."
        )


def _shown(value) -> str:
    return "no row" if value is None else str(value)
