"""Dependencies point one way: catalog <- movements <- reports.

The layers are described in docs/architecture.md, "Code layout and conventions".
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# app -> the apps it must not import (tests excepted: they may use any fixture)
FORBIDDEN = {"catalog": {"movements", "reports"}, "movements": {"reports"}}


def _imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_an_app_does_not_import_the_apps_that_depend_on_it(app):
    offenders = [
        f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}"
        for path in sorted((ROOT / app).rglob("*.py"))
        if "tests" not in path.relative_to(ROOT).parts
        and (bad := _imported_apps(path) & FORBIDDEN[app])
    ]
    assert offenders == []
