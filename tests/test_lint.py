"""forge lint: each rule fires on a recipe that breaks it and stays quiet on the repo's recipes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from forge.lint import RULES, lint_recipe
from forge.recipes import recipe_folders

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
    assert len(RULES) >= 9 and all(rid.startswith("FL") and summary for rid, (summary, _) in RULES.items())


def test_repo_recipes_have_no_lint_errors() -> None:
    errors = [str(f) for name, path in recipe_folders(REPO / "recipes").items()
              for f in lint_recipe(name, path) if f.severity == "error"]
    assert errors == []


def test_cli_exit_status(tmp_path: Path) -> None:
    recipes = tmp_path / "recipes"
    _write(recipes, GOOD.replace("      pip_check: false\n", ""))
    proc = subprocess.run([sys.executable, "-m", "forge.cli", "lint", "--recipes", str(recipes)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1
    assert "FL006 error" in proc.stdout and "recipe.yaml:" in proc.stdout


SOURCE = '  path: ${{ env.get("FORGE_SOURCES") }}/demo-1.0.tar.gz\n  sha256: ' + "0" * 64 + "\n"


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("  path: /some/dir/demo-1.0.tar.gz\n  sha256: " + "0" * 64 + "\n", 5, "a local file or folder"),
        ("  path: ../demo\n", 5, "(and it pins no sha256)"),
        ("  path: ${{ env.get(\"FORGE_SOURCES\", default=\"/tmp\") }}/demo-1.0.tar.gz\n  sha256: " + "0" * 64 + "\n",
         5, "a local file or folder"),
        ("  git: https://example.invalid/demo.git\n  tag: v1.0\n", 5, "a `git:` source"),
    ],
)
def test_fl009_sources_outside_the_fetch_convention(tmp_path: Path, source: str, line: int, words: str) -> None:
    folder = _write(tmp_path, GOOD.replace(SOURCE, source))
    findings = [f for f in lint_recipe("demo", folder) if f.rule == "FL009"]
    assert len(findings) == 1, findings
    (f,) = findings
    assert f.severity == "error" and f.line == line and words in f.message
    assert 'FORGE_SOURCES") }}/<sdist file>` with `sha256:`' in f.message


def test_fl009_conditional_and_listed_sources(tmp_path: Path) -> None:
    text = GOOD.replace(SOURCE, "") .replace("source:\n", (
        "source:\n"
        "  - path: ${{ env.get('FORGE_SOURCES') }}/demo-1.0.tar.gz\n"
        "    sha256: " + "1" * 64 + "\n"
        "  - if: linux\n"
        "    then:\n"
        "      path: vendored/\n"))
    findings = [f for f in lint_recipe("demo", _write(tmp_path, text)) if f.rule == "FL009"]
    assert [(f.line, "`path: vendored/`" in f.message) for f in findings] == [(9, True)]


def test_malformed_digest_is_refused(tmp_path: Path) -> None:
    # rattler-build's parser rejects it too (FL000 in lint); the build refusal names it itself
    from forge.recipes import unverified_sources

    folder = _write(tmp_path, GOOD.replace("  sha256: " + "0" * 64, "  sha256: not-a-digest"))
    assert [(u.kind, u.line) for u in unverified_sources("demo", folder)] == [("digest", 6)]
    assert {f.rule for f in lint_recipe("demo", folder)} == {"FL000"}


def test_convention_sources_are_not_fl009(tmp_path: Path) -> None:
    # a missing sha256 on a convention path is FL002's finding, not a second one
    folder = _write(tmp_path, GOOD.replace("  sha256: " + "0" * 64 + "\n", ""))
    assert {f.rule for f in lint_recipe("demo", folder)} == {"FL002"}


def test_build_refusal_names_recipe_file_line_and_fix(tmp_path: Path) -> None:
    from forge.errors import ForgeError
    from forge.recipes import refuse_unverified_sources, unverified_sources

    good = _write(tmp_path, GOOD, "good")
    assert unverified_sources("good", good) == []
    refuse_unverified_sources("good", good)
    bad = _write(tmp_path, GOOD.replace(SOURCE, "  path: /some/dir/x.tar.gz\n"), "bad")
    with pytest.raises(ForgeError) as exc:
        refuse_unverified_sources("bad", bad, display="recipes/bad/recipe.yaml")
    text = str(exc.value)
    assert text.startswith("recipe 'bad' (recipes/bad/recipe.yaml:5): the source `path: /some/dir/x.tar.gz` is a local")
    assert text.endswith("(CONTRIBUTING.md, forge new writes it).") and text.count("\n") == 0


def test_every_repo_recipe_passes_the_source_refusal() -> None:
    from forge.recipes import unverified_sources

    assert [str(u) for name, path in recipe_folders(REPO / "recipes").items() for u in unverified_sources(name, path)] == []


def test_rules_listing_documents_fl009() -> None:
    proc = subprocess.run([sys.executable, "-m", "forge.cli", "lint", "--rules"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0 and "FL009" in proc.stdout
    assert "FL009" in (REPO / "CONTRIBUTING.md").read_text()
