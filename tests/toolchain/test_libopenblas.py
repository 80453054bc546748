"""libopenblas (recipes/libopenblas, docs/languages.md "BLAS and LAPACK"): the pieces of build_lapack.py
that turn reference LAPACK into one ABI (no build root), forge-f77 on a LAPACK file's quirk, and the
built package used as scipy would use it: meson finds it by dependency('openblas'), ('lapack'),
('blas') and ('cblas') through its pkg-config files, and a C side module linked against it runs in
python-wasm."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from forge import api
from forge.envs import create_env
from forge.toolchain import BuildRoot
from forge.toolchain.cross_env import prepare_cross_env
from forge.toolchain.target import CFLAGS, LDFLAGS
from tests.support.testlib import REPO, forge_repo_config

RECIPE = REPO / "recipes" / "libopenblas"
NODE = pytest.mark.skipif(not shutil.which("node"), reason="node not installed")
F77 = [sys.executable, "-m", "forge.helpers.fortran"]


def _build_lapack() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_lapack", RECIPE / "build_lapack.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -- build_lapack.py, no build root ----------------------------------------------------------------

def test_hidden_lengths_of_character1_arguments_are_dropped_by_macros() -> None:
    bl = _build_lapack()
    f2c_params = ["char *jobz", "integer *m", "integer *n", "doublereal *a", "integer *info", "ftnlen jobz_len"]
    assert bl.length_macro("dgesdd_", f2c_params, flame=False) == \
        "#define dgesdd_(a0, a1, a2, a3, a4, l0) dgesdd_(a0, a1, a2, a3, a4)"
    # CHARACTER*(*) arguments keep theirs (the callee reads them); so does a CHARACTER function's result
    assert bl.length_macro("ilaenv_", ["integer *ispec", "char *name__", "char *opts", "ftnlen name_len",
                                       "ftnlen opts_len"], flame=False) is None
    assert bl.length_macro("chla_transtype_", ["char *ret_val", "ftnlen ret_val_len", "integer *trans"],
                           flame=False) is None
    assert bl.length_macro("dgemv_", ["integer *m"], flame=False) is None
    # libflame's translations have no hidden lengths: callers pass one per `char *`
    assert bl.length_macro("dgebal_", ["char *job", "integer *n", "integer *info"], flame=True) == \
        "#define dgebal_(a0, a1, a2, l0) dgebal_(a0, a1, a2)"


def test_libflame_translation_gets_void_subroutines_and_xerbla_ilaenv_lengths() -> None:
    bl = _build_lapack()
    flame = ('#include "FLA_f2c.h" /* Table of constant values */\nstatic integer c__1 = 1;\n'
             "/* Subroutine */\nint dpstf2_(char *uplo, integer *n, integer *info)\n{\n"
             "    extern /* Subroutine */\n    int dscal_(integer *), xerbla_(char *, integer *);\n"
             "    extern integer ilaenv_(integer *, char *, char *, integer *, integer *, integer *, integer *);\n"
             "    integer nb;\n    if (*n < 0) {\n        xerbla_(\"DPSTF2\", n);\n        return 0;\n    }\n"
             "    /* a brace } in a comment */\n"
             "    nb = ilaenv_(&c__1, \"DPOTRF\", uplo, n, &c__1, &c__1, &c__1);\n    return 0;\n}\n"
             "/* dpstf2_ */\nlogical disnan_(doublereal *x)\n{\n    return 0;\n}\n")
    out = bl.adapt_flame(flame)
    assert '#include "f2c.h"' in out and "FLA_f2c.h" not in out
    assert "/* Subroutine */ void dpstf2_(char *uplo" in out and "/* Subroutine */ void dscal_(" in out
    assert "xerbla_(char *, integer *, ftnlen)" in out
    assert "ilaenv_(integer *, char *, char *, integer *, integer *, integer *, integer *, ftnlen, ftnlen)" in out
    assert 'xerbla_("DPSTF2", n, (ftnlen)6);' in out
    assert 'ilaenv_(&c__1, "DPOTRF", uplo, n, &c__1, &c__1, &c__1, (ftnlen)6, (ftnlen)1)' in out
    body, function = out.split("/* dpstf2_ */")
    assert "return 0;" not in body and body.count("return;") == 2
    assert "return 0;" in function  # a LOGICAL function keeps its value


def test_fortran_90_rewrites_keep_fixed_form() -> None:
    bl = _build_lapack()
    src = ("      INTRINSIC          MIN, MAX, CEILING, REAL\n"
           "            NUM_ALL_ROW_BLOCKS = MAX( 1,\n"
           "     $                   CEILING( DBLE( M - N ) / DBLE( MB1 - N ) ) )\n")
    assert bl._ceiling(src) == ("      INTRINSIC          MIN, MAX, REAL\n"
                                "            NUM_ALL_ROW_BLOCKS = MAX( 1,\n"
                                "     $                   ((M-N)+(MB1-N)-1)/(MB1-N) )\n")
    loop = ("      NBTILES   = CEILING( REAL(N)/REAL(KD) )\n"
            "              IF( STT.GT.ED ) EXIT\n                              EXIT\n")
    assert bl._bulge_chasing(loop) == ("      NBTILES   = ((N)+(KD)-1)/(KD)\n"
                                       "              IF( STT.GT.ED ) GO TO 100\n"
                                       "                              GO TO 130\n")
    with pytest.raises(ValueError, match="expected one"):
        bl._bulge_chasing("      X = 1\n")  # LAPACK moved on: the rewrite says so instead of guessing


def test_lapack_objects_are_reference_lapacks_default_build(tmp_path: Path) -> None:
    bl = _build_lapack()
    (tmp_path / "Makefile").write_text(
        "ALLAUX = ilaenv.o xerbla.o \\\n   ../INSTALL/ilaver.o ../INSTALL/slamch.o\nSCLAUX = sbdsqr.o\nDZLAUX = dbdsqr.o\n"
        "SLASRC = sgesv.o\nDSLASRC = spotrs.o\nCLASRC = cgesv.o\nZCLASRC = cgetrs.o\nDLASRC = dgesv.o\n"
        "ZLASRC = zgesv.o\nifdef USEXBLAS\nDXLASRC = dgesvxx.o\nendif\nDEPRECSRC = DEPRECATED/dgegs.o\n")
    assert bl.makefile_objects(tmp_path / "Makefile") == [
        "../INSTALL/ilaver", "../INSTALL/slamch", "cgesv", "cgetrs", "dbdsqr", "dgesv", "ilaenv", "sbdsqr", "sgesv",
        "spotrs", "xerbla", "zgesv"]


# -- forge-f77 on LAPACK's files ----------------------------------------------------------------------

@pytest.mark.buildroot
def test_forge_f77_translates_a_file_whose_last_end_has_no_newline(build_root: BuildRoot, tmp_path: Path) -> None:
    # LAPACK 3.12.1's zgetsqrhrt.f and slaorhr_col_getrfnp.f end so; f2c alone: "I/O error on c_file"
    (tmp_path / "last.f").write_text("      SUBROUTINE LAST(X)\n      DOUBLE PRECISION X\n      X = 1\n      END")
    res = subprocess.run([*F77, "-c", "last.f", "-o", "last.o"], cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "last.o").read_bytes()[:4] == b"\0asm"


# -- the built package, used as scipy would ----------------------------------------------------------

MESON_BUILD = """\
project('blasuser', 'c')
openblas = dependency('openblas')
lapack = dependency('lapack')
blas = dependency('blas')
cblas = dependency('cblas')
message('openblas ' + openblas.version() + ' libs: ' + openblas.get_pkgconfig_variable('libdir'))
shared_module('blasuser', 'cblas_check.c', dependencies: [openblas, lapack])
"""


@pytest.fixture(scope="module")
def openblas_prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """recipes/libopenblas built (python and libf2c first) into a temp channel, then installed with
    python into an emscripten-wasm32 prefix as `forge env create` does."""
    if os.geteuid() != 0:
        pytest.skip("the emscripten build root needs root")
    tmp = tmp_path_factory.mktemp("openblas")
    cfg = forge_repo_config(tmp / "channel", tmp / "state")
    report = api.build(["libopenblas"], cfg, jobs=1, view=False)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status not in ("built", "present")}
    create_env(tmp / "env", [cfg.channel_dir.resolve().as_uri()], ["python", "libopenblas"])
    return tmp / "env"



@pytest.mark.recipes("libopenblas")
@pytest.mark.buildroot
@pytest.mark.timeout(3600)
@NODE
def test_meson_finds_it_and_a_c_caller_runs_in_python_wasm(build_root: BuildRoot, openblas_prefix: Path,
                                                          meson_bin: Path, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "meson.build").write_text(MESON_BUILD)
    shutil.copy(RECIPE / "cblas_check.c", proj)
    cross = prepare_cross_env(build_root).env()
    cross_file = build_root.run(["pyodide", "config", "get", "meson_cross_file"], env=cross, capture=True).stdout.strip()
    env = {**cross, "PATH": f"{meson_bin}:{cross['PATH']}", "CC": "emcc", "CFLAGS": " ".join(CFLAGS),
           "LDFLAGS": " ".join(LDFLAGS), "PKG_CONFIG_LIBDIR": f"{openblas_prefix}/lib/pkgconfig", "PKG_CONFIG_PATH": ""}
    script = f"meson setup build proj --cross-file {cross_file} && ninja -C build"
    res = build_root.run(["sh", "-ec", script], env=env, cwd=tmp_path,
                         binds=[tmp_path, openblas_prefix, meson_bin.parent], capture=True, check=False)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    for name in ("openblas", "lapack", "blas", "cblas"):
        assert f"Run-time dependency {name} found: YES 0.3.34" in res.stdout, res.stdout[-3000:]
    assert "signature mismatch" not in out
    module = tmp_path / "build" / "libblasuser.so"
    code = ("import ctypes, json, os\n"
            f"ctypes.CDLL({str(openblas_prefix / 'lib' / 'libopenblas.so')!r}, mode=os.RTLD_GLOBAL)\n"
            f"m = ctypes.CDLL({str(module)!r})\n"
            "print(json.dumps({'cblas_check': m.cblas_check()}))\n")
    run = subprocess.run([str(openblas_prefix / "bin" / "python-wasm"), "-c", code], cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {"cblas_check": 0}
