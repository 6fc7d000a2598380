from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import Brand, Category, Product, ProductModel, Supplier
from catalog.tests.factories import (
    BrandFactory,
    CategoryFactory,
    ProductFactory,
    ProductModelFactory,
    SupplierFactory,
)
from movements import services
from project.api.testing import (
    API,
    client_for,
    fast_password_hasher,  # noqa: F401
    fresh_api_user_cache,  # noqa: F401
)

pytestmark = pytest.mark.django_db
PRODUCTS = f"{API}products/"


@pytest.fixture
def admin_api(role_user):
    return client_for(role_user("Admin"))


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_product_list_row_equals_product_detail(admin_api, stocked_product):
    product = stocked_product(quantity=3, reorder_level=5)
    row = admin_api.get(PRODUCTS).json()["results"][0]
    detail = admin_api.get(f"{PRODUCTS}{product.pk}/").json()
    assert row == detail
    assert row["quantity"] == 3
    assert row["is_low_stock"] is True
    assert row["brand"] == product.product_model.brand_id
    assert row["cost_price"] == "10.00"
    assert row["created_at"].endswith("Z")


def test_products_filter_by_category_brand_supplier_low_stock_and_active(
    admin_api, stocked_product
):
    other_supplier = SupplierFactory()
    low = stocked_product(quantity=1, reorder_level=5)
    plenty = stocked_product(quantity=50, reorder_level=5)
    inactive = stocked_product(quantity=0, is_active=False)
    services.inflow_create(product=plenty, quantity=1, supplier=other_supplier)

    assert _ids(admin_api.get(PRODUCTS, {"category": low.category_id})) == [low.pk]
    brand = plenty.product_model.brand_id
    assert _ids(admin_api.get(PRODUCTS, {"brand": brand})) == [plenty.pk]
    assert _ids(admin_api.get(PRODUCTS, {"supplier": other_supplier.pk})) == [plenty.pk]
    assert _ids(admin_api.get(PRODUCTS, {"low_stock": "true"})) == [low.pk, inactive.pk]
    assert _ids(admin_api.get(PRODUCTS, {"low_stock": "false"})) == [plenty.pk]
    assert _ids(admin_api.get(PRODUCTS, {"is_active": "false"})) == [inactive.pk]
    assert _ids(admin_api.get(PRODUCTS, {"category": 999999999})) == []


def test_products_search_by_title_and_serial_number(admin_api):
    phone = ProductFactory(title="Galaxy phone", serial_number="GAL-001")
    cable = ProductFactory(title="USB cable", serial_number="CAB-777")
    assert _ids(admin_api.get(PRODUCTS, {"search": "galaxy"})) == [phone.pk]
    assert _ids(admin_api.get(PRODUCTS, {"search": "cab-7"})) == [cable.pk]


def test_products_ordering_is_stable_and_descending_works(admin_api):
    a = ProductFactory(title="B", sell_price=Decimal("5"))
    b = ProductFactory(title="A", sell_price=Decimal("5"))
    c = ProductFactory(title="C", sell_price=Decimal("9"))
    assert _ids(admin_api.get(PRODUCTS, {"ordering": "title"})) == [b.pk, a.pk, c.pk]
    assert _ids(admin_api.get(PRODUCTS, {"ordering": "-sell_price"})) == [c.pk, b.pk, a.pk]
    assert _ids(admin_api.get(PRODUCTS, {"ordering": "sell_price"})) == [a.pk, b.pk, c.pk]


def test_products_pagination_default_50_max_500_and_next_links(admin_api):
    model, category = ProductModelFactory(), CategoryFactory()
    Product.objects.bulk_create(
        Product(title=f"P{n}", serial_number=f"S{n:04d}", product_model=model, category=category)
        for n in range(120)
    )
    first = admin_api.get(PRODUCTS).json()
    assert len(first["results"]) == 50
    assert first["previous"] is None
    second = admin_api.get(first["next"]).json()
    assert len(second["results"]) == 50
    assert "page=2" in first["next"]
    third = admin_api.get(second["next"]).json()
    assert len(third["results"]) == 20
    assert third["next"] is None
    every = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert len(set(every)) == 120
    assert len(admin_api.get(PRODUCTS, {"page_size": 500}).json()["results"]) == 120
    too_big = admin_api.get(PRODUCTS, {"page_size": 501})
    assert too_big.status_code == 400
    assert too_big.json()["errors"] == {"page_size": ["Between 1 and 500."]}
    assert admin_api.get(PRODUCTS, {"page": "x"}).json()["code"] == "invalid"


def test_product_create_and_update_never_touch_quantity(admin_api, stocked_product):
    model, category = ProductModelFactory(), CategoryFactory()
    created = admin_api.post(
        PRODUCTS,
        {
            "title": "New",
            "serial_number": "NEW-1",
            "product_model": model.pk,
            "category": category.pk,
            "cost_price": "2.50",
            "sell_price": "4.00",
            "quantity": 999,
        },
    )
    assert created.status_code == 201, created.content
    assert created.json()["quantity"] == 0
    product = stocked_product(quantity=7)
    updated = admin_api.patch(
        f"{PRODUCTS}{product.pk}/", {"sell_price": "20.00", "quantity": 0}, format="json"
    )
    assert updated.status_code == 200
    assert updated.json()["sell_price"] == "20.00"
    product.refresh_from_db()
    assert product.quantity == 7
    assert product.sell_price == Decimal("20.00")


