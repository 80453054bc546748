"""Test payloads (issue 21): what a recipe's `tests: files:` pack into a package, measured before
the build (lint FL010, from the cached sdist) and after (the publisher's refusal), and
`forge split-tests`, which moves them into a `<name>-tests` output."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from forge import testpayload
from forge.artifacts import check_package, refuse_package
from forge.errors import ForgeError
from forge.lint import lint_recipe
from forge.recipes import render
from forge.testsplit import split_text
from tests.test_artifacts import make_package

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parent.parent
SHA = "ab" * 32

RECIPE = """\
# demo: a header comment that must survive
context:
  name: demo
  version: "1.0"

package:
  name: ${{ name }}
  version: ${{ version }}

source:
  path: ${{ env.get("FORGE_SOURCES") }}/demo-1.0.tar.gz
  sha256: %s

build:
  number: 2
  noarch: python
  script: forge-pip-install

requirements:
  run:
    - python >=3.10

tests:
  - python:
      imports: [demo]
      pip_check: false
  # upstream's suite, from the sdist
  - files:
      source:
        - tests/
    requirements:
      run:
        - pytest
    script:
      - python-wasm -m pytest -q tests

about:
  summary: demo
  license: MIT
""" % SHA


def _sdist(path: Path, files: dict[str, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tf:
        for name, size in files.items():
            info = tarfile.TarInfo(f"demo-1.0/{name}")
            info.size = size
            tf.addfile(info, io.BytesIO(b"x" * size))
    return path


@pytest.mark.parametrize(("glob", "path", "hit"), [
    ("tests/", "tests/a/b.py", True),
    ("tests", "tests/a/b.py", True),
    ("tests/", "testsuite/x.py", False),
    ("conftest.py", "conftest.py", True),
    ("tests/*.py", "tests/a.py", True),
    ("tests/*.py", "tests/sub/a.py", False),
    ("tests/**/*.png", "tests/sub/deep/a.png", True),
    ("tests/**/*.png", "tests/a.png", True),
    ("./Tests/", "Tests/images/a.png", True),
])
def test_globs_read_as_rattler_build_reads_them(glob: str, path: str, hit: bool) -> None:
    assert bool(testpayload._glob_regex(glob).match(path)) is hit


def test_measure_sums_the_source_and_recipe_files_the_tests_name(tmp_path: Path) -> None:
    archive = _sdist(tmp_path / "demo-1.0.tar.gz", {"tests/a.py": 100, "tests/data/big.bin": 5000,
                                                      "demo/__init__.py": 7, "setup.py": 3})
    tree = testpayload.archive_files(archive)
    assert tree == {"tests/a.py": 100, "tests/data/big.bin": 5000, "demo/__init__.py": 7, "setup.py": 3}
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "run.py").write_text("x" * 11)
    found = testpayload.measure((("source", "tests/"), ("recipe", "run.py")), tree,
                                testpayload.folder_files(tmp_path / "r"))
    assert found == testpayload.Payload(5111, "source/tests", 5100)
    assert testpayload.measure((), tree, {}) == testpayload.Payload(0)


def test_rendered_outputs_carry_their_test_globs(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "recipe.yaml").write_text(RECIPE)
    (out,) = render("demo", tmp_path / "demo", platforms=("emscripten-wasm32",), variant_file=None).outputs
    assert out.test_files == (("source", "tests/"),)


def test_split_moves_file_tests_into_a_tests_output_that_renders(tmp_path: Path) -> None:
    text = split_text(RECIPE, recipe="demo", file="recipes/demo/recipe.yaml")
    assert text is not None and text.startswith("# demo: a header comment that must survive\n")
    assert "# upstream's suite, from the sdist" in text
    data = YAML(typ="safe").load(text)
    assert data["recipe"] == {"name": "${{ name }}-split", "version": "${{ version }}"}
    assert data["build"] == {"number": 3}
    runtime, tests = data["outputs"]
    assert runtime["build"] == {"noarch": "python", "script": "forge-pip-install"}
    assert runtime["tests"] == [{"python": {"imports": ["demo"], "pip_check": False}}]
    assert tests["package"] == {"name": "${{ name }}-tests"} and tests["build"] == {"noarch": "generic"}
    assert tests["requirements"]["run"] == ["${{ pin_subpackage(name, exact=True) }}"]
    assert tests["tests"][0]["files"] == {"source": ["tests/"]}
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "recipe.yaml").write_text(text)
    outs = render("demo", tmp_path / "demo", platforms=("emscripten-wasm32",), variant_file=None).outputs
    by_name = {o.name: o for o in outs}
    assert set(by_name) == {"demo", "demo-tests"}
    assert by_name["demo"].test_files == () and by_name["demo-tests"].test_files == (("source", "tests/"),)
    assert by_name["demo-tests"].run == ("demo",)  # pin_subpackage renders to the name (graph edge)
    assert by_name["demo"].build_string.endswith("_3")


def test_split_leaves_recipes_without_file_tests_and_refuses_multi_output() -> None:
    no_files = RECIPE.split("  # upstream's suite")[0] + "about:\n  summary: demo\n  license: MIT\n"
    assert split_text(no_files, recipe="demo", file="f") is None
    numpy = (REPO / "recipes" / "numpy" / "recipe.yaml").read_text()
    with pytest.raises(ForgeError) as exc:
        split_text(numpy, recipe="numpy", file="recipes/numpy/recipe.yaml")
    assert str(exc.value) == ("recipe 'numpy' (recipes/numpy/recipe.yaml): the recipe already has `outputs:`, so its "
                              "tests cannot be moved automatically; add a `<name>-tests` output by hand, as "
                              "recipes/numpy/recipe.yaml does.")


def test_lint_fl010_measures_the_cached_sdist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("FORGE_TEST_PAYLOAD_LIMIT", "4096")
    folder = tmp_path / "recipes" / "demo"
    folder.mkdir(parents=True)
    (folder / "recipe.yaml").write_text(RECIPE)
    assert not [f for f in lint_recipe("demo", folder) if f.rule == "FL010"]  # not fetched: nothing to measure
    _sdist(tmp_path / "cache" / "sources" / SHA / "demo-1.0.tar.gz", {"tests/data/big.bin": 9000, "tests/t.py": 10})
    (finding,) = [f for f in lint_recipe("demo", folder) if f.rule == "FL010"]
    assert finding.severity == "error" and finding.line == 23  # `tests:`
    assert finding.message == (
        "the tests of demo pack 9 KiB of files into it (9 KiB from source/tests), and a runtime package may carry "
        "at most 4 KiB; move the tests that need them into a `<name>-tests` output (CONTRIBUTING.md, \"Test payloads\"): "
        "`forge split-tests demo` does it for a single-output recipe")
    (folder / "recipe.yaml").write_text(split_text(RECIPE, recipe="demo", file="f") or "")
    assert not [f for f in lint_recipe("demo", folder) if f.rule == "FL010"]


def test_by_default_a_runtime_package_carries_no_test_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default limit is none: FL010 needs no fetched sdist to say so, and the publisher refuses
    even a 10-byte test file in a runtime package (a `-tests` output carries them)."""
    monkeypatch.setenv("FORGE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("FORGE_TEST_PAYLOAD_LIMIT", raising=False)
    folder = tmp_path / "recipes" / "demo"
    folder.mkdir(parents=True)
    (folder / "recipe.yaml").write_text(RECIPE)
    (finding,) = [f for f in lint_recipe("demo", folder) if f.rule == "FL010"]
    assert finding.message == (
        "the tests of demo pack files into it (source: tests/), and a runtime package carries none; move the tests "
        "that need them into a `<name>-tests` output (CONTRIBUTING.md, \"Test payloads\"): `forge split-tests demo` "
        "does it for a single-output recipe"), finding.message
    (folder / "recipe.yaml").write_text(split_text(RECIPE, recipe="demo", file="f") or "")
    assert not [f for f in lint_recipe("demo", folder) if f.rule == "FL010"]
    files = {"site-packages/demo/__init__.py": b"", "etc/conda/test-files/demo/1/tests/t.py": b"y" * 10}
    (problem,) = check_package(make_package(tmp_path, files, name="demo"))
    assert "10 B of test files (a runtime package may carry none; 10 B in demo/1/tests)" in str(problem), problem
    assert check_package(make_package(tmp_path, files, name="demo-tests")) == []


def test_publisher_refuses_a_runtime_package_with_test_payload(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_TEST_PAYLOAD_LIMIT", "4096")
    files = {"site-packages/demo/__init__.py": b"", "etc/conda/test-files/demo/1/tests/big.bin": b"x" * 9000,
             "etc/conda/test-files/demo/1/tests/t.py": b"y" * 10}
    pkg = make_package(tmp_path, files, name="demo")
    with pytest.raises(ForgeError) as exc:
        refuse_package(pkg, recipe="demo", file="recipes/demo/recipe.yaml")
    assert str(exc.value) == (
        "recipe 'demo' (recipes/demo/recipe.yaml): noarch/demo-1.0-pyh_0.conda holds "
        "etc/conda/test-files/demo/1/tests, 9 KiB of test files (a runtime package may carry at most 4 KiB; "
        "9 KiB in demo/1/tests); move the tests that need them into a `<name>-tests` output (CONTRIBUTING.md, "
        "\"Test payloads\"): `forge split-tests RECIPE` does it for a single-output recipe.")
    assert check_package(make_package(tmp_path, files, name="demo-tests")) == []
    monkeypatch.setenv("FORGE_TEST_PAYLOAD_LIMIT", "10000")
    assert check_package(pkg) == []


def test_split_tests_command(tmp_path: Path) -> None:
    folder = tmp_path / "recipes" / "demo"
    folder.mkdir(parents=True)
    (folder / "recipe.yaml").write_text(RECIPE)
    (tmp_path / "conda_build_config.yaml").write_text("python:\n  - '3.14'\n")
    run = subprocess.run([sys.executable, "-m", "forge", "split-tests", "demo", "--recipes", str(tmp_path / "recipes")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "demo: its tests with files are now in the output demo-tests"
    assert "outputs:" in (folder / "recipe.yaml").read_text()
    again = subprocess.run([sys.executable, "-m", "forge", "split-tests", "demo", "--recipes", str(tmp_path / "recipes")],
                           capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 1 and "already has `outputs:`" in again.stderr + again.stdout


def test_split_of_malformed_yaml_is_one_sentence() -> None:
    with pytest.raises(ForgeError) as exc:
        split_text("package: [unclosed\n", recipe="demo", file="recipes/demo/recipe.yaml")
    text = str(exc.value)
    assert text.startswith("recipe 'demo' (recipes/demo/recipe.yaml): the recipe is not valid YAML (")
    assert text.endswith("fix the YAML first (forge lint NAME shows where).") and "\n" not in text
