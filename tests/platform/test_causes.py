"""A failed cross build's sentence names the first real error of the tool that failed (the
compiler, the linker, meson), in one plain line, not the build backend's wrapper exception that
follows it. Real builds of broken sdists made here (put into the download cache by sha256, as
the fetch phase would have found them), against a private copy of the session's wasm channel."""

from __future__ import annotations

import tarfile
import textwrap
from pathlib import Path

import pytest

from forge.causes import first_error, plain
from forge.config import ForgeConfig
from forge.recipes import SourceFile
from forge.sources import SourceCache
from tests.platform.test_bad_input import build_refused
from tests.support.testlib import sha256

SETUP_PY = 'from setuptools import Extension, setup\nsetup(ext_modules=[Extension("{name}._ext", ["{name}/_ext.c"]{extra})])\n'
PYPROJECT = '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n' \
            '[project]\nname = "{name}"\nversion = "1.0"\n\n[tool.setuptools]\npackages = ["{name}"]\n'
EXT_OK = '#include <Python.h>\nstatic struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "_ext", 0, -1, 0};\n' \
         'PyMODINIT_FUNC PyInit__ext(void) { return PyModule_Create(&m); }\n'
RECIPE = """\
package:
  name: {name}
  version: "1.0"
source:
  path: ${{{{ env.get("FORGE_SOURCES") }}}}/{name}-1.0.tar.gz
  sha256: {sha}
build:
  number: 0
  skip:
    - not emscripten
  script: forge-pyodide-build
  variant:
    use_keys:
      - host_platform
requirements:
  host:
    - python
  run:
    - python
tests:
  - python:
      imports: [{name}]
      pip_check: false
"""


def sdist(tmp: Path, name: str, files: dict[str, str]) -> Path:
    """NAME-1.0.tar.gz of FILES, placed in the download cache where the fetch phase looks."""
    root = tmp / f"{name}-1.0"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    out = tmp / f"{name}-1.0.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        tf.add(root, arcname=root.name)
    cached = SourceCache(ForgeConfig.load().cache_dir).path_for(SourceFile(out.name, sha256(out)))
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(out.read_bytes())
    return out


def refused_with_fix(wasm_channel, tmp: Path, name: str, files: dict[str, str]) -> tuple[str, str]:  # noqa: ANN001
    """(cause, fix) of the failed build's one sentence: the cause between the recipe's name and
    the log's, the fix after the log's path."""
    archive = sdist(tmp, name, files)
    res = build_refused(wasm_channel, tmp, name, RECIPE.format(name=name, sha=sha256(archive)))
    assert "\n" not in res.error and "\x1b" not in res.error and "[0m" not in res.error, res.error
    head = f"recipe '{name}' ({tmp}/recipes/{name}/recipe.yaml): the build failed: "
    assert res.error.startswith(head) and "; see the log " in res.error, res.error
    cause, rest = res.error[len(head):].split("; see the log ", 1)
    assert " and " in rest and rest.endswith("."), res.error
    return cause, rest.split(" and ", 1)[1].removesuffix(".")


def refused(wasm_channel, tmp: Path, name: str, files: dict[str, str]) -> str:  # noqa: ANN001
    """The cause in the failed build's one sentence (between the recipe's name and the log's)."""
    return refused_with_fix(wasm_channel, tmp, name, files)[0]


def test_a_compile_error_is_the_compilers_line(wasm_channel, tmp_path: Path) -> None:
    err = refused(wasm_channel, tmp_path, "badc", {
        "pyproject.toml": PYPROJECT.format(name="badc"), "setup.py": SETUP_PY.format(name="badc", extra=""),
        "badc/__init__.py": "", "badc/_ext.c": EXT_OK + "int broken( { return 0; }\n"})
    assert err == "its build script exited 1: badc/_ext.c:4:13: error: expected parameter declarator", err


def test_a_missing_library_is_the_linkers_line(wasm_channel, tmp_path: Path) -> None:
    err, fix = refused_with_fix(wasm_channel, tmp_path, "nolib", {
        "pyproject.toml": PYPROJECT.format(name="nolib"),
        "setup.py": SETUP_PY.format(name="nolib", extra=', libraries=["forgemissing"]'),
        "nolib/__init__.py": "", "nolib/_ext.c": EXT_OK})
    assert err == "its build script exited 1: wasm-ld-21: error: unable to find library -lforgemissing", err
    assert fix == ("no package in the channel holds lib/libforgemissing.so or lib/libforgemissing.a: add a recipe "
                   'for the library that provides forgemissing (CONTRIBUTING.md, "C libraries") and put it in '
                   "the recipe's `host` requirements"), fix


