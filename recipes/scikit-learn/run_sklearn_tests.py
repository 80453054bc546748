"""A curated part of scikit-learn's own test suite, run in python-wasm (Pyodide under node).

`forge build scikit-learn` runs this as the test of `scikit-learn-tests`; a failure blocks
publishing. The selection covers the compiled parts a wasm build can get wrong: libsvm and
liblinear (C++), the Cython trees, k-means, neighbors' trees, coordinate descent, the loss
functions, and scipy underneath (LAPACK, ARPACK, L-BFGS-B through forge-f77's Fortran).

Run by hand in an emscripten-wasm32 prefix holding scikit-learn-tests and pytest:
    python-wasm run_sklearn_tests.py [extra pytest args]
"""

import os
import sys

import pytest
import sklearn

HERE = os.path.dirname(sklearn.__file__)

# Whole test modules (relative to the sklearn package).
SELECTED = [
    "svm/tests/test_svm.py",
    "tree/tests/test_tree.py",
    "cluster/tests/test_k_means.py",
    "neighbors/tests/test_kd_tree.py",
    "neighbors/tests/test_ball_tree.py",
    "linear_model/tests/test_coordinate_descent.py",
    "decomposition/tests/test_pca.py",
    "_loss/tests/test_loss.py",
    "utils/tests/test_extmath.py",
]

# Known wasm limitations. scikit-learn skips some itself (network datasets, threads through
# joblib fall back to sequential); the ones it does not skip are deselected here (node id prefix
# relative to --rootdir -> reason).
KNOWN_WASM_FAILURES: dict[str, str] = {}


def main(argv: list[str]) -> int:
    args = [
        "-q", "-p", "no:cacheprovider",
        # sklearn's conftest.py (fixtures, markers) lives at the package root
        f"--rootdir={HERE}",
        "-W", "ignore::pytest.PytestUnraisableExceptionWarning",
    ]
    for node in KNOWN_WASM_FAILURES:
        args += ["--deselect", node]
    args += [os.path.join(HERE, p) for p in SELECTED]
    return int(pytest.main(args + argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