def test_product_create_rejects_duplicate_serial_and_negative_price(admin_api):
    existing = ProductFactory()
    body = {
        "title": "Dup",
        "serial_number": existing.serial_number,
        "product_model": existing.product_model_id,
        "category": existing.category_id,
        "sell_price": "-1",
    }
    response = admin_api.post(PRODUCTS, body)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"serial_number", "sell_price"}
    # Capitalised, as the admin says it.
    assert response.json()["errors"]["serial_number"][0].startswith("Product with this")


def test_product_delete_is_refused_with_409_while_movements_reference_it(
    admin_api, stocked_product
):
    moved = stocked_product(quantity=1)
    response = admin_api.delete(f"{PRODUCTS}{moved.pk}/")
    assert response.status_code == 409
    assert response.json()["code"] == "in_use"
    assert Product.objects.filter(pk=moved.pk).exists()
    unmoved = ProductFactory()
    assert admin_api.delete(f"{PRODUCTS}{unmoved.pk}/").status_code == 204
    assert not Product.objects.filter(pk=unmoved.pk).exists()


def test_brand_delete_is_refused_while_models_use_it(admin_api):
    model = ProductModelFactory()
    response = admin_api.delete(f"{API}brands/{model.brand_id}/")
    assert response.status_code == 409
    assert admin_api.delete(f"{API}brands/{BrandFactory().pk}/").status_code == 204


def test_unknown_product_is_a_json_404(admin_api):
    response = admin_api.get(f"{PRODUCTS}987654321/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert admin_api.get(f"{API}no-such-thing/").json()["code"] == "not_found"


def test_nul_in_a_query_parameter_is_a_400_not_a_500(admin_api):
    assert admin_api.get(PRODUCTS, {"search": "a\x00b"}).status_code == 400


# --- query counts: the same for 1 row and for 500 ------------------------------
def _grow_catalog(kind: str, count: int) -> None:
    if kind == "products":
        model, category = ProductModelFactory(), CategoryFactory()
        start = Product.objects.count()
        Product.objects.bulk_create(
            Product(
                title=f"Q{start + n}",
                serial_number=f"Q{start + n:05d}",
                product_model=model,
                category=category,
            )
            for n in range(count)
        )
    elif kind == "product-models":
        brand = BrandFactory()
        start = ProductModel.objects.count()
        ProductModel.objects.bulk_create(
            ProductModel(brand=brand, name=f"M{start + n}") for n in range(count)
        )
    else:
        model = {"brands": Brand, "categories": Category, "suppliers": Supplier}[kind]
        start = model.objects.count()
        model.objects.bulk_create(model(name=f"{kind} {start + n}") for n in range(count))


def _list_queries(client, url) -> tuple[int, int]:
    client.get(url, {"page_size": 500})  # compiled SQL and caches warm, as in production
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": 500})
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


@pytest.mark.parametrize(
    "url",
    [
        "brands/",
        "categories/",
        "suppliers/",
        "product-models/",
        "products/",
        "products/?low_stock=true&search=Q&ordering=-title",
        "products/?supplier=1&category=1&brand=1",
    ],
)
def test_catalog_list_queries_do_not_grow_with_rows(role_user, url):
    client = client_for(role_user("Admin"))
    kind = url.split("/")[0]
    _grow_catalog(kind, 1)
    one, rows = _list_queries(client, API + url)
    _grow_catalog(kind, 499)
    many, more_rows = _list_queries(client, API + url)
    assert one == many
    if "supplier" not in url:
        assert (rows, more_rows) == (1, 500)


def test_an_unexpected_error_is_a_json_500_and_is_logged(admin_api, monkeypatch, caplog):
    from catalog.api import ProductViewSet

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(ProductViewSet, "list", broken)
    response = admin_api.get(PRODUCTS)
    assert response.status_code == 500
    assert response.json() == {"code": "server_error", "detail": "Server error."}
    assert "Unhandled API error" in caplog.text


def test_a_stock_movement_changes_updated_at_and_updated_after_finds_it(admin_api, stocked_product):
    moved, still = stocked_product(quantity=5), stocked_product(quantity=5)
    before = admin_api.get(f"{PRODUCTS}{moved.pk}/").json()["updated_at"]
    services.outflow_create(product=moved.pk, quantity=1)
    moved.refresh_from_db()
    after = admin_api.get(f"{PRODUCTS}{moved.pk}/").json()["updated_at"]
    assert after > before
    since = moved.updated_at.isoformat()
    assert _ids(admin_api.get(PRODUCTS, {"updated_after": since})) == [moved.pk]
    assert still.pk in _ids(admin_api.get(PRODUCTS, {"updated_after": "2000-01-01T00:00:00Z"}))
    bad = admin_api.get(PRODUCTS, {"updated_after": "yesterday"})
    assert bad.status_code == 400


@pytest.mark.parametrize("param", ["low_stock", "is_active"])
def test_a_boolean_filter_refuses_what_is_not_true_or_false(admin_api, param):
    response = admin_api.get(PRODUCTS, {param: "maybe"})
    assert response.status_code == 400
    assert param in response.json()["errors"]
    assert admin_api.get(PRODUCTS, {param: "1"}).status_code == 200


def test_an_unknown_ordering_field_is_a_400_naming_the_allowed_ones(admin_api):
    response = admin_api.get(PRODUCTS, {"ordering": "-quantity,password"})
    assert response.status_code == 400
    message = response.json()["errors"]["ordering"][0]
    assert "password" in message and "quantity" in message


def test_a_page_past_the_last_is_a_404(admin_api):
    ProductFactory()
    assert admin_api.get(PRODUCTS, {"page": 1}).status_code == 200
    response = admin_api.get(PRODUCTS, {"page": 2})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
