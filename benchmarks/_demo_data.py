"""The demo catalog and ledger the dashboard and API benchmarks run on."""

from django.contrib.auth import get_user_model

from catalog.models import Product
from movements.demo import reset_demo_tables, seed_demo
from movements.models import Inflow, Outflow

PASSWORD = "bench-demo-pass"  # noqa: S105 - demo users of a throwaway database


def ensure_demo_data(*, products: int, movements: int) -> None:
    """Seed ``products`` and ``movements`` unless the bench database holds them.

    Reused only when the product count matches and there are at least as many
    movements: a database seeded for a smaller benchmark (the API's 200,000
    movements) must not stand in for the dashboard's 1,000,000.
    """
    if not demo_data_present(products=products, movements=movements):
        reset_demo_tables()
        seed_demo(products=products, movements=movements, seed=42, password=PASSWORD)


def demo_data_present(*, products: int, movements: int) -> bool:
    """The database holds exactly ``products`` products, at least ``movements``, the demo users."""
    return (
        Product.objects.count() == products
        and Inflow.objects.count() + Outflow.objects.count() >= movements
        and get_user_model().objects.filter(username="demo_operator").exists()
    )
