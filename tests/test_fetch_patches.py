"""The fetch phase asks an sdist's backend in the tree the recipe's patches produce, as
rattler-build builds it: a patch that relaxes a [build-system] pin (recipes/lru-dict) is what
the wheel set follows. The in-tree tests need no network (the relaxed requirement's marker holds
nowhere, the sdist is put in the source cache) but ask a backend in pypa build's isolated
environment, so they stay out of the unit tier; the last one runs zstandard's and lru-dict's
real fetch phase (pip's index, the build root's python3.14)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from tests.support.testlib import forge_repo_config, make_repo, sha256
from tests.test_buildreqs import PATCH

from forge.buildreqs import HOST, build_requirements
from forge.planner import fetch_inputs, prepare_job
from forge.sources import SourceCache
from forge.workspace import Workspace

BACKEND = """\
def get_requires_for_build_wheel(config_settings=None):
    return ["iniconfig==2.3.1; python_version < '3'"]
"""

def _sdist(tmp_path: Path) -> Path:
    src = tmp_path / "pinned-1.0"
    src.mkdir()
    (src / "pyproject.toml").write_text('[build-system]\nrequires = ["nosuchtool==80.9.0"]\n'
                                        'build-backend = "mybackend"\nbackend-path = ["."]\n')
    (src / "mybackend.py").write_text(BACKEND)
    out = tmp_path / "pinned-1.0.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        tf.add(src, arcname=src.name)
    return out


def test_the_patched_tree_is_asked(tmp_path: Path) -> None:
    """The unpatched pin (a tool no index has) is never fetched: the backend is asked in the tree
    the recipe's patch produced, and its answer is kept under a key that names the patch."""
    sdist = _sdist(tmp_path)
    patch = tmp_path / "0001-relax.patch"
    patch.write_text(PATCH)
    cache = tmp_path / "cache"
    reqs = build_requirements(sdist, sha256(sdist), HOST, None, cache, recipe="pinned", file="x", patches=[patch])
    assert reqs == []  # both markers are false here: nothing to download, so no network either
    (memo,) = (cache / "build-requires").iterdir()
    raw = json.loads(memo.read_text())
    assert raw == ["iniconfig==2.3.1; python_version < '3'", "iniconfig==2.3.1; sys_platform == 'nonesuch'"]
    # the same sdist with another patch is asked again, not answered from the first memo
    other = tmp_path / "0002-other.patch"
    other.write_text(PATCH.replace("sys_platform == 'nonesuch'", "os_name == 'nonesuch'"))
    assert build_requirements(sdist, sha256(sdist), HOST, None, cache, recipe="pinned", file="x", patches=[other]) == []
    assert len(list((cache / "build-requires").iterdir())) == 2


RECIPE = """\
package:
  name: pinned
  version: "1.0"
source:
  path: ${{{{ env.get("FORGE_SOURCES") }}}}/pinned-1.0.tar.gz
  sha256: {sha}
  patches:
    - 0001-relax.patch
build:
  noarch: python
  script: forge-pip-install
requirements:
  host:
    - python
  run:
    - python
tests:
  - python:
      imports: [mybackend]
      pip_check: false
"""


def test_the_fetch_phase_passes_the_recipes_patches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From recipe.yaml's `patches:` to the backend: the fetch phase of a recipe whose sdist pins
    a tool no index has succeeds because the patch relaxes it (the sdist is already in the
    source cache, so nothing is downloaded)."""
    monkeypatch.setenv("FORGE_CACHE", str(tmp_path / "cache"))  # its own, empty: one backend answer in it
    sdist = _sdist(tmp_path)
    cfg = make_repo(tmp_path / "repo", {"pinned": RECIPE.format(sha=sha256(sdist))},
                    variants=(Path(__file__).parents[1] / "conda_build_config.yaml").read_text())
    (cfg.recipes_dir / "pinned" / "0001-relax.patch").write_text(PATCH)
    ws = Workspace(cfg)
    recipe = ws.recipe("pinned")
    assert [s.patches for s in recipe.outputs[0].sources] == [("0001-relax.patch",)]
    cached = SourceCache(cfg.cache_dir).path_for(recipe.outputs[0].sources[0])
    cached.parent.mkdir(parents=True)
    cached.write_bytes(sdist.read_bytes())
    paths, wheelhouse, _crates = fetch_inputs(ws, recipe, "recipes/pinned/recipe.yaml")
    assert paths == [cached] and wheelhouse is None
    (memo,) = (cfg.cache_dir / "build-requires").iterdir()
    assert "nosuchtool" not in memo.read_text()


@pytest.mark.recipes("zstandard", "lru-dict")
def test_cross_fetch_phase_follows_markers_and_patches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The two recipes these mechanisms were fixed for, through the real fetch phase (pip's index,
    the build root's python3.14): zstandard's `cffi~=1.17; python_version < '3.14'` is not fetched
    (cffi 2 is), and lru-dict's unpatched `setuptools==80.9.0` is not either (the constrained
    setuptools is)."""
    monkeypatch.setenv("FORGE_CACHE", str(tmp_path / "cache"))
    ws = Workspace(forge_repo_config(tmp_path / "channel", tmp_path / "state"))
    wheels = {}
    for name in ("zstandard", "lru-dict"):
        job = prepare_job(ws, name)
        assert job.wheelhouse
        wheels[name] = {p.name.split("-")[0].lower(): p.name.split("-")[1] for p in Path(job.wheelhouse).glob("*.whl")}
    assert int(wheels["zstandard"]["cffi"].split(".")[0]) >= 2, wheels["zstandard"]
    assert wheels["lru-dict"]["setuptools"] != "80.9.0", wheels["lru-dict"]
