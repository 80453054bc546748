"""Integration: a C extension built in the sid root against the generated
headers loads in npm Pyodide 314.0.7 under node."""

import json
import shutil
from pathlib import Path

import pytest

from forge.toolchain import BuildRoot
from forge.toolchain.cross_env import prepare_cross_env
from forge.toolchain.pyodide_node import run_in_pyodide
from forge.toolchain.target import CFLAGS, EXT_SUFFIX, LDFLAGS

pytestmark = [pytest.mark.buildroot,
              pytest.mark.skipif(not shutil.which("node"), reason="node not installed")]

EXT = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *twice(PyObject *self, PyObject *arg) {
    long v = PyLong_AsLong(arg);
    if (v == -1 && PyErr_Occurred()) return NULL;
    return PyLong_FromLong(2 * v);
}

static PyObject *info(PyObject *self, PyObject *unused) {
    return Py_BuildValue("(iin)", (int)sizeof(long), (int)sizeof(void *), PY_SSIZE_T_MAX);
}

static PyMethodDef methods[] = {
    {"twice", twice, METH_O, "2*x"},
    {"info", info, METH_NOARGS, "sizes"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "forgetest", NULL, -1, methods};

PyMODINIT_FUNC PyInit_forgetest(void) { return PyModule_Create(&mod); }
"""


def test_xbuildenv_is_read_by_pyodide_build(build_root: BuildRoot) -> None:
    ce = prepare_cross_env(build_root)
    assert prepare_cross_env(build_root) == ce  # second call: a no-op
    pyconfig = (build_root.root_dir / ce.python_include.lstrip("/") / "pyconfig.h").read_text()
    assert "#define SIZEOF_VOID_P 4" in pyconfig
    out = build_root.run(["sh", "-c", "pyodide config get python_version && "
                          "pyodide config get emscripten_version && pyodide config get pyodide_abi_version"],
                         env=ce.env(), capture=True).stdout.split()
    assert out == ["3.14.2", "5.0.3", "2026_0"]


def test_extension_loads_in_pyodide(build_root: BuildRoot, tmp_path: Path) -> None:
    ce = prepare_cross_env(build_root)
    (tmp_path / "forgetest.c").write_text(EXT)
    so = f"forgetest{EXT_SUFFIX}"
    build_root.run(["sh", "-c", f"emcc {' '.join(CFLAGS)} -I$PYTHONINCLUDE -c forgetest.c -o forgetest.o && "
                    f"emcc {' '.join(LDFLAGS)} forgetest.o -o {so}"],
                   env=ce.env(), cwd=tmp_path, binds=[tmp_path], capture=True)
    result = run_in_pyodide(
        "import sys, json\nsys.path.insert(0, '/ext')\nimport forgetest\n"
        "json.dumps([forgetest.twice(21), forgetest.info(), sys.version.split()[0]])",
        files={f"/ext/{so}": tmp_path / so}, cache_dir=build_root.cache_dir)
    assert json.loads(result.result) == [42, [4, 4, 2**31 - 1], "3.14.2"]
