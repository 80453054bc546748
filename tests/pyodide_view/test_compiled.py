"""Compiled packages and shared libraries: real emscripten-wasm32 .conda files built by
rattler-build from tiny recipes (dummy wasm side modules, nothing is loaded)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from forge.channel import Channel
from forge.pyodide_view import publish_view, validate_lock
from forge.toolchain.target import EXT_SUFFIX

WASM = r"printf '\0asm\1\0\0\0'"
SITE = "$PREFIX/lib/python3.14/site-packages"
RECIPES = {
    "libsynth": f"""
package: {{name: libsynth, version: "1.0.2"}}
build:
  number: 0
  script:
    - mkdir -p $PREFIX/lib/pkgconfig $PREFIX/include
    - {WASM} > $PREFIX/lib/libsynth.so
    - echo "Name=synth" > $PREFIX/lib/pkgconfig/synth.pc
    - echo "int synth(void);" > $PREFIX/include/synth.h
about: {{summary: a synthetic shared library, license: MIT}}
""",
    "synth-ext": f"""
package: {{name: synth-ext, version: "1.2.3"}}
build:
  number: 0
  script:
    - mkdir -p {SITE}/synth_ext
    - echo "from ._speed import *" > {SITE}/synth_ext/__init__.py
    - {WASM} > {SITE}/synth_ext/_speed{EXT_SUFFIX}
requirements:
  run: [python >=3.14, libsynth 1.0.*, six >=1.10]
tests:
  - python: {{imports: [synth_ext], pip_check: false}}
about: {{summary: a synthetic compiled package, license: MIT}}
""",
    "synth-abi3": f"""
package: {{name: synth-abi3, version: "0.1"}}
build:
  number: 0
  script:
    - mkdir -p {SITE}
    - {WASM} > {SITE}/_synth_abi3.abi3.so
about: {{summary: a synthetic abi3 module, license: MIT}}
""",
}


def _build(recipe_dir: Path, out: Path) -> list[Path]:
    from rattler_build import (EnvironmentIsolation, PlatformConfig, RenderConfig, Stage0Recipe,
                               ToolConfiguration)

    made: list[Path] = []
    stage0 = Stage0Recipe.from_file(recipe_dir / "recipe.yaml")
    for variant in stage0.render(None, RenderConfig(platform=PlatformConfig(target_platform="emscripten-wasm32"))):
        result = variant.run_build(output_dir=out, channels=[], env_isolation=EnvironmentIsolation.NONE,
                                   tool_config=ToolConfiguration(test_strategy="skip"))
        made += [Path(p) for p in result.packages]
    return made


@pytest.fixture(scope="module")
def compiled_channel(tmp_path_factory: pytest.TempPathFactory, channel_dir: Path) -> Path:
    base = tmp_path_factory.mktemp("compiled")
    packages: list[Path] = []
    for name, text in RECIPES.items():
        (base / "recipes" / name).mkdir(parents=True)
        (base / "recipes" / name / "recipe.yaml").write_text(text)
        packages += _build(base / "recipes" / name, base / "out")
    assert all(p.parent.name == "emscripten-wasm32" for p in packages)
    six = next((channel_dir / "noarch").glob("six-*.conda"))
    Channel(base / "channel").publish([*packages, six])
    return base / "channel"


@pytest.fixture(scope="module")
def compiled_view(compiled_channel: Path) -> Path:
    report = publish_view(compiled_channel)
    assert report.warnings == [] and sorted(report.built) == ["libsynth", "six", "synth-abi3", "synth-ext"]
    return report.view_dir


def _lock(view: Path) -> dict:
    return json.loads((view / "pyodide-lock.json").read_text())["packages"]


def test_compiled_package_gets_the_pyodide_abi_tag(compiled_view: Path) -> None:
    e = _lock(compiled_view)["synth-ext"]
    assert e["file_name"] == "synth_ext-1.2.3-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
    assert (e["package_type"], e["install_dir"]) == ("package", "site")
    assert e["depends"] == ["libsynth", "six"] and e["imports"] == ["synth_ext"]
    zf = zipfile.ZipFile(compiled_view / e["file_name"])
    names = zf.namelist()
    assert f"synth_ext/_speed{EXT_SUFFIX}" in names and "synth_ext/__init__.py" in names
    assert zf.read(f"synth_ext/_speed{EXT_SUFFIX}").startswith(b"\0asm")
    wheel = zf.read("synth_ext-1.2.3.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false" in wheel and "Tag: cp314-cp314-pyemscripten_2026_0_wasm32" in wheel
    meta = zf.read("synth_ext-1.2.3.dist-info/METADATA").decode()
    requires = [line for line in meta.splitlines() if line.startswith("Requires")]
    # the shared library is a Pyodide dependency (lock depends), not a Python one (Requires-Dist)
    assert requires == ["Requires-Python: >=3.14", "Requires-Dist: six>=1.10"]


def test_abi3_module_gets_the_abi3_tag(compiled_view: Path) -> None:
    e = _lock(compiled_view)["synth-abi3"]
    assert e["file_name"] == "synth_abi3-0.1-cp314-abi3-pyemscripten_2026_0_wasm32.whl"
    assert e["imports"] == ["_synth_abi3"]


def test_shared_library_package(compiled_view: Path) -> None:
    e = _lock(compiled_view)["libsynth"]
    assert e["file_name"] == "libsynth-1.0.2.zip"
    assert (e["package_type"], e["install_dir"]) == ("shared_library", "dynlib")
    assert e["imports"] == [] and e["depends"] == []
    assert zipfile.ZipFile(compiled_view / e["file_name"]).namelist() == ["libsynth.so"]
    index = json.loads((compiled_view / "all.json").read_text())
    assert "libsynth" not in index and "synth-ext" in index
    assert index["synth-ext"]["releases"]["1.2.3"][0]["python_version"] == "cp314"


def test_compiled_wheels_pass_twine_check(compiled_view: Path) -> None:
    pytest.importorskip("twine")
    wheels = [str(p) for p in compiled_view.glob("synth*.whl")]
    res = subprocess.run([sys.executable, "-m", "twine", "check", *wheels], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.count("PASSED") == 2, res.stdout + res.stderr


@pytest.mark.buildroot
@pytest.mark.skipif(os.geteuid() != 0, reason="the build root needs root")
def test_compiled_lock_validates(compiled_view: Path) -> None:
    assert validate_lock(compiled_view)["problems"] == []
