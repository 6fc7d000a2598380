"""Helpers shared by the import and export benchmarks."""

import multiprocessing
import os
import resource
import time
from decimal import Decimal

from django.db import connection, connections, transaction
from django.utils import timezone

from catalog.models import Brand, Category, Product, ProductModel

BRANDS = 20
MODELS_PER_BRAND = 10
CATEGORIES = 20


def catalog_base() -> tuple[list[tuple[str, str, int]], list[tuple[str, int]]]:
    """Brands, models and categories the benchmark rows refer to (created once)."""
    for b in range(BRANDS):
        brand, _ = Brand.objects.get_or_create(name=f"Bench brand {b}")
        for m in range(MODELS_PER_BRAND):
            ProductModel.objects.get_or_create(brand=brand, name=f"Bench model {m}")
    for c in range(CATEGORIES):
        Category.objects.get_or_create(name=f"Bench category {c}")
    models = list(
        ProductModel.objects.filter(brand__name__startswith="Bench brand").values_list(
            "brand__name", "name", "pk"
        )
    )
    categories = list(
        Category.objects.filter(name__startswith="Bench category").values_list("name", "pk")
    )
    return models, categories


def copy_products(prefix: str, count: int) -> float:
    """Insert ``count`` products with PostgreSQL COPY; returns seconds."""
    models, categories = catalog_base()
    now = timezone.now()
    columns = (
        "title, serial_number, product_model_id, category_id, cost_price, sell_price, "
        "quantity, reorder_level, is_active, description, ean, created_at, updated_at"
    )
    started = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {Product._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for i in range(count):
            model = models[i % len(models)]
            category = categories[i % len(categories)]
            copy.write_row(
                (
                    f"Bench product {i} {'=formula' if i % 1000 == 0 else ''}",
                    f"{prefix}{i:07d}",
                    model[2],
                    category[1],
                    Decimal(10 + i % 90) + Decimal("0.50"),
                    Decimal(20 + i % 90) + Decimal("0.99"),
                    0,
                    i % 5,
                    True,
                    "",
                    "",  # no EAN: the column has no database default
                    now,
                    now,
                )
            )
    return time.perf_counter() - started


def in_child(function, *args):
    """Run ``function(*args)`` in a forked process; returns (its result, its peak RSS MB).

    A child of its own measures the memory of the work alone (plus the
    Django process it starts from), not of everything the benchmark did before.
    """
    connections.close_all()
    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe()

    def target():
        try:
            value = function(*args)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            child.send((value, peak, None))
        except Exception as error:  # reported to the parent
            child.send((None, 0, repr(error)))
        finally:
            connections.close_all()
            os._exit(0)

    process = context.Process(target=target)
    process.start()
    value, peak, error = parent.recv()
    process.join()
    if error:
        raise RuntimeError(error)
    return value, round(peak, 1)


def machine() -> dict:
    load1 = os.getloadavg()[0]
    return {
        "cpu_count": os.cpu_count(),
        "load_avg_1m_at_end": round(load1, 2),
        "contention_note": (
            "Other engineers use the same 2 cores; a load average above ~1.5 means "
            "the figures are likely lower than on an idle machine."
        ),
    }


def delete_bench_rows(prefix: str) -> None:
    """One DELETE statement: the ORM's delete() would load every row into memory."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {Product._meta.db_table} WHERE serial_number LIKE %s", [f"{prefix}%"]
        )