def test_a_header_of_a_library_not_in_host_names_the_package_to_add(wasm_channel, tmp_path: Path) -> None:
    """lz4.h is in the channel (liblz4, a shared-library recipe) but not in the recipe's `host`:
    the compiler's line is the cause and the fix names the package that holds the header."""
    err, fix = refused_with_fix(wasm_channel, tmp_path, "wantslz4", {
        "pyproject.toml": PYPROJECT.format(name="wantslz4"), "setup.py": SETUP_PY.format(name="wantslz4", extra=""),
        "wantslz4/__init__.py": "", "wantslz4/_ext.c": "#include <lz4.h>\n" + EXT_OK})
    assert err == "its build script exited 1: wantslz4/_ext.c:1:10: fatal error: 'lz4.h' file not found", err
    assert fix == "add liblz4 to the recipe's `host` requirements (the channel's package that provides lz4.h)", fix


def test_a_meson_configure_error_is_mesons_line(wasm_channel, tmp_path: Path) -> None:
    err = refused(wasm_channel, tmp_path, "mesonbad", {
        "pyproject.toml": '[build-system]\nrequires = ["meson-python"]\nbuild-backend = "mesonpy"\n\n'
                          '[project]\nname = "mesonbad"\nversion = "1.0"\n',
        "meson.build": "project('mesonbad', 'c')\ndependency('forge-no-such-dep')\n"})
    assert err == ('its build script exited 1: ../meson.build:2:0: ERROR: Dependency "forge-no-such-dep" not found '
                   "(tried pkg-config)"), err


SKBUILD = ('[build-system]\nrequires = ["scikit-build-core>=0.10"]\nbuild-backend = "scikit_build_core.build"\n\n'
           '[project]\nname = "{name}"\nversion = "1.0"\n')


def test_a_cmake_configure_error_is_cmakes_line_and_paragraph(wasm_channel, tmp_path: Path) -> None:
    """scikit-build-core runs CMake (pip's cmake wheel, through pyodide-build's `emcmake`): its
    error is where (the line) and what (the paragraph under it), in one line."""
    err = refused(wasm_channel, tmp_path, "cmakebad", {
        "pyproject.toml": SKBUILD.format(name="cmakebad"), "cmakebad/__init__.py": "",
        "CMakeLists.txt": "cmake_minimum_required(VERSION 3.15)\nproject(${SKBUILD_PROJECT_NAME} LANGUAGES C)\n"
                          "find_package(ForgeNoSuch REQUIRED)\n"})
    assert err == ('its build script exited 1: CMake Error at CMakeLists.txt:3 (find_package): By not providing '
                   '"FindForgeNoSuch.cmake" in CMAKE_MODULE_PATH this project has asked CMake to find a package '
                   'configuration file provided by "ForgeNoSuch", but CMake did not find one'), err  # the sentence ends it


def test_the_cmake_form_builds_a_module_that_runs_in_wasm(wasm_channel, tmp_path: Path) -> None:
    """What `forge new` writes for a scikit-build-core sdist builds: CMake configures for
    emscripten, the module links as a side module, imports and answers in python-wasm."""
    from forge import api  # noqa: PLC0415
    from tests.platform.test_bad_input import private_channel, repo_with  # noqa: PLC0415

    from .conftest import config_for  # noqa: PLC0415

    ext = ('#include <Python.h>\nstatic PyObject *answer(PyObject *s, PyObject *a) { return PyLong_FromLong(42); }\n'
           'static PyMethodDef ms[] = {{"answer", answer, METH_NOARGS, 0}, {0}};\n'
           'static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "_ext", 0, -1, ms};\n'
           'PyMODINIT_FUNC PyInit__ext(void) { return PyModule_Create(&m); }\n')
    archive = sdist(tmp_path, "cmakeok", {
        "pyproject.toml": SKBUILD.format(name="cmakeok"), "cmakeok/__init__.py": "from ._ext import answer\n",
        "cmakeok/_ext.c": ext,
        "CMakeLists.txt": "cmake_minimum_required(VERSION 3.15)\nproject(${SKBUILD_PROJECT_NAME} LANGUAGES C)\n"
                          "find_package(Python COMPONENTS Interpreter Development.Module REQUIRED)\n"
                          "python_add_library(_ext MODULE cmakeok/_ext.c WITH_SOABI)\n"
                          "install(TARGETS _ext DESTINATION cmakeok)\n"})
    recipe = RECIPE.format(name="cmakeok", sha=sha256(archive)).replace(
        "      imports: [cmakeok]", "      imports: [cmakeok, cmakeok._ext]") + \
        '  - script:\n      - python-wasm -c "import cmakeok; assert cmakeok.answer() == 42; print(42)"\n'
    cfg = config_for(tmp_path, repo_with(tmp_path, wasm_channel, {"cmakeok": recipe}), private_channel(wasm_channel, tmp_path))
    res = api.build(["cmakeok"], cfg, jobs=1, view=False).results["cmakeok"]
    assert res.status == "built", res.error
    log = Path(str(res.log)).read_text()
    assert "emcmake: cmake" in log and "scikit-build-core" in log


