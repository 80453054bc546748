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


def refused(wasm_channel, tmp: Path, name: str, files: dict[str, str]) -> str:  # noqa: ANN001
    """The cause in the failed build's one sentence (between the recipe's name and the log's)."""
    archive = sdist(tmp, name, files)
    res = build_refused(wasm_channel, tmp, name, RECIPE.format(name=name, sha=sha256(archive)))
    assert "\n" not in res.error and "\x1b" not in res.error and "[0m" not in res.error, res.error
    head = f"recipe '{name}' ({tmp}/recipes/{name}/recipe.yaml): the build failed: "
    assert res.error.startswith(head) and "; see the log " in res.error, res.error
    return res.error[len(head):].split("; see the log ")[0]


def test_a_compile_error_is_the_compilers_line(wasm_channel, tmp_path: Path) -> None:
    err = refused(wasm_channel, tmp_path, "badc", {
        "pyproject.toml": PYPROJECT.format(name="badc"), "setup.py": SETUP_PY.format(name="badc", extra=""),
        "badc/__init__.py": "", "badc/_ext.c": EXT_OK + "int broken( { return 0; }\n"})
    assert err == "its build script exited 1: badc/_ext.c:4:13: error: expected parameter declarator", err


def test_a_missing_library_is_the_linkers_line(wasm_channel, tmp_path: Path) -> None:
    err = refused(wasm_channel, tmp_path, "nolib", {
        "pyproject.toml": PYPROJECT.format(name="nolib"),
        "setup.py": SETUP_PY.format(name="nolib", extra=', libraries=["forgemissing"]'),
        "nolib/__init__.py": "", "nolib/_ext.c": EXT_OK})
    assert err == "its build script exited 1: wasm-ld-21: error: unable to find library -lforgemissing", err


def test_a_meson_configure_error_is_mesons_line(wasm_channel, tmp_path: Path) -> None:
    err = refused(wasm_channel, tmp_path, "mesonbad", {
        "pyproject.toml": '[build-system]\nrequires = ["meson-python"]\nbuild-backend = "mesonpy"\n\n'
                          '[project]\nname = "mesonbad"\nversion = "1.0"\n',
        "meson.build": "project('mesonbad', 'c')\ndependency('forge-no-such-dep')\n"})
    assert err == ('its build script exited 1: ../meson.build:2:0: ERROR: Dependency "forge-no-such-dep" not found '
                   "(tried pkg-config)"), err


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
