"""The scientific stack on the session's cold numpy channel (issue 19): libopenblas (BLAS + LAPACK
through f2c), scipy with forge-f77's Fortran and its curated test suite in wasm (`scipy-tests`),
then scikit-learn on it (its own curated tests in wasm); both loaded from the channel's Pyodide view
by npm Pyodide under node."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forge import api

# numpy cold, then libopenblas (about 5-9 min), scipy (about 13 min) and its tests
pytestmark = pytest.mark.timeout(5400)

STACK = ["scipy", "scikit-learn"]

SOLVE = """
import numpy as np, scipy, scipy.fft, scipy.interpolate, scipy.linalg, scipy.special
a = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]])
x = scipy.linalg.solve(a, [1.0, 2.0, 3.0])
t = scipy.interpolate.splrep(np.linspace(0, 1, 10), np.linspace(0, 1, 10) ** 2)
f = scipy.fft.fft(np.ones(8))
[scipy.__version__, bool(np.allclose(a @ x, [1, 2, 3])), round(float(scipy.interpolate.splev(0.5, t)), 6),
 float(f[0].real), float(scipy.special.gamma(5.0))]
"""

@pytest.fixture(scope="session")
def stack(numpy_channel) -> api.BuildReport:  # noqa: ANN001
    report = api.build(STACK, numpy_channel.config, jobs=2)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status not in ("built", "present")}
    return report


@pytest.mark.recipes("scipy")
def test_scipy_and_its_tests_pass_in_wasm(numpy_channel, stack) -> None:  # noqa: ANN001
    for name in ("libf2c", "libopenblas", "scipy"):
        assert stack.results[name].status == "built", (name, stack.results[name].status, stack.results[name].error)
    log = Path(stack.results["scipy"].log).read_text(errors="replace")
    assert "dropped the build's RUNPATH" in log  # meson's build-time RUNPATH, gone before packaging
    for output in ("scipy-1.17.1", "scipy-tests-1.17.1"):
        assert re.search(rf"== wasm tests of {output}-\S+\.conda: ok", log), output
    passed = [int(n) for n in re.findall(r"(\d+) passed", log)]
    assert passed and max(passed) > 5000, passed  # the curated suite, not a smoke test
    # the runtime packages carry no test folders of their own: those are in the -tests outputs
    assert numpy_channel.package("scipy").exists() and numpy_channel.package("scipy-tests").exists()


@pytest.mark.recipes("scipy")
def test_pyodide_solves_with_scipy_from_the_view(numpy_channel, stack) -> None:  # noqa: ANN001
    from forge.toolchain.pyodide_node import run_in_pyodide

    run = run_in_pyodide(SOLVE, view_dir=numpy_channel.channel / "pyodide", packages=["scipy"], timeout=600)
    assert run.result == "['1.17.1', True, 0.25, 8.0, 24.0]", run.result
    assert {"scipy", "numpy", "libopenblas"} <= set(run.loaded), run.loaded


FIT = """
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
X, y = load_iris(return_X_y=True)
Xtr, Xte, ytr, yte = train_test_split(X, y, random_state=0)
round(LogisticRegression(max_iter=500).fit(Xtr, ytr).score(Xte, yte), 3)
"""


@pytest.mark.recipes("scikit-learn")
def test_pyodide_fits_a_scikit_learn_model_from_the_view(numpy_channel, stack) -> None:  # noqa: ANN001
    log = Path(stack.results["scikit-learn"].log).read_text(errors="replace")
    assert re.search(r"== wasm tests of scikit-learn-tests-\S+\.conda: ok", log)
    passed = [int(n) for n in re.findall(r"(\d+) passed", log)]
    assert passed and max(passed) > 3000, passed
    from forge.toolchain.pyodide_node import run_in_pyodide

    run = run_in_pyodide(FIT, view_dir=numpy_channel.channel / "pyodide", packages=["scikit-learn"], timeout=600)
    assert run.result == "0.974", run.result
    assert {"scikit-learn", "scipy", "joblib", "threadpoolctl", "libopenblas"} <= set(run.loaded), run.loaded
