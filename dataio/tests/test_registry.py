"""Every importable model has one admin, declared with its mixin and the registered Resource."""

import ast
import inspect
from pathlib import Path

from django.contrib import admin

from dataio import registry
from dataio.admin_mixins import ImportExportMixin

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = ("dataio", "catalog", "movements", "dashboard")


def test_every_registered_resource_is_the_one_its_admin_declares():
    assert set(registry.TRANSFERS) == {
        "catalog.brand",
        "catalog.category",
        "catalog.supplier",
        "catalog.productmodel",
        "catalog.product",
        "movements.inflow",
        "movements.outflow",
    }
    for label, transfer in registry.TRANSFERS.items():
        model_admin = admin.site.get_model_admin(transfer.model)
        assert isinstance(model_admin, ImportExportMixin), label
        assert model_admin.resource_classes == [transfer.resource], label


def test_admins_are_classes_written_in_their_module_not_built_at_import_time():
    for model, model_admin in admin.site._registry.items():
        cls = type(model_admin)
        if cls.__module__.split(".")[0] not in DOMAIN_APPS:
            continue
        # A class made with type() has no source of its own: inspect finds none.
        source = inspect.getsource(cls)
        assert source.lstrip().startswith(("class ", "@admin.register")), model


def test_our_apps_never_unregister_an_admin():
    # Only the back-office shell re-themes third-party admins (backoffice/admin.py).
    offenders = []
    for app in DOMAIN_APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr == "unregister":
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
