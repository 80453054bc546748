"""Rendering: recipes render with py-rattler-build for each platform and each variant pin of
the repository's conda_build_config.yaml; `forge new` writes a recipe that renders."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.testlib import forge_repo_config, forge_cli, make_repo

from forge import api
from forge.config import ForgeConfig
from forge.workspace import Workspace

VARIANTS = """\
mylib:
  - "1.2"
  - "1.3"
flavor:
  - blue
"""

VARIANT_RECIPE = """\
package:
  name: uses-variants
  version: "1.0"
build:
  string: ${{ flavor }}_${{ hash }}
  script:
    - echo ok > $PREFIX/ok.txt
requirements:
  host:
    - mylib
"""


def test_variant_pins_from_conda_build_config(tmp_path: Path) -> None:
    """Each value of a variant key the recipe uses gives its own output, per platform, and
    the build string carries the pinned `flavor`."""
    cfg = make_repo(tmp_path, {"uses-variants": VARIANT_RECIPE}, variants=VARIANTS)
    recipe = Workspace(cfg).recipe("uses-variants")
    for platform in ("emscripten-wasm32",):
        outs = recipe.platforms[platform]
        assert sorted(dict(o.variant)["mylib"] for o in outs) == ["1.2", "1.3"]
        assert {dict(o.variant)["flavor"] for o in outs} == {"blue"}
        assert all(o.subdir == platform and o.build_string.startswith("blue_") for o in outs)
        assert len({o.build_string for o in outs}) == 2, "each pin must hash to its own build string"
    assert len(recipe.outputs) == 2


def test_changed_pins_render_anew(tmp_path: Path) -> None:
    """Editing conda_build_config.yaml changes what renders (no stale variant cache)."""
    cfg = make_repo(tmp_path, {"uses-variants": VARIANT_RECIPE}, variants=VARIANTS)
    before = {o.build_string for o in Workspace(cfg).recipe("uses-variants").outputs}
    time.sleep(0.01)
    cfg.variant_file.write_text(VARIANTS.replace('"1.3"', '"2.0"').replace("blue", "red"))
    recipe = Workspace(cfg).recipe("uses-variants")
    assert sorted({dict(o.variant)["mylib"] for o in recipe.outputs}) == ["1.2", "2.0"]
    assert all(o.build_string.startswith("red_") for o in recipe.outputs)
    assert not before & {o.build_string for o in recipe.outputs}


def test_noarch_renders_once_for_all_platforms(tmp_path: Path) -> None:
    cfg = make_repo(tmp_path, {"n": 'package: {name: n, version: "1"}\nbuild:\n  noarch: generic\n'})
    recipe = Workspace(cfg).recipe("n")
    assert [(o.subdir, o.filename) for o in recipe.outputs] == [("noarch", f"n-1-{recipe.outputs[0].build_string}.conda")]
    assert set(recipe.platforms) == {"emscripten-wasm32"}


def test_every_repo_recipe_renders(tmp_path: Path) -> None:
    """The repository's own recipes render (status renders each one)."""
    cfg = forge_repo_config(tmp_path / "empty", tmp_path / "state")
    rows = api.status(cfg)
    assert {r.name for r in rows} >= {"pytest", "iniconfig", "pluggy", "packaging", "pygments", "python", "numpy"}
    assert all(r.outputs and not r.published for r in rows)


@pytest.mark.network
def test_forge_new_writes_a_recipe_that_renders(tmp_path: Path) -> None:
    """`forge new six` resolves the newest sdist through pip's index and writes a noarch: python
    recipe with its sha256; it renders, and a second `forge new` refuses to overwrite."""
    recipes = tmp_path / "recipes"
    proc = forge_cli("new", "six", "--recipes", str(recipes), root=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = recipes / "six" / "recipe.yaml"
    assert written.is_file()
    cfg = ForgeConfig.load(root=tmp_path, recipes_dir=recipes, channel_dir=tmp_path / "channel",
                           state_dir=tmp_path / "state")
    recipe = Workspace(cfg).recipe("six")
    (out,) = recipe.outputs
    assert out.name == "six" and out.subdir == "noarch"
    (src,) = out.sources
    assert src.filename == f"six-{out.version}.tar.gz" and len(src.sha256) == 64
    again = forge_cli("new", "six", "--recipes", str(recipes), root=tmp_path)
    assert again.returncode == 1
    assert "exists already" in again.stderr and "Traceback" not in again.stderr
