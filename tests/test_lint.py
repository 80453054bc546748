"""forge lint: each rule fires on a recipe that breaks it and stays quiet on the repo's recipes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from forge.lint import RULES, lint_recipe
from forge.recipes import discover

REPO = Path(__file__).resolve().parent.parent

GOOD = """\
package:
  name: demo
  version: "1.0"
source:
  path: ${{ env.get("FORGE_SOURCES") }}/demo-1.0.tar.gz
  sha256: 0000000000000000000000000000000000000000000000000000000000000000
build:
  noarch: python
  script: forge-pip-install
requirements:
  run:
    - python >=3.10
tests:
  - python:
      imports: [demo]
      pip_check: false
about:
  summary: demo
  license: MIT
"""


def _write(tmp_path: Path, text: str, name: str = "demo") -> Path:
    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "recipe.yaml").write_text(text)
    return folder


def _rules(tmp_path: Path, text: str, name: str = "demo") -> set[str]:
    return {f.rule for f in lint_recipe(name, _write(tmp_path, text, name))}


def test_good_recipe_is_clean(tmp_path: Path) -> None:
    assert _rules(tmp_path, GOOD) == set()


@pytest.mark.parametrize(
    ("rule", "old", "new"),
    [
        ("FL001", '  path: ${{ env.get("FORGE_SOURCES") }}/demo-1.0.tar.gz\n', "  url: https://example.invalid/demo-1.0.tar.gz\n"),
        ("FL002", "  sha256: " + "0" * 64 + "\n", ""),
        ("FL004", "tests:\n  - python:\n      imports: [demo]\n      pip_check: false\n", ""),
        ("FL005", "    - python >=3.10\n", "    - six\n"),
        ("FL006", "      pip_check: false\n", ""),
        ("FL007", "  summary: demo\n", ""),
        ("FL000", "  version: \"1.0\"\n", "  version: \"1.0\n"),
    ],
)
def test_each_rule_fires(tmp_path: Path, rule: str, old: str, new: str) -> None:
    assert old in GOOD
    found = _rules(tmp_path, GOOD.replace(old, new))
    assert rule in found, found


def test_registry_host_in_a_patch_is_found(tmp_path: Path) -> None:
    folder = _write(tmp_path, GOOD)
    host = ".".join(["pypi", "org"])
    (folder / "fix.patch").write_text(f"+ see https://{host}/project/demo\n")
    findings = [f for f in lint_recipe("demo", folder) if f.rule == "FL003"]
    assert findings and findings[0].file.endswith("fix.patch") and findings[0].line == 1


def test_folder_name_mismatch_is_a_warning(tmp_path: Path) -> None:
    findings = lint_recipe("other", _write(tmp_path, GOOD, "other"))
    assert [(f.rule, f.severity) for f in findings] == [("FL008", "warning")]


def test_rule_ids_are_unique_and_documented() -> None:
    assert len(RULES) >= 8 and all(rid.startswith("FL") and summary for rid, (summary, _) in RULES.items())


def test_repo_recipes_have_no_lint_errors() -> None:
    errors = [str(f) for name, path in discover(REPO / "recipes").items()
              for f in lint_recipe(name, path) if f.severity == "error"]
    assert errors == []


def test_cli_exit_status(tmp_path: Path) -> None:
    recipes = tmp_path / "recipes"
    _write(recipes, GOOD.replace("      pip_check: false\n", ""))
    proc = subprocess.run([sys.executable, "-m", "forge.cli", "lint", "--recipes", str(recipes)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1
    assert "FL006 error" in proc.stdout and "recipe.yaml:" in proc.stdout
