"""Import/export columns of the catalog: the one definition of columns and rules.

Each Resource lists its columns; each column's widget (``dataio.resources``)
holds its rules (type, required, length, sign). The admin's import and export
and the set-based import and streaming export in ``dataio`` read the very
same fields, so the preview, the import and the export agree.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields

from catalog.models import Brand, Category, Product, ProductModel, Supplier
from catalog.validators import normalize_cnpj, validate_cnpj, validate_gtin
from dataio.resources import (
    FlagWidget,
    MoneyWidget,
    NameForeignKeyWidget,
    TextWidget,
    TransferResource,
    WholeNumberWidget,
    as_text,
)


class CNPJWidget(TextWidget):
    """A CNPJ as the model stores it: 14 characters, check digits verified."""

    def __init__(self):
        super().__init__(max_length=18)

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value, row, **kwargs)
        if not text:
            return ""
        try:
            validate_cnpj(text)
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None
        # Rows are staged and written in SQL: the model's save never sees them.
        return normalize_cnpj(text)


class GTINWidget(TextWidget):
    """An EAN/GTIN: 8, 12, 13 or 14 digits with the right check digit."""

    def __init__(self):
        super().__init__(max_length=14)

    def clean(self, value, row=None, **kwargs):
        text = super().clean(value, row, **kwargs)
        try:
            validate_gtin(text)
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None
        return text


class ProductModelWidget(NameForeignKeyWidget):
    """A product model, named by its brand (the row's ``brand`` column) and name."""

    def __init__(self, *, brand_column: str = "brand", required: bool = True):
        super().__init__(ProductModel, field="name", required=required)
        self.brand_column = brand_column
        # The other cells of the row that key() reads.
        self.row_columns = (brand_column,)

    def key(self, value, row=None):
        name = as_text(value)
        brand = as_text((row or {}).get(self.brand_column))
        if not name or not brand:
            if self.required:
                raise ValueError(
                    _("The brand and the product model are required.")
                    if not brand
                    else _("This column is required.")
                )
            return None
        return (brand, name)

    def resolve_many(self, keys) -> dict:
        keys = set(keys)
        brands = {brand for brand, _name in keys}
        names = {name for _brand, name in keys}
        rows = ProductModel.objects.filter(brand__name__in=brands, name__in=names).values_list(
            "brand__name", "name", "pk"
        )
        return {(brand, name): pk for brand, name, pk in rows if (brand, name) in keys}

    def unknown_message(self, key) -> str:
        return _("Unknown product model “%(name)s” of brand “%(brand)s”.") % {
            "brand": key[0],
            "name": key[1],
        }


def _name_fields():
    return {
        "name": fields.Field(
            attribute="name", column_name="name", widget=TextWidget(max_length=120, required=True)
        ),
        "description": fields.Field(
            attribute="description", column_name="description", widget=TextWidget()
        ),
    }


class BrandResource(TransferResource):
    locals().update(_name_fields())

    class Meta:
        model = Brand
        fields = ("name", "description")
        import_id_fields = ("name",)
        skip_unchanged = True
        report_skipped = True


class CategoryResource(TransferResource):
    locals().update(_name_fields())

    class Meta:
        model = Category
        fields = ("name", "description")
        import_id_fields = ("name",)
        skip_unchanged = True
        report_skipped = True


class SupplierResource(TransferResource):
    locals().update(_name_fields())
    tax_id = fields.Field(
        attribute="tax_id", column_name="tax_id", widget=TextWidget(max_length=32)
    )
    email = fields.Field(attribute="email", column_name="email", widget=TextWidget(max_length=254))
    phone = fields.Field(attribute="phone", column_name="phone", widget=TextWidget(max_length=40))
    cnpj = fields.Field(attribute="cnpj", column_name="cnpj", widget=CNPJWidget())
    contact_name = fields.Field(
        attribute="contact_name", column_name="contact_name", widget=TextWidget(max_length=120)
    )
    address = fields.Field(attribute="address", column_name="address", widget=TextWidget())

    class Meta:
        model = Supplier
        fields = (
            "name",
            "tax_id",
            "email",
            "phone",
            "description",
            "cnpj",
            "contact_name",
            "address",
        )
        import_id_fields = ("name",)
        skip_unchanged = True
        report_skipped = True


class ProductModelResource(TransferResource):
    brand = fields.Field(
        attribute="brand", column_name="brand", widget=NameForeignKeyWidget(Brand, "name")
    )
    name = fields.Field(
        attribute="name", column_name="name", widget=TextWidget(max_length=120, required=True)
    )
    description = fields.Field(
        attribute="description", column_name="description", widget=TextWidget()
    )

    class Meta:
        model = ProductModel
        fields = ("brand", "name", "description")
        import_id_fields = ("brand", "name")
        skip_unchanged = True
        report_skipped = True


class ProductResource(TransferResource):
    serial_number = fields.Field(
        attribute="serial_number",
        column_name="serial_number",
        widget=TextWidget(max_length=64, required=True),
    )
    title = fields.Field(
        attribute="title", column_name="title", widget=TextWidget(max_length=200, required=True)
    )
    # Read with product_model: a model name is unique only within its brand.
    brand = fields.Field(
        attribute="product_model__brand__name",
        column_name="brand",
        widget=TextWidget(max_length=120),
        readonly=True,
    )
    product_model = fields.Field(
        attribute="product_model", column_name="product_model", widget=ProductModelWidget()
    )
    category = fields.Field(
        attribute="category", column_name="category", widget=NameForeignKeyWidget(Category)
    )
    cost_price = fields.Field(
        attribute="cost_price", column_name="cost_price", widget=MoneyWidget()
    )
    sell_price = fields.Field(
        attribute="sell_price", column_name="sell_price", widget=MoneyWidget()
    )
    reorder_level = fields.Field(
        attribute="reorder_level", column_name="reorder_level", widget=WholeNumberWidget()
    )
    is_active = fields.Field(attribute="is_active", column_name="is_active", widget=FlagWidget())
    description = fields.Field(
        attribute="description", column_name="description", widget=TextWidget()
    )
    ean = fields.Field(attribute="ean", column_name="ean", widget=GTINWidget())
    # Stock changes only through movements: exported, never imported.
    quantity = fields.Field(
        attribute="quantity", column_name="quantity", widget=WholeNumberWidget(), readonly=True
    )

    class Meta:
        model = Product
        # services.PRODUCT_FIELDS plus the export-only brand and quantity, in
        # the files' column order (the key first; exports keep it).
        fields = (
            "serial_number",
            "title",
            "brand",
            "product_model",
            "category",
            "cost_price",
            "sell_price",
            "reorder_level",
            "is_active",
            "quantity",
            "description",
            "ean",
        )
        import_id_fields = ("serial_number",)
        skip_unchanged = True
        report_skipped = True