@pytest.mark.unit
def test_cargo_and_colours() -> None:
    """cargo's colour codes go, and a crate it cannot fetch is named with the reason (what cargo
    prints when its registry is out of reach, as seen here for a setuptools-rust sdist)."""
    out = textwrap.dedent("""\
        \x1b[1m\x1b[32m    Updating\x1b[0m crates.io index
        warning: spurious network error (3 tries remaining): [6] Couldn't resolve host name
        \x1b[1m\x1b[31merror\x1b[0m: failed to get `pyo3` as a dependency of package `demo v0.1.0`
        Caused by:
          download of config.json failed
        error: `cargo metadata` exited with an error:
        build._exceptions.BuildBackendException: Backend subprocess exited when trying to invoke build_wheel[0m
        """).splitlines()
    assert plain(out[-1]).endswith("invoke build_wheel")
    assert first_error(out) == ("cargo could not fetch the crate `pyo3`: the crates registry is not reachable from "
                                "here (Rust crates must come from a local source, docs/languages.md)")
    compile_error = ["\x1b[1mx.c:3:1: \x1b[0m\x1b[0;1;31merror: \x1b[0munknown type name 'foo'", "error: command 'emcc' failed"]
    assert first_error(compile_error) == "x.c:3:1: error: unknown type name 'foo'"


@pytest.mark.unit
def test_missing_files_are_read_from_each_tools_wording() -> None:
    """clang, gcc, wasm-ld, GNU ld, meson and pkg-config each say "not found" their own way; the
    fix looks for the file in the channel (forge.provides)."""
    from forge.causes import missing_file  # noqa: PLC0415

    assert missing_file("x.c:1:10: fatal error: 'zlib.h' file not found") == ("zlib.h", ["include/zlib.h"])
    assert missing_file("x.c:1:10: fatal error: ft2build.h: No such file or directory") == \
        ("ft2build.h", ["include/ft2build.h"])
    assert missing_file("wasm-ld-21: error: unable to find library -lpng16") == \
        ("png16", ["lib/libpng16.so", "lib/libpng16.a"])
    assert missing_file("/usr/bin/ld: cannot find -lz") == ("z", ["lib/libz.so", "lib/libz.a"])
    assert missing_file('../meson.build:2:0: ERROR: Dependency "zlib" not found (tried pkg-config)') == \
        ("zlib", ["lib/pkgconfig/zlib.pc", "share/pkgconfig/zlib.pc"])
    assert missing_file("Package 'libpng', required by 'virtual:world', not found")[0] == "libpng"
    assert missing_file("x.c:3:1: error: unknown type name 'foo'") is None


@pytest.mark.unit
def test_cmake_paragraph_survives_interleaved_streams() -> None:
    """CMake's error goes to stderr, its `-- ...` status to stdout: a log that interleaves them
    (pytest-xdist, a busy pipe) still gives the line and the paragraph's first sentence."""
    out = ["CMake Error at CMakeLists.txt:3 (find_package):",
           '  By not providing "FindX.cmake" in CMAKE_MODULE_PATH this project has asked CMake to find a',
           "-- Configuring incomplete, errors occurred!",
           '  package configuration file provided by "X", but CMake did not find one.',
           '  Could not find a package configuration file provided by "X" with any of']
    assert first_error(out) == ('CMake Error at CMakeLists.txt:3 (find_package): By not providing "FindX.cmake" in '
                                "CMAKE_MODULE_PATH this project has asked CMake to find a package configuration file "
                                'provided by "X", but CMake did not find one.')
