"""`forge build numpy` (and its dependents) for real: outputs, split, run_exports, tests in
wasm, the no-op rebuild, the channel's Pyodide view. One shared build (conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from forge.wasmtest import _extract

# the first test also pays for the session build (numpy; pywavelets and bottleneck only for the tests marked with them)
pytestmark = [pytest.mark.usefixtures("numpy_channel"), pytest.mark.timeout(3600)]


def _index(pkg: Path, tmp: Path) -> dict:
    d = _extract(pkg, tmp / pkg.stem)
    return json.loads((d / "info" / "index.json").read_text())


def _files(pkg: Path, tmp: Path) -> list[str]:
    d = tmp / pkg.stem
    if not d.exists():
        _extract(pkg, d)
    return [p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file() and p.relative_to(d).parts[0] != "info"]


def test_numpy_graph_built_and_published(numpy_channel) -> None:  # noqa: ANN001
    built = numpy_channel.report.by_status("built")
    # the test requirements of numpy-tests (pytest, hypothesis) came into the graph too
    assert {"python", "pyodide-abi", "pytest", "hypothesis", "numpy"} <= set(built)
    np_res = numpy_channel.report.results["numpy"]
    names = sorted(Path(p).name for p in np_res.packages)
    assert any(n.startswith("numpy-2.5.5-") for n in names), names
    assert any(n.startswith("numpy-tests-2.5.5-") for n in names), names


def test_numpy_compiled_once_per_job(numpy_channel) -> None:  # noqa: ANN001
    log = Path(numpy_channel.report.results["numpy"].log).read_text(errors="replace")
    assert log.count("forge-pyodide-build: built numpy-2.5.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl") == 1
    assert "built for another output of this recipe in this job" in log


def test_runtime_and_tests_are_split(numpy_channel, tmp_path: Path) -> None:  # noqa: ANN001
    np_files = _files(numpy_channel.package("numpy"), tmp_path)
    t_files = _files(numpy_channel.package("numpy-tests"), tmp_path)
    sp = "lib/python3.14/site-packages/numpy/"
    assert f"{sp}__init__.py" in np_files
    assert any(f.startswith(sp + "_core/_multiarray_umath.cpython-314-wasm32-emscripten") for f in np_files)
    assert not [f for f in np_files if "/tests/" in f]
    payload = [f for f in t_files if not f.startswith("etc/conda/test-files/")]  # rattler-build's test files
    assert payload and all("/tests/" in f for f in payload)
    assert f"{sp}linalg/tests/test_linalg.py" in t_files
    a = numpy_channel.package("numpy").stat().st_size
    b = numpy_channel.package("numpy-tests").stat().st_size
    assert a < 4.0e6, a  # the runtime stays small (the whole wheel is 4.95 MB)
    assert b > 0.5e6, b


def test_metadata_run_exports_and_pins(numpy_channel, tmp_path: Path) -> None:  # noqa: ANN001
    np_pkg = numpy_channel.package("numpy")
    idx = _index(np_pkg, tmp_path)
    assert idx["subdir"] == "emscripten-wasm32"
    assert any(d.startswith("python 3.14") for d in idx["depends"]), idx["depends"]
    assert any(d.startswith("pyodide-abi") for d in idx["depends"]), idx["depends"]
    rx = json.loads((tmp_path / np_pkg.stem / "info" / "run_exports.json").read_text())
    assert rx == {"weak": ["numpy >=2.5.5,<3"]}
    t_idx = _index(numpy_channel.package("numpy-tests"), tmp_path)
    assert any(d.startswith("numpy ==2.5.5") for d in t_idx["depends"]), t_idx["depends"]


def test_numpy_own_tests_ran_in_wasm(numpy_channel) -> None:  # noqa: ANN001
    log = Path(numpy_channel.report.results["numpy"].log).read_text(errors="replace")
    summary = [ln for ln in log.splitlines() if " passed" in ln and " in " in ln]
    assert any(int(ln.split(" passed")[0].split()[-1]) > 10000 for ln in summary), summary[-3:]
    assert "== wasm tests of numpy-tests" in log and "FAILED" not in log.split("== wasm tests of numpy-tests")[-1][:200]


@pytest.mark.recipes("pywavelets", "bottleneck")
@pytest.mark.parametrize("name,depends_numpy", [("pywavelets", True), ("bottleneck", True)])
def test_downstream_compiled_against_numpy(numpy_channel, downstream, tmp_path: Path, name: str,  # noqa: ANN001
                                           depends_numpy: bool) -> None:
    res = downstream.results[name]
    assert res.status == "built"
    idx = _index(numpy_channel.package(name), tmp_path)
    assert "numpy >=2.5.5,<3" in idx["depends"], idx["depends"]  # numpy's run_exports
    log = Path(res.log).read_text(errors="replace")
    # the build backend's numpy carried the wasm32 numpy's C API
    assert "build requirements numpy==2.5.5 with the host's wasm32 headers" in log
    assert f"== wasm tests of {name}-" in log
    assert " passed" in log


def test_noop_rebuild_builds_nothing(numpy_channel) -> None:  # noqa: ANN001
    """A second `forge build numpy` finds every output in the channel (its speed is benchmarked)."""
    cmd = [sys.executable, "-c", "from forge.cli import main; main()", "build", "numpy", "-c", str(numpy_channel.channel)]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False,
                         env={**__import__("os").environ, "COLUMNS": "1000"})
    assert res.returncode == 0, res.stdout + res.stderr
    assert "nothing to build" in res.stdout + res.stderr


def test_pyodide_loads_numpy_from_the_channel_view(numpy_channel) -> None:  # noqa: ANN001
    from forge.toolchain.pyodide_node import run_in_pyodide  # noqa: PLC0415

    code = ("import numpy as np\n"
            "a = np.random.default_rng(0).random((20, 20))\n"
            "f'{np.__version__} {np.linalg.det(a @ a.T) > 0} {np.fft.fft(np.ones(4))[0].real}'")
    run = run_in_pyodide(view_dir=numpy_channel.channel / "pyodide", code=code, packages=["numpy"])
    assert run.result == "2.5.5 True 4.0", run.result


@pytest.mark.recipes("pywavelets", "bottleneck")
def test_pyodide_loads_the_downstream_packages_from_the_view(numpy_channel, downstream) -> None:  # noqa: ANN001
    from forge.toolchain.pyodide_node import run_in_pyodide  # noqa: PLC0415

    code = ("import numpy as np, pywt, bottleneck as bn\n"
            "f'{len(pywt.wavedec(np.arange(64.), \"db1\"))} {bn.nanmax(np.array([1., np.nan, 3.]))}'")
    run = run_in_pyodide(view_dir=numpy_channel.channel / "pyodide", code=code,
                         packages=["numpy", "pywavelets", "bottleneck"])
    assert run.result == "7 3.0", run.result
