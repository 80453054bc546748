"""Real compiled packages through the view: markupsafe (a C extension) and lz4 (extension
modules linked against the shared liblz4 package), cross-built by `forge.api.build` with
their wasm tests, then loaded by npm Pyodide 314.0.7 under node from the view's lock
(`loadPackage`, `loadPackagesFromImports`, `micropip.install`) and called into.

The channel is tests.support.testlib.wasm_build's (shared with tests/platform and tests/lite,
built once per session); the view goes to a dir of its own, so the channel is not written."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from forge.pyodide_view import ViewReport, publish_view, validate_lock
from forge.toolchain.pyodide_node import run_in_pyodide
from forge.serve import serving
from tests.support.testlib import wasm_build

pytestmark = pytest.mark.skipif(not shutil.which("node"), reason="node not installed")

MARKUPSAFE = ("import markupsafe\nfrom markupsafe import _speedups\n"
              "(str(markupsafe.escape('<a href=\"x\">&</a>')), "
              "markupsafe._escape_inner is _speedups._escape_inner, _speedups.__file__)")
LZ4 = ("import lz4, lz4.block, lz4.frame\ndata = b'wasm-forge ' * 2000\n"
       "block, frame = lz4.block.compress(data), lz4.frame.compress(data)\n"
       "(lz4.block.decompress(block) == data, lz4.frame.decompress(frame) == data, len(frame) < len(data) // 10,\n"
       " lz4.library_version_number(), lz4.block._block.__file__)")
SPEEDUPS_SO = "/lib/python3.14/site-packages/markupsafe/_speedups.cpython-314-wasm32-emscripten.so"


@pytest.fixture(scope="module")
def wasm_view(tmp_path_factory: pytest.TempPathFactory) -> ViewReport:
    cfg, _ = wasm_build(tmp_path_factory)
    return publish_view(cfg.channel_dir, view_dir=tmp_path_factory.mktemp("wasm-view") / "pyodide")


def _lock(report: ViewReport) -> dict:
    return json.loads(report.lock_path.read_text())["packages"]


def _result(text: str) -> tuple:
    return eval(text)  # noqa: S307  (the repr of our own tuple)


def test_the_interpreter_is_not_a_view_package(wasm_view: ViewReport) -> None:
    """`python` (the Pyodide platform package) and the `pyodide-abi` mutex are the runtime,
    not packages: no wheel, no lock entry; every compiled recipe is a pyemscripten wheel."""
    lock = _lock(wasm_view)
    assert "python" not in lock and "pyodide-abi" not in lock
    assert {"python", "pyodide-abi"} <= set(wasm_view.skipped)
    assert not list(wasm_view.view_dir.glob("python-*.whl"))
    assert wasm_view.warnings == []
    for name in ("markupsafe", "cymem", "ujson", "memory-allocator", "lz4"):
        assert lock[name]["file_name"].endswith("-cp314-cp314-pyemscripten_2026_0_wasm32.whl"), lock[name]
    assert lock["lz4"]["depends"] == ["liblz4"]
    assert (lock["liblz4"]["package_type"], lock["liblz4"]["install_dir"]) == ("shared_library", "dynlib")
    assert lock["liblz4"]["file_name"] == "liblz4-1.9.4.zip"


@pytest.mark.buildroot
@pytest.mark.skipif(os.geteuid() != 0, reason="the build root needs root")
def test_the_compiled_lock_validates(wasm_view: ViewReport) -> None:
    assert validate_lock(wasm_view.view_dir)["problems"] == []


def test_markupsafe_loads_and_its_c_speedups_run(wasm_view: ViewReport) -> None:
    run = run_in_pyodide(view_dir=wasm_view.view_dir, code=MARKUPSAFE, packages=["markupsafe"])
    escaped, is_c, so = _result(run.result)
    assert escaped == "&lt;a href=&#34;x&#34;&gt;&amp;&lt;/a&gt;"
    assert is_c is True and so == SPEEDUPS_SO  # the C module, not the pure-Python fallback
    assert run.loaded == ["markupsafe"]


def test_lz4_loads_its_shared_library_through_the_lock(wasm_view: ViewReport) -> None:
    """loadPackage("lz4") pulls liblz4 (a shared_library zip, unpacked into /usr/lib and loaded
    globally) through the lock's depends; lz4's extension modules then resolve liblz4.so."""
    run = run_in_pyodide(view_dir=wasm_view.view_dir, code=LZ4, packages=["lz4"])
    block_ok, frame_ok, small, version, so = _result(run.result)
    assert block_ok and frame_ok and small
    assert version == 10904  # liblz4 1.9.4 from recipes/liblz4, not a copy bundled in lz4
    assert so.endswith("lz4/block/_block.cpython-314-wasm32-emscripten.so")
    assert sorted(run.loaded) == ["liblz4", "lz4"]


def test_load_packages_from_imports(wasm_view: ViewReport) -> None:
    """Pyodide maps import names to lock entries (`imports`) and loads their closure."""
    run = run_in_pyodide(view_dir=wasm_view.view_dir, code=(
        "import pyodide_js\n"
        "await pyodide_js.loadPackagesFromImports('import markupsafe\\nfrom lz4 import frame')\n"
        + MARKUPSAFE.rsplit("\n", 1)[0] + "\nimport lz4.frame\n"
        "(str(markupsafe.escape('<')), markupsafe._escape_inner is _speedups._escape_inner,"
        " lz4.frame.decompress(lz4.frame.compress(b'x' * 99)) == b'x' * 99,"
        " sorted(pyodide_js.loadedPackages.object_keys()))"))
    escaped, is_c, lz4_ok, loaded = _result(run.result)
    assert (escaped, is_c, lz4_ok) == ("&lt;", True, True)
    assert loaded == ["liblz4", "lz4", "markupsafe"]


def test_micropip_installs_compiled_packages_offline(wasm_view: ViewReport) -> None:
    """micropip (itself from the view) installs markupsafe's pyemscripten wheel by URL from
    `forge serve` on 127.0.0.1, and lz4 by name: the lock gives it liblz4 as a dependency."""
    wheel = next(wasm_view.view_dir.glob("markupsafe-*.whl")).name
    with serving(wasm_view.view_dir) as url:
        run = run_in_pyodide(view_dir=wasm_view.view_dir, code=(
            f"import micropip\nawait micropip.install('{url}/{wheel}')\n"
            "await micropip.install('lz4')\n"
            + MARKUPSAFE.rsplit("\n", 1)[0] + "\nimport lz4.block\n"
            "(markupsafe._escape_inner is _speedups._escape_inner, str(markupsafe.escape('&')),"
            " lz4.block.decompress(lz4.block.compress(b'y' * 500)) == b'y' * 500,"
            " sorted(micropip.list()))"), packages=["micropip"], index_from_view=True)
    is_c, escaped, lz4_ok, listed = _result(run.result)
    assert (is_c, escaped, lz4_ok) == (True, "&amp;", True)
    assert {"markupsafe", "lz4", "liblz4", "micropip"} <= set(listed)
