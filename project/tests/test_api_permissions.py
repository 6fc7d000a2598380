"""Who may do what on /api/v1/: every endpoint x every role, from one table."""

import itertools

import pytest

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

# metrics: money figures, so not for Operators (as on the dashboard).
MATRIX = """
endpoint                Admin  Manager  Operator  Analyst  norole  anonymous
brands.list             200    200      200       200      403     401
brands.create           201    201      403       403      403     401
brands.retrieve         200    200      200       200      404     401
brands.update           200    200      403       403      404     401
brands.delete           204    204      403       403      404     401
categories.list         200    200      200       200      403     401
categories.create       201    201      403       403      403     401
categories.retrieve     200    200      200       200      404     401
categories.update       200    200      403       403      404     401
categories.delete       204    204      403       403      404     401
suppliers.list          200    200      200       200      403     401
suppliers.create        201    201      403       403      403     401
suppliers.retrieve      200    200      200       200      404     401
suppliers.update        200    200      403       403      404     401
suppliers.delete        204    204      403       403      404     401
product-models.list     200    200      200       200      403     401
product-models.create   201    201      403       403      403     401
product-models.retrieve 200    200      200       200      404     401
product-models.update   200    200      403       403      404     401
product-models.delete   204    204      403       403      404     401
products.list           200    200      200       200      403     401
products.create         201    201      403       403      403     401
products.retrieve       200    200      200       200      404     401
products.update         200    200      403       403      404     401
products.delete         204    204      403       403      404     401
products.movements      200    200      200       200      404     401
inflows.list            200    200      200       200      403     401
inflows.create          201    403      201       403      403     401
inflows.retrieve        200    200      200       200      404     401
inflows.update          405    403      403       403      404     401
inflows.delete          405    403      403       403      404     401
outflows.list           200    200      200       200      403     401
outflows.create         201    403      201       403      403     401
outflows.retrieve       200    200      200       200      404     401
outflows.update         405    403      403       403      404     401
outflows.delete         405    403      403       403      404     401
metrics                 200    200      403       200      403     401
schema                  200    200      200       200      200     200
"""

_rows = [line.split() for line in MATRIX.strip().splitlines()]
ROLES = _rows[0][1:]
EXPECTED = {row[0]: dict(zip(ROLES, row[1:], strict=True)) for row in _rows[1:]}
_unique = itertools.count()


def _name(prefix: str) -> str:
    return f"api-matrix {prefix} {next(_unique)}"


class World:
    """The objects the requests act on; deletions get a fresh, unreferenced one."""

    def __init__(self, stocked_product, supplier):
        self.supplier = supplier
        self.product = stocked_product(quantity=10)
        self.inflow = services.inflow_create(product=self.product, quantity=1, supplier=supplier)
        self.outflow = services.outflow_create(product=self.product, quantity=1)


CATALOG = {
    "brands": (BrandFactory, lambda w: {"name": _name("Brand")}, {"description": "d"}),
    "categories": (CategoryFactory, lambda w: {"name": _name("Cat")}, {"description": "d"}),
    "suppliers": (SupplierFactory, lambda w: {"name": _name("Sup")}, {"phone": "123"}),
    "product-models": (
        ProductModelFactory,
        lambda w: {"brand": BrandFactory().pk, "name": _name("Model")},
        {"description": "d"},
    ),
    "products": (
        ProductFactory,
        lambda w: {
            "title": "T",
            "serial_number": _name("SN"),
            "product_model": w.product.product_model_id,
            "category": w.product.category_id,
        },
        {"sell_price": "1.00"},
    ),
}


def _requests():
    calls = {}
    for resource, (factory, body, change) in CATALOG.items():
        url = f"{API}{resource}/"
        calls |= {
            f"{resource}.list": lambda c, w, url=url: c.get(url),
            f"{resource}.create": lambda c, w, url=url, body=body: c.post(url, body(w)),
            f"{resource}.retrieve": lambda c, w, url=url, f=factory: c.get(f"{url}{f().pk}/"),
            f"{resource}.update": lambda c, w, url=url, f=factory, ch=change: c.patch(
                f"{url}{f().pk}/", ch
            ),
            f"{resource}.delete": lambda c, w, url=url, f=factory: c.delete(f"{url}{f().pk}/"),
        }
    for kind in ("inflows", "outflows"):
        url = f"{API}{kind}/"
        calls |= {
            f"{kind}.list": lambda c, w, url=url: c.get(url),
            f"{kind}.retrieve": lambda c, w, url=url, k=kind: c.get(
                f"{url}{getattr(w, k[:-1]).pk}/"
            ),
            f"{kind}.update": lambda c, w, url=url, k=kind: c.put(
                f"{url}{getattr(w, k[:-1]).pk}/", {"quantity": 5}
            ),
            f"{kind}.delete": lambda c, w, url=url, k=kind: c.delete(
                f"{url}{getattr(w, k[:-1]).pk}/"
            ),
        }
    calls["inflows.create"] = lambda c, w: c.post(
        f"{API}inflows/", {"product": w.product.pk, "quantity": 1, "supplier": w.supplier.pk}
    )
    calls["outflows.create"] = lambda c, w: c.post(
        f"{API}outflows/", {"product": w.product.pk, "quantity": 1}
    )
    calls["products.movements"] = lambda c, w: c.get(f"{API}products/{w.product.pk}/movements/")
    calls["metrics"] = lambda c, w: c.get(f"{API}metrics/")
    calls["schema"] = lambda c, w: c.get(f"{API}schema/")
    return calls


REQUESTS = _requests()


def test_the_table_covers_every_request():
    assert set(EXPECTED) == set(REQUESTS)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(role, role_user, django_user_model, stocked_product, supplier):
    if role == "anonymous":
        user = None
    elif role == "norole":
        user = django_user_model.objects.create_user("norole", password="x-pass-123456")
    else:
        user = role_user(role)
    client = client_for(user)
    world = World(stocked_product, supplier)

    actual, expected = {}, {}
    for name, call in REQUESTS.items():
        response = call(client, world)
        actual[name] = str(response.status_code)
        wanted = EXPECTED[name][role]
        expected[name] = wanted
        if response.status_code >= 400:
            assert response["Content-Type"] == "application/json", name
            assert {"code", "detail"} <= set(response.json()), name
    assert actual == expected
