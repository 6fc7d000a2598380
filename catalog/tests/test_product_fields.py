"""The writable fields of a product are one list: ``catalog.services.PRODUCT_FIELDS``.

The admin form, the API serializer and the import columns spell their fields
out because each adds read-only ones and keeps its own order; a field added
to one of them and not to the service's list would be refused on save (or
offered nowhere else), so each is held to that list here.
"""

from django.urls import resolve

from catalog import services
from catalog.admin import ProductAdmin
from catalog.resources import ProductResource


def test_the_admin_form_edits_exactly_the_writable_fields_in_their_order():
    shown = [name for _title, options in ProductAdmin.fieldsets for name in options["fields"]]
    editable = [name for name in shown if name not in ProductAdmin.readonly_fields]
    assert editable == list(services.PRODUCT_FIELDS)


def test_the_api_writes_exactly_the_writable_fields_in_their_order():
    # The serializer the URL serves (importing catalog.api first trips an
    # import cycle in project.api that the URLconf's order avoids).
    serializer = resolve("/api/v1/products/").func.cls.serializer_class()
    writable = [name for name, field in serializer.fields.items() if not field.read_only]
    assert writable == list(services.PRODUCT_FIELDS)


def test_an_import_reads_exactly_the_writable_fields():
    imported = {field.attribute for field in ProductResource().get_import_fields()}
    imported = {name for name in imported if not name.startswith("product_model__")}
    assert imported - {"quantity"} == set(services.PRODUCT_FIELDS)
