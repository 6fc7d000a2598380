"""Dependencies point one way: project <- dataio <- catalog <- movements <- purchasing <- dashboard
<- integrations <- backoffice.

Each layer imports only from the layers before it (docs/architecture.md,
"Layers"). Tests are exempt: they may use any fixture. The URL
configurations are the composition root: they name every app's views.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = (
    "project",
    "dataio",
    "catalog",
    "movements",
    "purchasing",
    "dashboard",
    "integrations",
    "backoffice",
)
# Modules that wire every app together, by design.
COMPOSITION_ROOT = {"project/urls.py", "project/api_urls.py"}


def _imported_apps(path: Path) -> set[str]:
    """Top-level packages imported anywhere in the module, function bodies included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _offenders(layer: str) -> list[str]:
    later = set(LAYERS[LAYERS.index(layer) + 1 :])
    return [
        f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}"
        for path in sorted((ROOT / layer).rglob("*.py"))
        if "tests" not in path.relative_to(ROOT).parts
        and str(path.relative_to(ROOT)) not in COMPOSITION_ROOT
        and (bad := _imported_apps(path) & later)
    ]


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_only_the_layers_before_it(layer):
    assert _offenders(layer) == []


def test_every_layer_is_an_installed_app_in_layer_order():
    from django.conf import settings

    apps = [app for app in settings.INSTALLED_APPS if app in LAYERS]
    assert apps == list(LAYERS[1:])


def test_the_check_sees_an_import_inside_a_function(tmp_path, monkeypatch):
    # A function-level import is still a dependency; the check must see it.
    module = tmp_path / "dataio" / "late.py"
    module.parent.mkdir()
    module.write_text("def f():\n    from movements import services\n", encoding="utf-8")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert _offenders("dataio") == ["dataio/late.py imports movements"]
