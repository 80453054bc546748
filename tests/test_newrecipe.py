"""forge new: the recipe form follows the sdist (noarch: python or compiled), and it lints clean.

The `forge new` cases fetch real sdists through the index pip is configured with (into a
fresh cache per test); the detection cases use hand-made sdists. Nothing is built here.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import textwrap
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from forge.lint import lint_recipe
from forge.newrecipe import Compiled, Sdist, SdistInfo, detect_compiled, recipe_text
from forge.recipes import render
from tests.support.testlib import REPO, forge_cli

PLATFORMS = ("linux-64", "emscripten-wasm32")


def _new(tmp_path: Path, project: str, version: str, *extra: str) -> tuple[Path, dict]:
    recipes = tmp_path / "recipes"
    proc = forge_cli("new", project, "--version", version, "--recipes", str(recipes), *extra,
                     FORGE_CACHE=str(tmp_path / "cache"), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    path = recipes / project / "recipe.yaml"
    assert f"wrote {path}" in proc.stdout
    return path, YAML(typ="safe").load(path.read_text())


def _lint_errors(path: Path) -> list[str]:
    return [str(f) for f in lint_recipe(path.parent.name, path.parent) if f.severity == "error"]


def test_forge_new_pure_project_is_noarch(tmp_path: Path) -> None:
    path, data = _new(tmp_path, "six", "1.17.0")
    assert data["build"]["noarch"] == "python" and data["build"]["script"] == "forge-pip-install"
    assert "skip" not in data["build"] and "forge-pyodide-build" not in path.read_text()
    assert data["tests"][0]["python"]["imports"] == ["six"]
    sha = data["source"]["sha256"]
    cached = tmp_path / "cache" / "sources" / sha / "six-1.17.0.tar.gz"
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == sha
    assert _lint_errors(path) == []
    outs = render("six", path.parent, platforms=PLATFORMS, variant_file=REPO / "conda_build_config.yaml").outputs
    assert [o.subdir for o in outs] == ["noarch"]
    again = forge_cli("new", "six", "--version", "1.17.0", "--recipes", str(tmp_path / "recipes"),
                      FORGE_CACHE=str(tmp_path / "cache"))
    assert again.returncode == 1 and "exists already; pass --force to overwrite it." in again.stderr + again.stdout


@pytest.mark.parametrize(
    ("project", "version", "imports"),
    [
        ("msgpack", "1.1.2", ["msgpack", "msgpack._cmsgpack"]),    # Cython; _packer/_unpacker.pyx are included
        ("markupsafe", "3.0.3", ["markupsafe", "markupsafe._speedups"]),  # C in a src/ layout
    ],
)
def test_forge_new_compiled_project(tmp_path: Path, project: str, version: str, imports: list[str]) -> None:
    path, data = _new(tmp_path, project, version)
    build = data["build"]
    assert "noarch" not in build
    assert build["script"] == "forge-pyodide-build" and build["skip"] == ["not emscripten"]
    assert build["variant"]["use_keys"] == ["host_platform"]
    assert data["requirements"]["host"] == ["python"]
    assert data["tests"][0]["python"]["imports"] == imports
    assert path.read_text().startswith("# Compiled for emscripten-wasm32 by forge-pyodide-build: setup.py declares")
    assert _lint_errors(path) == []
    recipe = render(project, path.parent, platforms=PLATFORMS, variant_file=REPO / "conda_build_config.yaml")
    assert recipe.platforms["linux-64"] == []
    assert [o.subdir for o in recipe.platforms["emscripten-wasm32"]] == ["emscripten-wasm32"]


# --- detection on hand-made sdists ----------------------------------------------------------


def make_sdist(tmp_path: Path, name: str, files: dict[str, str]) -> Path:
    path = tmp_path / f"{name}-1.0.tar.gz"
    files = {"PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nSummary: demo\nLicense: MIT\n", **files}
    with tarfile.open(path, "w:gz") as tf:
        for rel, text in files.items():
            data = textwrap.dedent(text).encode()
            info = tarfile.TarInfo(f"{name}-1.0/{rel}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def detect(path: Path) -> Compiled | None:
    with Sdist(path) as sd:
        return detect_compiled(sd)


def test_c_files_in_tests_and_docs_leave_a_project_pure(tmp_path: Path) -> None:
    sd = make_sdist(tmp_path, "cparse", {"pyproject.toml": '[build-system]\nbuild-backend = "flit_core.buildapi"\n',
                                         "cparse/__init__.py": "", "tests/c_files/x.c": "int main(void){}",
                                         "docs/examples/y.cpp": "", "examples/z.pyx": ""})
    assert detect(sd) is None


def test_cython_include_files_are_not_modules(tmp_path: Path) -> None:
    sd = make_sdist(tmp_path, "fast", {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools", "Cython"]\n',
        "fast/__init__.py": "", "fast/_core.pyx": 'include "_part.pyx"\n', "fast/_part.pyx": "",
        "fast/sub/__init__.py": "", "fast/sub/_speed.pyx": "", "tests/test_x.pyx": ""})
    found = detect(sd)
    assert found is not None and found.modules == ["fast._core", "fast.sub._speed"] and not found.numpy
    assert found.reasons[0] == "build requires cython"


def test_c_module_outside_a_package_and_setup_py_names(tmp_path: Path) -> None:
    ujsonish = make_sdist(tmp_path, "uj", {"setup.py": "from setuptools import setup\nsetup()\n",
                                           "src/uj/python/uj.c": "PyMODINIT_FUNC PyInit_uj(void) { return 0; }"})
    assert detect(ujsonish).modules == ["uj"]
    helper = make_sdist(tmp_path, "big", {"pyproject.toml": '[build-system]\nbuild-backend = "mesonpy"\n',
                                          "big/__init__.py": "", "big/core/__init__.py": "",
                                          "big/core/src/umath.c": "PyMODINIT_FUNC PyInit__umath(void) {}",
                                          "big/core/meson.build": "py.extension_module('_umath', srcs, subdir: 'big/core')"})
    assert detect(helper).modules == ["big.core._umath"]  # not a top-level `_umath` from the C helper folder
    named = make_sdist(tmp_path, "named", {
        "setup.py": 'from setuptools import Extension, setup\nsetup(ext_modules=[Extension(\n    "named._impl", ["x.c"])])\n',
        "named/__init__.py": "", "named/other.pyx": ""})
    found = detect(named)
    assert found.modules == ["named._impl"] and "setup.py declares extension modules" in found.reasons


def test_meson_numpy_project_gets_numpy_in_host(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "wave", {
        "pyproject.toml": '[build-system]\nbuild-backend = "mesonpy"\nrequires = ["meson-python", "numpy>=2"]\n',
        "meson.build": "project('wave', 'c')\n",
        "wave/__init__.py": "",
        "wave/meson.build": "py.extension_module('_ext', 'ext.c',\n  install: true,\n  subdir: 'wave/core')\n",
        "wave/core/__init__.py": ""})
    found = detect(path)
    assert found.modules == ["wave.core._ext"] and found.numpy
    assert found.reasons[:2] == ["build backend meson-python", "build requires numpy"] or \
        found.reasons[0] == "build backend meson-python"
    text = recipe_text(SdistInfo("wave", "1.0", path.name, "a" * 64, path))
    data = YAML(typ="safe").load(text)
    assert data["requirements"]["host"] == ["python", "numpy"]
    assert data["tests"][0]["python"]["imports"] == ["wave", "wave.core._ext"]
    folder = tmp_path / "recipes" / "wave"
    folder.mkdir(parents=True)
    (folder / "recipe.yaml").write_text(text)
    assert _lint_errors(folder / "recipe.yaml") == []


def test_maturin_module_name(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "rusty", {
        "pyproject.toml": '[build-system]\nbuild-backend = "maturin"\nrequires = ["maturin"]\n'
                          '[tool.maturin]\nmodule-name = "rusty._rusty"\n',
        "Cargo.toml": '[package]\nname = "rusty"\n[lib]\nname = "_rusty"\n', "src/lib.rs": "",
        "python/rusty/__init__.py": ""})
    found = detect(path)
    assert found.modules == ["rusty._rusty"] and "build backend maturin" in found.reasons


def test_imports_follow_setuptools_packages_find() -> None:
    """xarray's sdist has a `properties/` test package its wheel leaves out (include = ["xarray*"])."""
    from forge.newrecipe import _imports

    names = ["xarray/__init__.py", "xarray/core/__init__.py", "properties/__init__.py", "setup.py"]
    assert _imports(names, "xarray") == ["properties", "xarray"]
    find = {"tool": {"setuptools": {"packages": {"find": {"include": ["xarray*"]}}}}}
    assert _imports(names, "xarray", find) == ["xarray"]
    exclude = {"tool": {"setuptools": {"packages": {"find": {"exclude": ["properties*"]}}}}}
    assert _imports(names, "xarray", exclude) == ["xarray"]


