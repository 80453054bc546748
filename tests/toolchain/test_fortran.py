"""Fortran 77 for emscripten-wasm32 (docs/languages.md): forge-f77 (f2c, then emcc with Pyodide's
flags) in the build root, the libf2c recipe's build script, a side module called from CPython in
Pyodide through ctypes with Fortran's calling convention, and meson taking forge-f77 for gfortran."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from forge.helpers import fortran
from forge.recipes import SourceFile
from forge.sources import SourceCache
from forge.toolchain import BuildRoot, run_in_pyodide
from forge.toolchain.cross_env import prepare_cross_env
from forge.toolchain.target import CFLAGS, LDFLAGS
from forge.toolchain.wasmcheck import check_so
from tests.support.testlib import REPO

NODE = pytest.mark.skipif(not shutil.which("node"), reason="node not installed")
F77 = [sys.executable, "-m", "forge.helpers.fortran"]  # the forge-f77 console script, from this checkout

AXPY_F = """\
C     y := a*x + y, the BLAS way: arguments by reference, arrays by address
      SUBROUTINE FAXPY(N, A, X, Y)
      INTEGER N, I
      DOUBLE PRECISION A, X(N), Y(N)
      DO 10 I = 1, N
         Y(I) = A*X(I) + Y(I)
   10 CONTINUE
      END

      DOUBLE PRECISION FUNCTION FDOT(N, X, Y)
      INTEGER N, I
      DOUBLE PRECISION X(N), Y(N)
      FDOT = 0.0D0
      DO 20 I = 1, N
         FDOT = FDOT + X(I)*Y(I)
   20 CONTINUE
      END

      REAL FUNCTION SROOT(X)
      REAL X
      SROOT = SQRT(X)
      END

