"""The admin's product and outflow lists and searches on the database as it is.

Times each page of issue 13's table with Django's test client as a logged-in
superuser: one warm-up request, then the median of 3 (milliseconds, the
whole request: queries, template, middleware). It reads what the database
holds and seeds nothing: the scale benchmark seeds 1,000,000 products and
10,000,000 movements first, then calls ``run()``.

- ``product_list_ms``: the first page of the product list, target <= 150;
- ``product_search_word_ms``: a search for one word of the titles (``word``,
  by default the brand of the middle product), target <= 150;
- ``product_search_sku_ms``: a search for an exact SKU, target <= 50;
- ``product_page_5000_ms``: page 5,000 (or the last page of a smaller
  catalog), target <= 300;
- ``outflow_list_ms``: the first page of the outflow list, target <= 150;
- ``outflow_search_sku_ms``: the outflows of one product by its SKU, <= 200;
- ``db_ms``: for each page, the median time of its queries alone.
"""

import statistics
import time

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from catalog.models import Product
from movements.models import Outflow

TARGETS_MS = {
    "product_list_ms": 150,
    "product_search_word_ms": 150,
    "product_search_sku_ms": 50,
    "product_page_5000_ms": 300,
    "outflow_list_ms": 150,
    "outflow_search_sku_ms": 200,
}
DEEP_PAGE = 5_000
PER_PAGE = 50  # catalog.admin.CatalogAdmin.list_per_page


def _timed_get(client: Client, url: str, params: dict) -> tuple[float, float]:
    """The request's time and its queries' time, in milliseconds."""
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(url, params)
        elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"{url} {params}: HTTP {response.status_code}")
    return elapsed * 1000, sum(float(query["time"]) for query in queries.captured_queries) * 1000


def _median_ms(client: Client, url: str, params: dict, repeat: int) -> tuple[float, float]:
    _timed_get(client, url, params)  # warm-up: plans, buffers, templates
    runs = [_timed_get(client, url, params) for _ in range(repeat)]
    return tuple(round(statistics.median(run[i] for run in runs), 1) for i in (0, 1))


def _middle_product() -> Product:
    """A product from the middle of the id range, found by the primary key."""
    ids = Product.objects.order_by("pk").values_list("pk", flat=True)
    first, last = ids.first(), ids.last()
    return Product.objects.filter(pk__gte=(first + last) // 2).order_by("pk").first()


def run(*, word: str | None = None, repeat: int = 3, **_) -> dict:
    product = _middle_product()
    if product is None:
        raise RuntimeError("No products: seed the database first (bench scale or seed).")
    sold = Outflow.objects.filter(product_id__gte=product.pk).order_by("product_id").first()
    sold_sku = sold.product.serial_number if sold else product.serial_number
    word = word or product.title.split()[0]
    product_count = Product.objects.order_by().values("pk")[: DEEP_PAGE * PER_PAGE + 1].count()
    deep_page = max(1, min(DEEP_PAGE, -(-product_count // PER_PAGE)))

    user, _ = get_user_model().objects.get_or_create(
        username="bench_admin_lists", defaults={"is_staff": True, "is_superuser": True}
    )
    products_url, outflows_url = "/admin/catalog/product/", "/admin/movements/outflow/"
    pages = {
        "product_list_ms": (products_url, {}),
        "product_search_word_ms": (products_url, {"q": word}),
        "product_search_sku_ms": (products_url, {"q": product.serial_number}),
        "product_page_5000_ms": (products_url, {"p": deep_page}),
        "outflow_list_ms": (outflows_url, {}),
        "outflow_search_sku_ms": (outflows_url, {"q": sold_sku}),
    }
    # The pages as production serves them, minus collectstatic (plain static
    # storage) and the test client's host check.
    with override_settings(
        ALLOWED_HOSTS=["testserver"],
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        client = Client()
        client.force_login(user)
        timed = {name: _median_ms(client, *page, repeat) for name, page in pages.items()}
    figures = {name: total for name, (total, _) in timed.items()}
    return {
        "benchmark": "admin_lists",
        **figures,
        # The database's share: on a busy machine the rest (templates) grows.
        "db_ms": {name: db for name, (_, db) in timed.items()},
        "targets_ms": TARGETS_MS,
        "met": all(figures[name] <= target for name, target in TARGETS_MS.items()),
        "word": word,
        "sku": product.serial_number,
        "outflow_sku": sold_sku,
        "deep_page": deep_page,
    }