# --- Rust and CMake sdists: the form and what the header says ----------------------------------


def _header(path: Path) -> str:
    """The recipe's leading comment block as one line (wrapping undone)."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line[2:])
    return " ".join(lines)


@pytest.mark.parametrize(
    ("project", "version", "tool", "imports"),
    [
        ("rpds-py", "2026.5.1", "build backend maturin", ["rpds"]),
        ("tiktoken", "0.14.0", "build requires setuptools-rust", ["tiktoken", "tiktoken._tiktoken"]),
    ],
)
def test_forge_new_rust_project_says_which_crates_debian_lacks(tmp_path: Path, project: str, version: str,
                                                                tool: str, imports: list[str]) -> None:
    """Both pin a pyo3 newer than Debian's: the header says `forge build` would refuse it and why,
    read from Debian's archive index into the test's own cache (nothing downloaded but the index)."""
    from forge.newrecipe import FORM_NOTES  # noqa: PLC0415

    path, data = _new(tmp_path, project, version)
    head = _header(path)
    assert head.startswith(f"Compiled for emscripten-wasm32 by forge-pyodide-build: {tool}"), head
    assert FORM_NOTES["rust"] in head, head
    assert "`forge build` would refuse it in the fetch phase, for now: " in head, head
    pinned = {"rpds-py": "0.28.3", "tiktoken": "0.29.2"}[project]
    assert f"pyo3 is required as {pinned} by the sdist's Cargo.toml, but Debian's archive has " in head, head
    assert "(librust-pyo3-dev)" in head, head
    assert data["build"]["script"] == "forge-pyodide-build"
    assert data["tests"][0]["python"]["imports"] == imports
    assert _lint_errors(path) == []


def test_rust_sdist_whose_crates_debian_serves_says_so(tmp_path: Path) -> None:
    """A maturin crate asking for memchr 2 (Debian has it): the header says every crate resolves."""
    sd = make_sdist(tmp_path, "rusty", {
        "pyproject.toml": '[build-system]\nrequires = ["maturin>=1"]\nbuild-backend = "maturin"\n\n'
                          '[project]\nname = "rusty"\nversion = "1.0"\n\n[tool.maturin]\nmodule-name = "rusty._rusty"\n',
        "Cargo.toml": '[package]\nname = "rusty"\nversion = "1.0.0"\nedition = "2021"\n\n'
                      '[lib]\nname = "_rusty"\ncrate-type = ["cdylib"]\n\n[dependencies]\nmemchr = "2"\n',
        "src/lib.rs": "pub fn f() {}\n", "rusty/__init__.py": ""})
    info = SdistInfo("rusty", "1.0", sd.name, hashlib.sha256(sd.read_bytes()).hexdigest(), sd)
    text = recipe_text(info, tmp_path / "cache")
    head = " ".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    assert "Debian's archive serves all of its crates (" in head and "checked against its index" in head, head
    assert "would refuse" not in head
    assert YAML(typ="safe").load(text)["tests"][0]["python"]["imports"] == ["rusty", "rusty._rusty"]


def test_forge_new_scikit_build_core_project_is_the_cmake_form(tmp_path: Path) -> None:
    """iminuit: scikit-build-core + pybind11; its module is where CMake's install(TARGETS) puts it,
    and the sdist's stray top-level scripts (python_releases.py) are not imports of the wheel."""
    from forge.newrecipe import FORM_NOTES  # noqa: PLC0415

    path, data = _new(tmp_path, "iminuit", "2.33.0")
    head = _header(path)
    assert head.startswith("Compiled for emscripten-wasm32 by forge-pyodide-build: build backend scikit-build-core"), head
    assert FORM_NOTES["cmake"] in head, head
    assert data["tests"][0]["python"]["imports"] == ["iminuit", "iminuit._core"]
    assert _lint_errors(path) == []


def test_cmake_modules_follow_install_destination(tmp_path: Path) -> None:
    sd = make_sdist(tmp_path, "cmk", {
        "pyproject.toml": '[build-system]\nrequires = ["scikit-build-core"]\nbuild-backend = "scikit_build_core.build"\n'
                          '\n[project]\nname = "cmk"\nversion = "1.0"\n',
        "CMakeLists.txt": "project(${SKBUILD_PROJECT_NAME} LANGUAGES C)\n# pybind11_add_module(old x.c)\n"
                          "python_add_library(_ext MODULE cmk/_ext.c WITH_SOABI)\n"
                          "nanobind_add_module(_nb cmk/nb.cpp)\n"
                          "install(TARGETS _ext _nb DESTINATION ${SKBUILD_PROJECT_NAME}/sub)\n",
        "cmk/_ext.c": "", "cmk/nb.cpp": "", "cmk/__init__.py": "", "helper.py": ""})
    found = detect(sd)
    assert found is not None and found.form == "cmake"
    assert found.modules == ["cmk.sub._ext", "cmk.sub._nb"]
