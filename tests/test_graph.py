"""The dependency graph: dependencies first, cycles and unsatisfiable requirements are one
ForgeError sentence naming the recipe, the requirement and the file; `forge graph --dot`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.testlib import forge_repo_config, forge_cli, generic_recipe, make_repo, repo_config

from forge import api
from forge.config import ForgeConfig
from forge.errors import ForgeError

PYTEST_GRAPH = {"python", "pyodide-abi", "iniconfig", "packaging", "pluggy", "pygments", "pytest"}


def repo_cfg(tmp_path: Path) -> ForgeConfig:
    return forge_repo_config(tmp_path / "empty-channel", tmp_path / "state")


def test_pytest_order_is_dependencies_first(tmp_path: Path) -> None:
    order, dot = api.graph_order(["pytest"], repo_cfg(tmp_path))
    assert set(order) == PYTEST_GRAPH
    pos = {name: i for i, name in enumerate(order)}
    for dep in ("iniconfig", "packaging", "pluggy", "pygments", "python"):
        assert pos[dep] < pos["pytest"], order
    # every noarch: python package is tested with the target's python (python-wasm), so the
    # platform (the ABI mutex, then python) comes first
    assert order[:2] == ["pyodide-abi", "python"]
    for dep in ("iniconfig", "packaging", "pluggy", "pygments"):
        assert f'"pytest" -> "{dep}";' in dot


def test_order_respects_a_chain(tmp_path: Path) -> None:
    cfg = make_repo(tmp_path, {
        "c": generic_recipe("c", run=["b"]),
        "b": generic_recipe("b", run=["a >=1"]),
        "a": generic_recipe("a"),
        "unrelated": generic_recipe("unrelated"),
    })
    order, _ = api.graph_order(["c"], cfg)
    assert order == ["a", "b", "c"], "only what the target reaches, dependencies first"


def test_cycle_is_a_forge_error_naming_the_cycle(tmp_path: Path) -> None:
    cfg = make_repo(tmp_path, {"a": generic_recipe("a", run=["b"]), "b": generic_recipe("b", run=["a"])})
    with pytest.raises(ForgeError) as info:
        api.graph_order(["a"], cfg)
    msg = str(info.value)
    assert "dependency cycle" in msg
    assert ("a -> b -> a" in msg) or ("b -> a -> b" in msg), msg
    assert "recipe.yaml" in msg and msg.count("\n") == 0 and msg.endswith(".")


def test_unsatisfiable_requirement_names_recipe_requirement_and_file(tmp_path: Path) -> None:
    cfg = make_repo(tmp_path, {"needy": generic_recipe("needy", run=["no-such-package >=1.0"])})
    with pytest.raises(ForgeError) as info:
        api.graph_order(["needy"], cfg)
    msg = str(info.value)
    assert "recipe 'needy'" in msg
    assert "no-such-package >=1.0" in msg
    assert "recipes/needy/recipe.yaml" in msg
    assert "no recipe produces it" in msg and msg.count("\n") == 0


def test_version_mismatch_names_what_the_recipe_offers(tmp_path: Path) -> None:
    cfg = make_repo(tmp_path, {"top": generic_recipe("top", run=["lib >=2"]), "lib": generic_recipe("lib", version="1.5")})
    with pytest.raises(ForgeError) as info:
        api.graph_order(["top"], cfg)
    msg = str(info.value)
    assert "recipe 'top'" in msg and "lib >=2" in msg and "lib 1.5" in msg


def test_channel_satisfies_a_requirement_without_a_recipe(tmp_path: Path, populated_channel: Path) -> None:
    """A requirement no recipe produces is fine when the channel already holds it."""
    make_repo(tmp_path, {"uses-tiny": generic_recipe("uses-tiny", run=["tiny0 ==1.0"])})
    order, _ = api.graph_order(["uses-tiny"], repo_config(tmp_path, channel=populated_channel))
    assert order == ["uses-tiny"]


def test_graph_cli_order_and_dot(tmp_path: Path) -> None:
    ch = str(tmp_path / "empty-channel")
    proc = forge_cli("graph", "pytest", "--channel", ch)
    assert proc.returncode == 0, proc.stderr
    lines = [ln.split(". ", 1)[1] for ln in proc.stdout.splitlines() if ". " in ln]
    assert lines[-1] == "pytest" and set(lines) == PYTEST_GRAPH
    dot = forge_cli("graph", "pytest", "--dot", "--channel", ch)
    assert dot.returncode == 0, dot.stderr
    text = dot.stdout.strip()
    assert text.startswith("digraph forge {") and text.endswith("}")
    assert '"pytest" -> "pluggy";' in text and '"pluggy" -> "python";' in text


def test_graph_cli_cycle_is_one_sentence(tmp_path: Path) -> None:
    make_repo(tmp_path, {"a": generic_recipe("a", run=["b"]), "b": generic_recipe("b", run=["a"])})
    proc = forge_cli("graph", "a", "--recipes", str(tmp_path / "recipes"), "--channel", str(tmp_path / "ch"), root=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert line.startswith("error: ") and "dependency cycle" in line


def test_any_recipe_repository_is_found_from_the_working_directory(tmp_path: Path) -> None:
    """The installed forge works on the repository it is run in (nearest folder with recipes/
    and conda_build_config.yaml), not on its own checkout; --root names one explicitly."""
    repo = tmp_path / "their-repo"
    make_repo(repo, {"a": generic_recipe("a"), "b": generic_recipe("b", run=["a"])}, variants="python:\n  - '3.14'\n")
    sub = repo / "recipes" / "b"
    env = {k: v for k, v in os.environ.items() if k != "FORGE_ROOT"}
    proc = subprocess.run([sys.executable, "-c", "from forge.cli import main; main()", "graph", "b"],
                          cwd=sub, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert [ln.split(". ", 1)[1] for ln in proc.stdout.splitlines() if ". " in ln] == ["a", "b"]
    elsewhere = subprocess.run([sys.executable, "-c", "from forge.cli import main; main()", "--root", str(repo),
                                "graph", "b"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                               check=False)
    assert elsewhere.returncode == 0 and elsewhere.stdout == proc.stdout, elsewhere.stderr
