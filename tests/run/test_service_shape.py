"""Every service's app.py has the shape CONTRIBUTING.md shows: a module-level ``lifespan`` that
reads the settings from ``app.state`` and builds its context there, and a ``create_app`` with no
lifespan of its own inside it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# the gateway is flat, on purpose (CONTRIBUTING.md): no context, no lifespan of this shape
SERVICES = sorted(path.parent.name for path in (ROOT / "services").glob("*/pyproject.toml")
                  if path.parent.name != "gateway")


def functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


@pytest.mark.parametrize("service", SERVICES)
def test_app_has_a_module_level_lifespan_reading_the_settings_from_the_app(service: str) -> None:
    source = (ROOT / "services" / service / f"docflow_{service}" / "app.py").read_text()
    found = functions(ast.parse(source))
    lifespan, create_app = found["lifespan"], found["create_app"]
    assert isinstance(lifespan, ast.AsyncFunctionDef)
    assert "app.state.settings" in ast.unparse(lifespan)
    assert "runtime.serving(app, ctx" in ast.unparse(lifespan)
    nested = [node.name for node in ast.walk(create_app)
              if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node is not create_app]
    assert nested == []
