"""Sample projects written by the tests: a pure one and a C extension using numpy's C API."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip())
    return root


def pyproject(name: str, version: str, description: str, *, build_requires: tuple[str, ...] = (),
              dependencies: tuple[str, ...] | None = None, test_extra: bool = True, tail: str = "") -> str:
    """A sample's pyproject.toml: setuptools (plus `build_requires`), MIT, a README; optionally
    requires-python + dependencies and a `test` extra with pytest; `tail` appended as is."""
    requires = ", ".join(f'"{r}"' for r in ("setuptools>=68", *build_requires))
    text = f"""\
[build-system]
requires = [{requires}]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "{version}"
description = "{description}"
readme = "README.md"
license = "MIT"
"""
    if dependencies is not None:
        text += 'requires-python = ">=3.11"\ndependencies = [' + ", ".join(f'"{d}"' for d in dependencies) + "]\n"
    if test_extra:
        text += '\n[project.optional-dependencies]\ntest = ["pytest"]\n'
    return text + tail


def pure_project(root: Path, name: str = "purepkg", version: str = "0.1.0") -> Path:
    """src layout, setuptools, one runtime dependency, tests that must run in wasm."""
    return write_project(root, {
        "pyproject.toml": pyproject(name, version, "A pure sample project for the forge's tests",
                                    dependencies=("six",)),
        "README.md": f"# {name}\n\nA sample.\n",
        f"src/{name}/__init__.py": """
            import sys

            def platform():
                return sys.platform
            """,
        "tests/test_pure.py": f"""
            import sys
            import six
            import {name}

            def test_runs_in_wasm():
                assert {name}.platform() == "emscripten"
                assert sys.executable.endswith("/bin/python")

            def test_dependency():
                assert six.PY3
            """,
    })


def cython_project(root: Path, name: str = "cyfib", version: str = "0.1.0") -> Path:
    """src layout, setuptools + Cython, one extension module, a `test` extra with pytest and
    hypothesis (pure wheels pip inside wasm takes from the index)."""
    return write_project(root, {
        "pyproject.toml": pyproject(name, version, "A Cython extension, a sample for the forge's tests",
                                    build_requires=("Cython>=3",), dependencies=(),
                                    tail='\n[tool.setuptools.packages.find]\nwhere = ["src"]\n').replace(
                                        'test = ["pytest"]', 'test = ["pytest", "hypothesis"]'),
        "README.md": f"# {name}\n\nFibonacci numbers in Cython.\n",
        "setup.py": f"""
            from Cython.Build import cythonize
            from setuptools import setup

            setup(ext_modules=cythonize(["src/{name}/_fib.pyx"], language_level=3))
            """,
        f"src/{name}/__init__.py": """
            from ._fib import fib

            __all__ = ["fib"]
            """,
        f"src/{name}/_fib.pyx": """
            def fib(int n):
                cdef long long a = 0, b = 1
                for _ in range(n):
                    a, b = b, a + b
                return a
            """,
        "tests/test_fib.py": f"""
            import sys
            from hypothesis import given, strategies as st
            import {name}

            def test_compiled_in_wasm():
                assert sys.platform == "emscripten"
                assert {name}._fib.__file__.endswith(".cpython-314-wasm32-emscripten.so")
                assert {name}.fib(10) == 55

            @given(st.integers(min_value=2, max_value=80))
            def test_recurrence(n):
                assert {name}.fib(n) == {name}.fib(n - 1) + {name}.fib(n - 2)
            """,
    })


def numpy_c_project(root: Path, name: str = "cnumsum", version: str = "0.1.0") -> Path:
    """Flat layout (the sources sit next to the tests: they must import the installed wheel),
    setuptools + numpy in [build-system].requires, a C extension on numpy's C API."""
    return write_project(root, {
        "pyproject.toml": pyproject(name, version, "A C extension on numpy's C API, a sample for the forge's tests",
                                    build_requires=("numpy>=2",), dependencies=("numpy>=2",),
                                    tail=f'\n[tool.setuptools]\npackages = ["{name}"]\n'),
        "README.md": f"# {name}\n\nSums float64 arrays in C.\n",
        "setup.py": f"""
            import numpy
            from setuptools import Extension, setup

            setup(ext_modules=[Extension("{name}._csum", ["{name}/_csum.c"], include_dirs=[numpy.get_include()])])
            """,
        f"{name}/__init__.py": """
            from ._csum import total, sizeof_npy_intp

            __all__ = ["total", "sizeof_npy_intp"]
            """,
        f"{name}/_csum.c": """
            #define PY_SSIZE_T_CLEAN
            #include <Python.h>
            #define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
            #include <numpy/arrayobject.h>

            static PyObject *total(PyObject *self, PyObject *arg) {
                PyArrayObject *a = (PyArrayObject *)PyArray_FROMANY(arg, NPY_DOUBLE, 0, 0, NPY_ARRAY_IN_ARRAY);
                if (a == NULL) return NULL;
                const double *d = (const double *)PyArray_DATA(a);
                npy_intp n = PyArray_SIZE(a);
                double s = 0.0;
                for (npy_intp i = 0; i < n; i++) s += d[i];
                Py_DECREF(a);
                return PyFloat_FromDouble(s);
            }

            static PyObject *sizeof_npy_intp(PyObject *self, PyObject *unused) {
                return PyLong_FromLong((long)sizeof(npy_intp));
            }

            static PyMethodDef methods[] = {
                {"total", total, METH_O, "Sum of an array as float64."},
                {"sizeof_npy_intp", sizeof_npy_intp, METH_NOARGS, "sizeof(npy_intp) as compiled."},
                {NULL, NULL, 0, NULL},
            };

            static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_csum", NULL, -1, methods};

            PyMODINIT_FUNC PyInit__csum(void) {
                import_array();
                return PyModule_Create(&module);
            }
            """,
        "tests/test_csum.py": f"""
            import sys
            import numpy as np
            import {name}

            def test_total_in_wasm():
                assert sys.platform == "emscripten"
                assert {name}.total(np.arange(10.0)) == 45.0
                assert {name}.total([[1, 2], [3, 4]]) == 10.0

            def test_compiled_for_wasm32():
                assert {name}.sizeof_npy_intp() == 4  # numpy's wasm32 headers, not the build machine's
                assert {name}._csum.__file__.endswith(".cpython-314-wasm32-emscripten.so")
            """,
    })


#: A JupyterLite cell that draws a line plot and an image with matplotlib, shown by the inline
#: backend as a PNG; the marker is printed after plt.show(), so it appears once the figure has
#: (tests/numpy/test_matplotlib.py and benchmarks/bench_lite_mpl.py).
MPL_FIGURE_CELL = """import matplotlib_inline, matplotlib
matplotlib.use("module://matplotlib_inline.backend_inline")
import matplotlib.pyplot as plt, numpy as np
fig, (a, b) = plt.subplots(1, 2, figsize=(6, 3), dpi=80)
a.plot(np.linspace(0, 6, 50), np.sin(np.linspace(0, 6, 50)))
b.imshow(np.outer(np.arange(16.0), np.arange(16.0)))
plt.show()
print("forge-mpl:", matplotlib.__version__)
"""