C     a dummy subroutine (a C callback), a COMMON block and list-directed output (libf2c's I/O)
      SUBROUTINE CALL_CB(FCN, N, X)
      EXTERNAL FCN
      INTEGER N
      DOUBLE PRECISION X(N), FDOT, T
      COMMON /LAST_DOT/ T
      CALL FCN(N, X)
      T = FDOT(N, X, X)
      WRITE(*,*) 'CALL_CB N=', N
      END
"""

# C declares the Fortran routines as gfortran's users do (scipy's wrappers): wasm-ld checks that
CALLER_C = """\
void faxpy_(int *n, double *a, double *x, double *y);
double fdot_(int *n, double *x, double *y);

double forge_caller(void) {
    double x[3] = {1, 2, 3}, y[3] = {1, 1, 1}, a = 2;
    int n = 3;
    faxpy_(&n, &a, x, y);
    return fdot_(&n, x, y);
}
"""

CALL_FROM_PYTHON = r"""
import ctypes, json
lib = ctypes.CDLL("/lib/libaxpy.so")
n, a = ctypes.c_int(4), ctypes.c_double(2.0)
x = (ctypes.c_double * 4)(1, 2, 3, 4)
y = (ctypes.c_double * 4)(10, 20, 30, 40)
lib.faxpy_.restype = None
lib.faxpy_(ctypes.byref(n), ctypes.byref(a), x, y)
lib.fdot_.restype = ctypes.c_double
dot = lib.fdot_(ctypes.byref(n), x, y)
lib.sroot_.restype = ctypes.c_float
root = lib.sroot_(ctypes.byref(ctypes.c_float(2.25)))
seen = []
def callback(np, xp):
    seen.append(np[0])
    xp[0] = 5.0
cb = ctypes.CFUNCTYPE(None, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_double))(callback)
lib.call_cb_.restype = None
lib.call_cb_(cb, ctypes.byref(n), x)
last = ctypes.c_double.in_dll(lib, "last_dot_").value
lib.forge_caller.restype = ctypes.c_double
json.dumps({"y": list(y), "dot": dot, "root": root, "seen": seen, "last": last, "caller": lib.forge_caller()})
"""

MESON_BUILD = """\
project('f77demo', 'c')
add_languages('fortran', native: false)
ff = meson.get_compiler('fortran')
message('fortran: ' + ff.get_id() + ' ' + ff.version())
fargs = ff.get_supported_arguments('-Wno-conversion', '-std=legacy', '-fdefault-integer-8')
flib = static_library('flib', 'axpy.f', fortran_args: fargs, gnu_symbol_visibility: 'hidden')
# as scipy links its FITPACK and ODRPACK modules: a C file and a Fortran library, linked by forge-f77
shared_module('demo', 'caller.c', link_with: flib, link_language: 'fortran')
# linked by emcc instead: meson adds -lgfortran, libf2c's alias
shared_module('demo_clink', 'caller.c', link_with: flib)
"""


# -- the pure parts, no build root ------------------------------------------------------------------

def test_gfortran_abi_makes_subroutines_void_with_one_underscore() -> None:
    c = ('#include "f2c.h"\n\n/* Subroutine */ int call_cb__(S_fp fcn, integer *n)\n{\n'
         '    extern /* Subroutine */ int faxpy_(integer *);\n    if (*n < 0) {\n\treturn 0;\n    }\n'
         '    (*fcn)(n);\n    last_dot__1.t = 1.;\n    return 0;\n} /* call_cb__ */\n\n'
         'doublereal fdot_(integer *n)\n{\n    integer i__1;\n    return 0;\n} /* fdot_ */\n')
    out = fortran.gfortran_abi(c)
    assert "/* Subroutine */ void call_cb_(S_fp fcn" in out
    assert "extern /* Subroutine */ void faxpy_(" in out
    assert out.count("return;") == 2 and "return 0;" in out.split("fdot_(")[1]  # functions keep theirs
    assert "#define S_fp forge_S_fp" in out and "#define U_fp forge_S_fp" in out
    assert "last_dot__1.t" in out and "i__1" in out  # f2c's own names are not external names


def test_free_form_and_fortran_90_spellings_become_fixed_form_fortran_77() -> None:
    assert fortran.free_to_fixed("stop; end program\n") == "      stop\n      end\n"
    fixed = fortran.free_to_fixed("10 x = 'a;b' ! note\ny = 1 + &\n  & 2\n")
    assert fixed == "10    x = 'a;b'\n      y = 1 +  2\n"  # what follows the leading & is kept
    long = fortran.free_to_fixed("x = " + "1 + " * 30 + "1\n").splitlines()
    assert len(long) == 2 and long[1].startswith("     &") and all(len(ln) <= 72 for ln in long)
    src = ("      recursive function splint(t,n) result(splint_res)\n      implicit none\n"
           "      real*8 :: splint_res\nc  splint_res in a comment stays\n      splint_res = 0.\n      end\n")
    assert fortran.f77_dialect(src) == ("      function splint(t,n) \n      implicit none\n      real*8 splint\n"
                                        "c  splint_res in a comment stays\n      splint = 0.\n      end\n")


def test_command_line_is_sorted_as_gfortran_would() -> None:
    opts = fortran.parse_args(["-Ilibf.p", "-fvisibility=hidden", "-Wall", "-O0", "-g", "-fPIC", "-std=legacy",
                               "-Jlibf.p", "-o", "x.f.o", "-c", "../x.f", "-DNDEBUG", "-fimplicit-none"])
    assert (opts.mode, opts.output, opts.sources, opts.includes) == ("compile", "x.f.o", ["../x.f"], ["libf.p"])
    assert opts.emcc == ["-fvisibility=hidden", "-O0", "-g", "-fPIC"] and opts.defines == ["-DNDEBUG"]
    assert "-u" in opts.f2c
    link = fortran.parse_args(["-o", "m.so", "a.o", "-Wl,--as-needed", "-shared", "-Wl,--start-group", "l.a",
                               "-lgfortran", "-lm", "-Wl,--end-group"])
    assert link.inputs == ["a.o", "-Wl,--start-group", "l.a", "-lgfortran", "-lm", "-Wl,--end-group"]
    assert fortran.parse_args(["-cpp", "-x", "f95", "-E", "-dM", "-"]).dump_macros
    assert fortran.main(["-fdefault-integer-8", "-c", "x.f"]) == 1  # meson's probe: unsupported


# -- in the build root -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def libf2c(build_root: BuildRoot, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prefix holding what recipes/libf2c installs: its build.sh run on Debian's tarball, fetched
    and verified as the forge's fetch phase does."""
    recipe = YAML(typ="safe").load((REPO / "recipes/libf2c/recipe.yaml").read_text())
    version = str(recipe["context"]["version"])
    name = Path(recipe["source"]["path"]).name.replace("${{ version }}", version)
    tarball = SourceCache(build_root.cache_dir).fetch(SourceFile(name, recipe["source"]["sha256"]),
                                                      recipe="libf2c", file="recipes/libf2c/recipe.yaml")
    tmp = tmp_path_factory.mktemp("libf2c")
    with tarfile.open(tarball) as tf:
        tf.extractall(tmp, filter="data")
    src, prefix = next(tmp.iterdir()), tmp / "prefix"
    prefix.mkdir()  # rattler-build's $PREFIX exists before the script runs
    env = {**os.environ, "PREFIX": str(prefix), "SRC_DIR": str(src), "PKG_VERSION": version,
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(["bash", str(REPO / "recipes/libf2c/build.sh")], cwd=src, env=env, check=True)
    return prefix


def _emcc(build_root: BuildRoot, args: list[str], where: Path, *more: Path) -> str:
    """Run emcc in the root in `where` (and `more` dirs visible); its stderr (wasm-ld's warnings)."""
    res = build_root.run(["emcc", *args], cwd=where, binds=[where, *more], capture=True, check=False)
    assert res.returncode == 0, res.stderr
    return res.stderr


@pytest.mark.buildroot
@NODE
def test_fortran_side_module_is_called_from_python_in_wasm(build_root: BuildRoot, libf2c: Path,
                                                           tmp_path: Path) -> None:
    (tmp_path / "axpy.f").write_text(AXPY_F)
    (tmp_path / "caller.c").write_text(CALLER_C)
    version = subprocess.run([*F77, "--version"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert version.startswith("GNU Fortran (forge-f77: f2c 20240504")  # run in the root from the host
    subprocess.run([*F77, "-c", "axpy.f", "-o", "axpy.o", "-O2", "-fPIC", "-std=legacy"], cwd=tmp_path, check=True)
    _emcc(build_root, [*CFLAGS, "-c", "caller.c", "-o", "caller.o"], tmp_path)
    warnings = _emcc(build_root, [*LDFLAGS, "axpy.o", "caller.o", f"-L{libf2c}/lib", "-lf2c", "-o", "libaxpy.so"],
                     tmp_path, libf2c)
    assert "signature mismatch" not in warnings  # f2c's `int` subroutines would trap (unreachable)
    assert check_so(tmp_path / "libaxpy.so") == []
    run = run_in_pyodide(CALL_FROM_PYTHON, files={"/lib/libaxpy.so": tmp_path / "libaxpy.so"},
                         cache_dir=build_root.cache_dir)
    got = json.loads(run.result)
    assert got["y"] == [12.0, 24.0, 36.0, 48.0]
    assert got["dot"] == 1 * 12 + 2 * 24 + 3 * 36 + 4 * 48
    assert got["root"] == 1.5  # a REAL function returns float (-R), as with gfortran
    assert got["seen"] == [4] and got["last"] == 5 * 5 + 2 * 2 + 3 * 3 + 4 * 4
    assert got["caller"] == 3 * 1 + 5 * 2 + 7 * 3
    assert " CALL_CB N= 4" in run.messages  # libf2c's list-directed WRITE reached Python's stdout



@pytest.mark.buildroot
@NODE
def test_meson_takes_forge_f77_for_its_fortran_compiler(build_root: BuildRoot, libf2c: Path, meson_bin: Path,
                                                       tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    for name, text in {"meson.build": MESON_BUILD, "axpy.f": AXPY_F, "caller.c": CALLER_C}.items():
        (proj / name).write_text(text)
    launcher = fortran.write_launcher(tmp_path / "bin")
    cross = prepare_cross_env(build_root).env()
    cross_file = build_root.run(["pyodide", "config", "get", "meson_cross_file"], env=cross, capture=True).stdout.strip()
    env = {**cross, "PATH": f"{meson_bin}:{cross['PATH']}", "CC": "emcc", "FC": str(launcher),
           "CFLAGS": " ".join(CFLAGS), "LDFLAGS": " ".join([*LDFLAGS, f"-L{libf2c}/lib"])}
    script = f"meson setup build proj --cross-file {cross_file} && ninja -C build"
    res = build_root.run(["sh", "-ec", script], env=env, cwd=tmp_path, binds=[tmp_path, libf2c.parent, meson_bin.parent],
                         capture=True, check=False)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert f"Fortran compiler for the host machine: {launcher} (gcc 4.2.1" in res.stdout
    assert "Compiler for Fortran supports arguments -std=legacy: YES" in res.stdout
    assert "Compiler for Fortran supports arguments -fdefault-integer-8: NO" in res.stdout
    modules = {f"/lib/{n}": tmp_path / "build" / n for n in ("libdemo.so", "libdemo_clink.so")}
    code = ("import ctypes, json\nlibs = [ctypes.CDLL(p) for p in " + repr(sorted(modules)) + "]\n"
            "for lib in libs:\n    lib.forge_caller.restype = ctypes.c_double\n"
            "json.dumps([lib.forge_caller() for lib in libs])")
    assert json.loads(run_in_pyodide(code, files=modules, cache_dir=build_root.cache_dir).result) == [34.0, 34.0]
