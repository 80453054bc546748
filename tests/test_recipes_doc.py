"""docs/recipes.md stays true to recipes/: every recipe once, with its kind and version, and the
count line (the build seconds and test counts come from one machine's logs and are not checked)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]


def _table_module():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("recipes_table", ROOT / "scripts" / "recipes_table.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_recipes_doc_lists_every_recipe_with_its_kind_and_version() -> None:
    table = _table_module()
    expected, counts, _ = table.table_rows([])
    doc = (ROOT / "docs" / "recipes.md").read_text().splitlines()
    got = [line for line in doc if line.startswith("| ") and not line.startswith("| recipe |")]
    cells = lambda rows: [r.split(" | ")[:3] for r in rows]  # noqa: E731  (name, kind, version)
    assert cells(got) == cells(expected), "regenerate: python scripts/recipes_table.py --logs <state>/logs"
    count_line = next(line for line in doc if " recipes: " in line)
    assert count_line.split(";")[0] == table.summary_line(len(expected), counts, 0).split(";")[0]


def test_kinds_are_read_from_the_recipe_folder() -> None:
    table = _table_module()
    kinds = {name: table.recipe_facts(ROOT / "recipes" / name / "recipe.yaml")[0]
             for name in ("numpy", "freetype", "pytest")}
    kinds["python"] = table.recipe_facts(ROOT / "forge" / "platform" / "recipes" / "python" / "recipe.yaml")[0]
    assert kinds == {"numpy": "compiled", "freetype": "shared library", "pytest": "noarch", "python": "platform"}
