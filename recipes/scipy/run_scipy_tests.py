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
    "optimize/tests/test_minpack.py",
    "optimize/tests/test_zeros.py",
    "optimize/tests/test_lbfgsb_setulb.py",
    "optimize/tests/test_slsqp.py",
]

# Known wasm limitations. SciPy skips some itself (threads, subprocess, large memory); the ones
# it does not skip are deselected here (node id prefix relative to --rootdir -> reason).
_NO_THREADS = "Pyodide's CPython cannot start a thread (RuntimeError: can't start new thread)"
_NO_PROCESSES = "Pyodide's CPython cannot start a process (multiprocessing.Pool)"
KNOWN_WASM_FAILURES: dict[str, str] = {
    "interpolate/tests/test_fitpack2.py::TestUnivariateSpline::test_concurrency": _NO_THREADS,
    "interpolate/tests/test_bsplines.py::TestBSpline::test_concurrency": _NO_THREADS,
    "interpolate/tests/test_bsplines.py::TestNdBSpline::test_concurrency": _NO_THREADS,
    "fft/tests/test_basic.py::TestFFTThreadSafe": _NO_THREADS,
    "optimize/tests/test_minpack.py::TestFSolve::test_concurrent": _NO_THREADS,
    "optimize/tests/test_minpack.py::TestLeastSq::test_concurrent": _NO_THREADS,
    "fft/tests/test_basic.py::test_multiprocess": _NO_PROCESSES,
    # threading.get_native_id does not exist in Emscripten's CPython (AttributeError)
    "interpolate/tests/test_bsplines.py::TestBSpline::test_memmap": "no threading.get_native_id in wasm",
    # splder finds a kink through np.errstate(divide='raise'); wasm has no floating-point exception
    # flags, so the division by a zero knot span gives inf silently (numpy skips its own such tests)
    "interpolate/tests/test_fitpack.py::TestSplder::test_kink": "no floating-point exception flags in wasm",
}


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
