from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from catalog.models import Product
from movements.demo import reset_demo_tables, seed_demo
from movements.demo_catalog import DEMO_USERS


class Command(BaseCommand):
    help = (
        "Fill an empty catalog with deterministic demo data: brands, models, categories, "
        "suppliers, products, 90 days of movements and one demo user per role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=200)
        parser.add_argument("--movements", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=42, help="Same seed, same data.")
        parser.add_argument(
            "--password", default="demo-pass-2024", help="Password of the demo users."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Empty the catalog and the ledger first (PostgreSQL only).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing (and succeed) when products already exist.",
        )

    def handle(self, *args, **options):
        products, movements = options["products"], options["movements"]
        if products < 0 or movements < 0:
            raise CommandError("--products and --movements cannot be negative.")
        if movements and not products:
            raise CommandError("Movements need products: give --products as well.")
        if options["reset"]:
            if connection.vendor != "postgresql":
                raise CommandError(
                    "--reset works on PostgreSQL only; with the embedded SQLite database, "
                    "delete var/db.sqlite3 and run migrate instead."
                )
            reset_demo_tables()
        existing = Product.objects.count()
        if existing:
            if options["if_empty"]:
                self.stdout.write(f"Demo data skipped: {existing} product(s) already exist.")
                return
            raise CommandError(
                f"The catalog already has {existing} product(s); seed_demo fills an empty "
                "catalog. Use --reset to empty it first."
            )
        result = seed_demo(
            products=products,
            movements=movements,
            seed=options["seed"],
            password=options["password"],
        )
        self.stdout.write(
            f"Seeded {result.products} products, {result.inflows} inflows and "
            f"{result.outflows} outflows in {result.seconds:.1f} s."
        )
        self.stdout.write(
            f"Demo users (password: {options['password']}): "
            + ", ".join(f"{user} ({role})" for user, role in DEMO_USERS.items())
        )
