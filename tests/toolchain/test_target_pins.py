"""forge.toolchain.target reads the Pyodide ABI from conda_build_config.yaml: upgrading
Pyodide is a pin change, not a code change."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from forge.locations import PLATFORM_REPO
from forge.toolchain.target import read_pins

PROBE = ("import json; from forge.toolchain import target as t; print(json.dumps([t.PYODIDE_VERSION, "
         "t.PYTHON_VERSION, t.PYTHON_XY, t.EMSCRIPTEN_VERSION, t.PYODIDE_ABI_VERSION, t.PLATFORM_TAG, "
         "t.WHEEL_TAG, t.EXT_SUFFIX]))")


def probe(variant_file: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         env={"FORGE_VARIANT_FILE": str(variant_file), "PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout)


def test_platform_pins() -> None:
    """The pins the forge ships (forge/platform), which every repository builds against."""
    assert probe(PLATFORM_REPO / "conda_build_config.yaml") == [
        "314.0.7", "3.14.2", "3.14", "5.0.3", "2026_0", "pyemscripten_2026_0_wasm32",
        "cp314-cp314-pyemscripten_2026_0_wasm32", ".cpython-314-wasm32-emscripten.so"]


def test_a_pin_change_moves_every_constant(tmp_path: Path) -> None:
    f = tmp_path / "conda_build_config.yaml"
    f.write_text('python:\n  - "3.15"\npyodide_version:\n  - "315.0.0"  # next\npyodide_python:\n'
                 '  - "3.15.1"\npyodide_abi:\n  - "2027_0"\nemscripten_version: [ "6.0.1" ]\n')
    assert read_pins(f)["emscripten_version"] == "6.0.1"
    assert probe(f) == ["315.0.0", "3.15.1", "3.15", "6.0.1", "2027_0", "pyemscripten_2027_0_wasm32",
                        "cp315-cp315-pyemscripten_2027_0_wasm32", ".cpython-315-wasm32-emscripten.so"]


def test_missing_pin_is_a_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "conda_build_config.yaml"
    f.write_text('pyodide_version:\n  - "314.0.7"\n')
    r = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                       env={"FORGE_VARIANT_FILE": str(f), "PATH": "/usr/bin:/bin"})
    assert r.returncode != 0
    assert "does not pin pyodide_python, pyodide_abi, emscripten_version" in r.stderr


@pytest.mark.parametrize(("tag", "ok"), [
    ("cp314-cp314-pyemscripten_2026_0_wasm32", True),
    ("cp39-abi3-pyemscripten_2026_0_wasm32", True),
    ("cp314-abi3-pyemscripten_2026_0_wasm32", True),
    ("cp315-abi3-pyemscripten_2026_0_wasm32", False),
    ("cp313-cp313-pyemscripten_2026_0_wasm32", False),
    ("cp39-abi3-pyemscripten_2025_0_wasm32", False),
    ("cp314-cp314-manylinux_2_17_x86_64", False),
])
def test_installs_here_is_what_pip_would_take(tag: str, ok: bool, tmp_path: Path) -> None:
    """One rule for the build's wheel check and `forge publish`: the target's tag, or abi3 up to its CPython."""
    from forge.authors.publish import check_wheel_name
    from forge.errors import ForgeError
    from forge.toolchain import target

    assert target.installs_here(tag) is ok
    assert target.PLATFORM_TAG == "pyemscripten_2026_0_wasm32"
    whl = tmp_path / f"demo-1.0-{tag}.whl"
    with zipfile.ZipFile(whl, "w") as zf:
        zf.writestr("demo-1.0.dist-info/WHEEL", f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n")
    if ok:
        check_wheel_name(whl)
    else:
        with pytest.raises(ForgeError, match=f"demo-1.0-{tag}.whl is tagged {tag}, not"):
            check_wheel_name(whl)


def test_a_repository_overrides_only_what_it_pins(tmp_path: Path) -> None:
    """A recipe repository's conda_build_config.yaml wins key by key; the rest are the forge's."""
    (tmp_path / "recipes").mkdir()
    (tmp_path / "conda_build_config.yaml").write_text('numpy:\n  - "2.5"\npyodide_abi:\n  - "2027_0"\n')
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert json.loads(out.stdout)[:5] == ["314.0.7", "3.14.2", "3.14", "5.0.3", "2027_0"]


def test_nothing_is_read_at_import(tmp_path: Path) -> None:
    """`forge --help` and `forge --version` work wherever the forge is installed: the pins are read
    on first use, so an unreadable variant file fails only the commands that need it."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "FORGE_VARIANT_FILE": str(tmp_path / "missing.yaml")}
    run = [sys.executable, "-c", "from forge.cli import main; main()"]
    helped = subprocess.run([*run, "--help"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert helped.returncode == 0 and "Usage" in helped.stdout, helped.stderr[-2000:]
    env.pop("FORGE_VARIANT_FILE")
    version = subprocess.run([*run, "--version"], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert version.returncode == 0, version.stderr[-2000:]
    assert version.stdout.split()[:2] == ["wasm-forge", "0.1.0"] and "cp314-cp314-pyemscripten_2026_0_wasm32" in version.stdout
