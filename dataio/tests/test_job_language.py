"""A job speaks the language of the person who started it (issue 14)."""

import pytest
from django.utils import translation

from catalog.tests.factories import ProductFactory
from dataio.tests.helpers import preview

pytestmark = pytest.mark.django_db

OUTFLOWS = "admin:movements_outflow_import"


@pytest.mark.parametrize(
    ("language", "expected", "foreign"),
    [
        ("pt-br", "não é um número inteiro", "whole number"),
        ("en", "is not a whole number", "não é"),
    ],
)
def test_preview_errors_are_stored_in_the_requesters_language(
    admin_client, language, expected, foreign
):
    ProductFactory(serial_number="SKU-1")
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    # The worker runs in another language than the person: what is stored must not follow it.
    with translation.override("en" if language != "en" else "pt-br"):
        checked = preview(admin_client, OUTFLOWS, b"product,quantity\nSKU-1,abc\n")
    messages = " ".join(error["message"] for error in checked.row_errors)
    assert expected in messages and foreign not in messages
    assert checked.parameters["language"] == language
