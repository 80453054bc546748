"""Build requirements as the build will see them: PEP 508 markers evaluated for the Python that
runs the backend (build tools) or for the target (host packages a cross build compiles against),
never by `pip download` in the forge's own Python; patches applied as rattler-build applies them
(tests/test_fetch_patches.py: the fetch phase asks the patched tree); a Cargo.toml only means Rust
when a Rust build tool builds it. Pure functions: no build root, no network."""

from __future__ import annotations

from pathlib import Path

import pytest

from forge.buildreqs import (Interpreter, applicable, apply_patches, marker_environment,
                             target_environment)
from forge.errors import ForgeError
from forge.helpers.pyodide_build import builds_rust
from forge.toolchain import target

#: zstandard 0.25.0's [build-system].requires, verbatim
ZSTANDARD = [
    "cffi~=1.17; platform_python_implementation != 'PyPy' and python_version < '3.14'",
    "cffi>=2.0.0b; platform_python_implementation != 'PyPy' and python_version >= '3.14'",
    "packaging",
    "setuptools>=77.0.0",
]
ROOT = Interpreter("3.14", build_root=True)


def test_markers_are_evaluated_for_the_python_that_builds() -> None:
    """The build root's 3.14 gets cffi 2; a 3.13 would get cffi 1.17; never both, and what is kept
    carries no marker any more (pip would evaluate it in the forge's Python)."""
    where = {"recipe": "zstandard", "file": "recipes/zstandard/recipe.yaml"}
    assert applicable(ZSTANDARD, marker_environment(ROOT), **where) == ["cffi>=2.0.0b", "packaging", "setuptools>=77.0.0"]
    older = Interpreter("3.13", build_root=True)
    assert applicable(ZSTANDARD, marker_environment(older), **where) == ["cffi~=1.17", "packaging", "setuptools>=77.0.0"]
    env = marker_environment(ROOT)
    assert (env["python_version"], env["sys_platform"], env["platform_system"]) == ("3.14", "linux", "Linux")
    assert env["python_full_version"].startswith("3.14.")


def test_host_packages_are_evaluated_for_the_target() -> None:
    """A cross build's host packages (the recipe's `host:`) answer to emscripten/wasm32; build
    tools to the build machine, whatever their name."""
    wasm = target_environment()
    assert (wasm["sys_platform"], wasm["platform_system"], wasm["platform_machine"]) == ("emscripten", "Emscripten", "wasm32")
    assert wasm["python_version"] == target.PYTHON_XY and wasm["python_full_version"] == target.PYTHON_VERSION
    reqs = ["numpy>=2; sys_platform != 'emscripten'", "pybind11; platform_system == 'Emscripten'",
            "ninja; sys_platform == 'linux'", "meson-python; platform_machine == 'wasm32'"]
    build = marker_environment(ROOT)
    where = {"recipe": "r", "file": "recipes/r/recipe.yaml"}
    assert applicable(reqs, build, wasm, ["numpy", "pybind11", "python"], **where) == ["ninja", "pybind11"]
    # with no host packages named, everything is a build tool on the build machine
    assert applicable(reqs, build, wasm, (), **where) == ["ninja", "numpy>=2"]
    # names are compared normalised (conda's meson-python is PyPI's meson_python)
    assert applicable(["meson_python; platform_machine == 'wasm32'"], build, wasm, ["meson-python"], **where) \
        == ["meson_python"]


def test_an_invalid_requirement_is_one_sentence() -> None:
    with pytest.raises(ForgeError) as info:
        applicable(["cffi >>= 1"], marker_environment(ROOT), recipe="r", file="recipes/r/recipe.yaml")
    msg = str(info.value)
    assert msg.startswith("recipe 'r' (recipes/r/recipe.yaml): the build requirement 'cffi >>= 1' is not a valid")
    assert "\n" not in msg


#: relaxes the pin, as recipes/lru-dict's patch does; the new requirement's marker holds nowhere
PATCH = """\
--- a/pyproject.toml
+++ b/pyproject.toml
@@ -1,3 +1,3 @@
 [build-system]
-requires = ["nosuchtool==80.9.0"]
+requires = ["iniconfig==2.3.1; sys_platform == 'nonesuch'"]
 build-backend = "mybackend"
"""


def test_a_patch_that_does_not_apply_is_one_sentence(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "pyproject.toml").write_text("[build-system]\nrequires = []\n")
    patch = tmp_path / "0001-stale.patch"
    patch.write_text(PATCH)
    with pytest.raises(ForgeError) as info:
        apply_patches(src, [patch], recipe="pinned", file="recipes/pinned/recipe.yaml")
    msg = str(info.value)
    assert msg.startswith("recipe 'pinned' (recipes/pinned/recipe.yaml): the patch 0001-stale.patch does not apply "
                          "to the sdist")
    assert "\n" not in msg and (src / "pyproject.toml").read_text() == "[build-system]\nrequires = []\n"


def test_a_crate_is_built_only_by_a_rust_build_tool(tmp_path: Path) -> None:
    """zstandard ships its optional Rust backend's Cargo.toml beside a setuptools C extension:
    no vendored crates are required unless maturin or setuptools-rust will build it."""
    def project(pyproject: str | None) -> Path:
        d = tmp_path / str(len(list(tmp_path.iterdir())))
        d.mkdir()
        (d / "Cargo.toml").write_text("[package]\nname = 'x'\n")
        if pyproject is not None:
            (d / "pyproject.toml").write_text(pyproject)
        return d

    assert not builds_rust(project('[build-system]\nrequires = ["setuptools>=77", "cffi"]\n'
                                   'build-backend = "setuptools.build_meta"\n'))
    assert builds_rust(project('[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n'))
    assert builds_rust(project('[build-system]\nrequires = ["setuptools", "setuptools-rust>=1.5"]\n'))
    assert builds_rust(project(None))  # setup.py alone: setuptools-rust cannot be ruled out
    assert not builds_rust(tmp_path)  # no Cargo.toml at all


def _wheel(folder: Path, name: str, requires: list[str]) -> None:
    import zipfile  # noqa: PLC0415

    meta = "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(folder / f"{name.replace('-', '_')}-1.0-py3-none-any.whl", "w") as zf:
        di = f"{name.replace('-', '_')}-1.0.dist-info"
        zf.writestr(f"{di}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n{meta}")
        zf.writestr(f"{di}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        zf.writestr(f"{di}/RECORD", "")


def test_dependencies_markers_are_evaluated_for_the_build_root_too(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A build tool's own dependencies, resolved by this machine's real pip (from a local
    find-links folder): `python_version >= "3.14"` is fetched for the build root's 3.14 and
    `< "3.13"` is not, although the forge itself runs on another Python (pypa/pip#11010)."""
    from forge.buildreqs import wheel_set  # noqa: PLC0415

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels, "tool", ['old-only; python_version < "3.13"', 'new-only; python_version >= "3.14"',
                            'linux-only; sys_platform == "linux"'])
    for name in ("old-only", "new-only", "linux-only"):
        _wheel(wheels, name, [])
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    got = wheel_set(["tool"], ROOT, None, tmp_path / "cache", recipe="demo", file="recipes/demo/recipe.yaml")
    assert sorted(p.name.split("-")[0] for p in got.glob("*.whl")) == ["linux_only", "new_only", "tool"]
