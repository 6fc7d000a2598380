"""Reads of the catalog, as SQL written once.

The product list with no filter, search or ordering is what an external
system pages through to mirror the catalog, and the page the API serves
most. Built by the ORM, compiling its SQL was most of the page's cost; here
the statement is written once, at import, from the models' metadata, and
each page only sends it with its LIMIT and OFFSET (a test checks that it
gives the same rows as the ORM's page).
"""

from django.db import connection
from django.db.models import DateTimeField, DecimalField

from catalog.models import Product, ProductModel
from project.api.views import UTCText

_quote = connection.ops.quote_name
_PRODUCTS = _quote(Product._meta.db_table)
_MODELS = _quote(ProductModel._meta.db_table)
_THROUGH = "product_model__"


def _column(name: str, paths: dict[str, str]) -> str:
    if name in paths:
        # A column of the product's model (its foreign key always holds one).
        path = paths[name]
        if not path.startswith(_THROUGH):
            raise ValueError(f"{path}: only the product model's columns are joined")
        field = ProductModel._meta.get_field(path.removeprefix(_THROUGH))
        return f"{_MODELS}.{_quote(field.column)}"
    field = Product._meta.get_field(name)
    column = f"{_PRODUCTS}.{_quote(field.column)}"
    if isinstance(field, DateTimeField):
        # As the ORM's page writes it (UTCText), so both give the same text.
        return UTCText.template % {"expressions": column}
    if isinstance(field, DecimalField):
        # Money as the text the renderer would write for the Decimal
        # ("10.00": a numeric column keeps its scale): PostgreSQL writes it
        # anyway, and neither psycopg nor the renderer converts it twice.
        return f"CAST({column} AS text)"
    return column


def product_list_sql(names: tuple[str, ...], paths: dict[str, str]) -> str:
    """PostgreSQL: ``names`` of every product, by id, a page at a time.

    As ``FastListMixin`` reads them: a name is a product field (a foreign key
    gives its id) or a key of ``paths``, which maps it to a field of the
    product's model (``product_model__brand``). The parameters are the
    page's LIMIT and OFFSET.
    """
    return (
        f"SELECT {', '.join(_column(name, paths) for name in names)}"
        f" FROM {_PRODUCTS} INNER JOIN {_MODELS}"
        f" ON {_PRODUCTS}.{_quote(Product._meta.get_field('product_model').column)}"
        f" = {_MODELS}.{_quote(ProductModel._meta.pk.column)}"
        f" ORDER BY {_PRODUCTS}.{_quote(Product._meta.pk.column)} LIMIT %s OFFSET %s"
    )
