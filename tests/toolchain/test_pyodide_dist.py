"""Pyodide's npm distribution: fetched, verified, and its sysconfigdata turned into pyconfig.h."""

import shutil

import pytest

from forge.toolchain.pyconfig import generate_pyconfig
from forge.toolchain.pyodide_dist import fetch_pyodide, load_sysconfigdata, sri_sha512, sysconfigdata_source
from forge.toolchain.target import EXT_SUFFIX, PYODIDE_VERSION

SOURCE = '''
import os
PYODIDE_ROOT = os.environ.get("PYODIDE_ROOT", "/root/repo")
build_time_vars = {"AR": f"{PYODIDE_ROOT}/emar", "SIZEOF_LONG": 4}
'''


def test_load_sysconfigdata_is_env_independent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYODIDE_ROOT", "/elsewhere")
    assert load_sysconfigdata(SOURCE, pyodide_root="/p") == {"AR": "/p/emar", "SIZEOF_LONG": 4}


@pytest.fixture(scope="module")
def dist():  # type: ignore[no-untyped-def]
    if not shutil.which("npm"):
        pytest.skip("npm not installed")
    return fetch_pyodide()


def test_fetch_verifies_integrity(dist) -> None:  # type: ignore[no-untyped-def]
    assert dist.version == PYODIDE_VERSION
    assert sri_sha512(dist.tarball) == dist.integrity
    assert len(dist.sha256) == 64
    assert (dist.package_dir / "pyodide.asm.wasm").is_file()
    assert fetch_pyodide() == dist  # cached: no second download


def test_real_sysconfigdata_gives_wasm32_pyconfig(dist) -> None:  # type: ignore[no-untyped-def]
    bv = load_sysconfigdata(sysconfigdata_source(dist))
    assert bv["EXT_SUFFIX"] == EXT_SUFFIX
    text = generate_pyconfig(bv).splitlines()
    for line in ("#define SIZEOF_LONG 4", "#define SIZEOF_VOID_P 4", "#define SIZEOF_SIZE_T 4",
                 "#define PYLONG_BITS_IN_DIGIT 30", "/* #undef WITH_PYMALLOC */",
                 "/* #undef Py_GIL_DISABLED */"):
        assert line in text
