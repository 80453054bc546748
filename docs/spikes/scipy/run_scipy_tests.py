"""A curated part of SciPy's own test suite, run in python-wasm (Pyodide under node).

`forge build scipy` runs this as the test of `scipy-tests`; a failure blocks publishing.
The selection covers what the wasm build is most likely to get wrong: LAPACK/BLAS through
libopenblas (scipy.linalg), Fortran through forge-f77 (FITPACK in scipy.interpolate, ODRPACK
in scipy.odr), C++ with wasm exceptions (scipy.special, scipy.fft's pocketfft), and the
optimizers built on LAPACK and C (scipy.optimize).

Run by hand in an emscripten-wasm32 prefix holding scipy-tests, pytest and hypothesis:
    python-wasm run_scipy_tests.py [extra pytest args]
"""

import os
import sys

import pytest
import scipy

HERE = os.path.dirname(scipy.__file__)

# Whole test folders/modules (relative to the scipy package).
SELECTED = [
    "linalg/tests/test_basic.py",
    "linalg/tests/test_blas.py",
    "linalg/tests/test_lapack.py",
    "linalg/tests/test_decomp.py",
    "linalg/tests/test_decomp_cholesky.py",
    "linalg/tests/test_decomp_lu.py",
    "linalg/tests/test_cython_blas.py",
    "linalg/tests/test_cython_lapack.py",
    "special/tests/test_basic.py",
    "special/tests/test_gamma.py",
    "special/tests/test_boost_ufuncs.py",
    "interpolate/tests/test_fitpack.py",
    "interpolate/tests/test_fitpack2.py",
    "interpolate/tests/test_bsplines.py",
    "odr/tests",
    "fft/tests/test_basic.py",
    "fft/tests/test_real_transforms.py",
    "optimize/tests/test_minpack.py",
    "optimize/tests/test_zeros.py",
    "optimize/tests/test_lbfgsb_setulb.py",
    "optimize/tests/test_slsqp.py",
]

# Known wasm limitations. SciPy skips some itself (threads, subprocess, large memory); the ones
# it does not skip are deselected here (node id prefix relative to --rootdir -> reason).
KNOWN_WASM_FAILURES: dict[str, str] = {}


def main(argv: list[str]) -> int:
    args = [
        "-q", "-p", "no:cacheprovider",
        # scipy's conftest.py (markers, hypothesis profile) lives at the package root
        f"--rootdir={HERE}",
        "-W", "ignore::pytest.PytestUnraisableExceptionWarning",
    ]
    for node in KNOWN_WASM_FAILURES:
        args += ["--deselect", node]
    args += [os.path.join(HERE, p) for p in SELECTED]
    return int(pytest.main(args + argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
