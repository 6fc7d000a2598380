"""The API's list pages use Django and psycopg through documented means only.

They once reached their speed through private hooks (Django's
``connection._prepare_cursor``, psycopg's ``Cursor._maybe_prepare_gen``,
setting ``cursor._query``) and kept compiled SQL on the view class, where
it would be shared between users. These tests keep both out.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import resolve

BASE = Path(settings.BASE_DIR)
# The list machinery: the base views, the paginator, the renderer and the
# resources that declare list columns.
MODULES = (
    "project.api.views",
    "project.api.pagination",
    "project.api.renderers",
    "catalog.api",
    "movements.api",
)
# Underscored names that Django documents as public API.
DOCUMENTED = {"_meta", "_default_manager"}
LIBRARIES = ("django.", "psycopg.", "psycopg_c.")


def _tree(module: str) -> ast.Module:
    path = BASE / (module.replace(".", "/") + ".py")
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _own_names(tree: ast.Module) -> set[str]:
    """Names the module itself defines: functions, classes, assigned names, imports."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(target.id for target in targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.asname or alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("module", MODULES)
def test_no_private_attribute_of_another_library_is_used(module):
    tree = _tree(module)
    own = _own_names(tree) | DOCUMENTED
    private = sorted(
        f"{node.attr} (line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and node.attr not in own
    )
    assert private == []


@pytest.mark.parametrize("module", MODULES)
def test_nothing_is_stored_on_a_class_while_serving(module):
    # self.__class__.x = ..., type(self).x = ..., cls.x = ...: state shared by
    # every request of the process (and every user).
    def names_a_class(node) -> bool:
        return (
            (isinstance(node, ast.Attribute) and node.attr == "__class__")
            or (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "type")
            or (isinstance(node, ast.Name) and node.id == "cls")
        )

    # ``__init_subclass__`` runs once, when a class is declared (at import),
    # like a class body: what it sets is a declaration, not serving state.
    tree = _tree(module)
    declared = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "__init_subclass__"
        for inner in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in declared:
            continue
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [
                f"line {node.lineno}"
                for target in targets
                if isinstance(target, ast.Attribute) and names_a_class(target.value)
            ]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr":
            found.append(f"setattr, line {node.lineno}")
    assert found == []


@pytest.mark.parametrize("module", MODULES)
def test_no_class_overrides_a_private_method_of_django_or_psycopg(module):
    resolve("/api/v1/")  # the API modules load in the URLconf's order
    loaded = importlib.import_module(module)
    overrides = []
    for _name, cls in inspect.getmembers(loaded, inspect.isclass):
        if cls.__module__ != loaded.__name__:
            continue
        for attr in vars(cls):
            if not attr.startswith("_") or attr.startswith("__") or attr in DOCUMENTED:
                continue
            for base in cls.__mro__[1:]:
                if base.__module__.startswith(LIBRARIES) and attr in vars(base):
                    overrides.append(f"{cls.__name__}.{attr} ({base.__module__})")
    assert overrides == []


def test_the_list_machinery_does_not_import_psycopg():
    # Statement preparation is psycopg's, configured by the database OPTIONS.
    for module in MODULES:
        for node in ast.walk(_tree(module)):
            if isinstance(node, ast.Import):
                assert not any(alias.name.startswith("psycopg") for alias in node.names), module
            elif isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("psycopg"), module
