"""Every compiled package, installed from the channel with py-rattler into an
emscripten-wasm32 prefix, imports and works under python-wasm and under the unmodified npm
Pyodide (its .so files and shared libraries loaded from Pyodide's file system)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from .conftest import COMPILED

# per package: code whose last expression must evaluate to the expected text
EXERCISE = {
    "markupsafe": ("import markupsafe, markupsafe._speedups as s; str(markupsafe.escape('<a href=\"x\">'))",
                   "&lt;a href=&#34;x&#34;&gt;"),
    "cymem": ("from cymem.cymem import Pool; p = Pool(); (type(p).__module__, p.size, len(p.addresses))",
              "('cymem.cymem', 0, 0)"),
    "ujson": ("import ujson; ujson.dumps({'pi': 3.141592653589793, 'x': [1e300, -0.0]}, sort_keys=True)",
              '{"pi":3.141592653589793,"x":[1e+300,-0.0]}'),
    "memory-allocator": ("from memory_allocator.test import TestMemoryAllocator as T; t = T(); t.malloc(100) > 0",
                         "True"),
    "liblz4": ("import ctypes, os; ctypes.CDLL(LIBDIR + '/liblz4.so').LZ4_versionNumber()", "10904"),
    "lz4": ("import lz4, lz4.frame as f; d = bytes(range(256)) * 64; "
            "(f.decompress(f.compress(d)) == d, lz4.library_version_number())", "(True, 10904)"),
}


def test_every_compiled_recipe_is_exercised() -> None:
    assert sorted(EXERCISE) == sorted(COMPILED)


@pytest.mark.parametrize("name", COMPILED)
def test_works_in_python_wasm(name: str, wasm_prefix: Path, tmp_path: Path) -> None:
    code, expected = EXERCISE[name]
    *stmts, last = code.rsplit(";", 1) if ";" in code else ("", code)
    prog = f"LIBDIR = {str(wasm_prefix / 'lib')!r}\n" + "".join(s + "\n" for s in stmts) + f"print({last.strip()})"
    r = subprocess.run([str(wasm_prefix / "bin" / "python-wasm"), "-c", prog], cwd=tmp_path,
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    assert r.stdout.decode().strip() == expected


def pyodide_files(prefix: Path) -> dict[str, Path]:
    """The prefix's site-packages and shared libraries at the paths npm Pyodide loads them from."""
    files: dict[str, Path] = {}
    sp = prefix / "lib" / "python3.14" / "site-packages"
    for f in sp.rglob("*"):
        if f.is_file():
            files[f"/lib/python3.14/site-packages/{f.relative_to(sp)}"] = f
    for f in (prefix / "lib").glob("*.so"):
        files[f"/usr/lib/{f.name}"] = f
    return files


def test_all_work_in_npm_pyodide(wasm_prefix: Path) -> None:
    from forge.toolchain import run_in_pyodide

    lines = ["results = []", "LIBDIR = '/usr/lib'"]
    for name in COMPILED:
        code, _ = EXERCISE[name]
        *stmts, last = code.rsplit(";", 1) if ";" in code else ("", code)
        lines += [s.strip() for s in stmts if s.strip()] + [f"results.append(str({last.strip()}))"]
    lines.append("'|'.join(results)")
    got = run_in_pyodide("\n".join(lines), pyodide_files(wasm_prefix)).result.split("|")
    assert got == [EXERCISE[n][1] for n in COMPILED]


def test_forge_test_runs_the_recipe_tests_in_wasm(wasm_channel, tmp_path: Path) -> None:
    env_cfg = ["--channel", str(wasm_channel.channel)]
    r = subprocess.run([sys.executable, "-m", "forge.cli", "test", "memory-allocator", *env_cfg],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    # both outputs: the runtime package's imports, the -tests output's script (its own doctests)
    assert "ok memory-allocator-0.2.1" in r.stdout and "ok memory-allocator-tests-0.2.1" in r.stdout, r.stdout
    assert "0:imports" in r.stdout and "0:script" in r.stdout, r.stdout
    log = Path(r.stdout.split("log: ", 1)[1].split()[0])
    assert "Test passed." in log.read_text()  # the project's own doctests ran in wasm


def test_forge_test_imports_a_noarch_package_in_wasm(wasm_channel, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "forge.cli", "test", "pytest", "--channel", str(wasm_channel.channel)],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok pytest-9.2.0-pyh" in r.stdout and "0:imports" in r.stdout
    log = Path(r.stdout.split("log: ", 1)[1].split()[0]).read_text()
    assert "imported: _pytest, py, pytest" in log
