"""python-wasm (bin/python-wasm of the `python` package) and `forge run`: CPython in
Pyodide under node, against an installed emscripten-wasm32 prefix."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .conftest import REPO


def pw(prefix: Path, *args: str, cwd: Path | None = None, stdin: bytes | None = None,
       timeout: float = 300) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(prefix / "bin" / "python-wasm"), *args], cwd=cwd, input=stdin,
                          capture_output=True, timeout=timeout)


def test_python_package_layout(wasm_channel, tmp_path: Path) -> None:
    from rattler.package_streaming import extract

    extract(wasm_channel.package("python"), tmp_path)
    assert (tmp_path / "lib/pyodide/pyodide.asm.wasm").is_file()
    assert (tmp_path / "lib/pyodide/python_stdlib.zip").is_file()
    pyconfig = (tmp_path / "include/python3.14/pyconfig.h").read_text()
    assert "#define SIZEOF_VOID_P 4" in pyconfig and "#define SIZEOF_LONG 4" in pyconfig
    assert (tmp_path / "include/python3.14/Python.h").is_file()
    assert (tmp_path / "lib/python3.14/_sysconfigdata__emscripten_wasm32-emscripten.py").is_file()
    assert (tmp_path / "bin/python-wasm").stat().st_mode & 0o111
    index = json.loads((tmp_path / "info/index.json").read_text())
    assert index["version"] == "3.14.2" and index["subdir"] == "emscripten-wasm32"
    assert index["build"].startswith("pyodide314_0_7_")
    assert "pyodide-abi ==2026.0" in index["depends"]
    weak = json.loads((tmp_path / "info/run_exports.json").read_text())["weak"]
    assert weak == ["python 3.14.*", "pyodide-abi ==2026.0"]


def test_extension_packages_pin_python_and_abi(wasm_channel, tmp_path: Path) -> None:
    from rattler.package_streaming import extract

    for name in ("markupsafe", "lz4"):
        extract(wasm_channel.package(name), tmp_path / name)
        depends = json.loads((tmp_path / name / "info/index.json").read_text())["depends"]
        assert "python 3.14.*" in depends and "pyodide-abi ==2026.0" in depends, depends
    lz4_deps = json.loads((tmp_path / "lz4/info/index.json").read_text())["depends"]
    assert any(d.startswith("liblz4 >=1.9.4") for d in lz4_deps), lz4_deps


def test_exit_codes_streams_and_args(wasm_prefix: Path, tmp_path: Path) -> None:
    r = pw(wasm_prefix, "-c", "import sys; print('out'); print('err', file=sys.stderr); sys.exit(7)", cwd=tmp_path)
    assert (r.returncode, r.stdout, r.stderr) == (7, b"out\n", b"err\n")
    r = pw(wasm_prefix, "-c", "import sys; sys.stdout.buffer.write(bytes(range(256)))", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == bytes(range(256))  # raw bytes, no newline added
    r = pw(wasm_prefix, "-c", "raise KeyError('boom')", cwd=tmp_path)
    assert r.returncode == 1 and b"KeyError: 'boom'" in r.stderr and b"Traceback" in r.stderr
    r = pw(wasm_prefix, "-c", "import sys; sys.exit('bye')", cwd=tmp_path)
    assert r.returncode == 1 and r.stderr == b"bye\n"
    r = pw(wasm_prefix, "-c", "import sys; print(sys.stdin.read().upper())", cwd=tmp_path, stdin=b"piped")
    assert r.stdout == b"PIPED\n"
    r = pw(wasm_prefix, "--bogus", cwd=tmp_path)
    assert r.returncode == 2 and b"Unknown option" in r.stderr


def test_scripts_modules_and_the_working_directory(wasm_prefix: Path, tmp_path: Path) -> None:
    (tmp_path / "pkgdir").mkdir()
    (tmp_path / "pkgdir" / "helper.py").write_text("VALUE = 41\n")
    script = tmp_path / "pkgdir" / "main.py"
    script.write_text("import sys, os, helper\n"
                      "open('written.txt', 'w').write(str(helper.VALUE + 1))\n"
                      "print(sys.argv, os.getcwd())\n")
    r = pw(wasm_prefix, str(script), "a", "b c", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == f"[{str(script)!r}, 'a', 'b c'] {tmp_path}\n"
    # the working directory is the host's (NODEFS): the file written in wasm is on disk
    assert (tmp_path / "written.txt").read_text() == "42"
    (tmp_path / "mymod.py").write_text("import sys\nif __name__ == '__main__':\n    print('module', sys.argv[1:])\n")
    r = pw(wasm_prefix, "-m", "mymod", "x", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, b"module ['x']\n")


def test_prefix_site_packages_and_shared_libraries(wasm_prefix: Path, tmp_path: Path) -> None:
    code = ("import sys, os, markupsafe._speedups as s, lz4, lz4.block as b;"
            "sp = os.path.join(sys.prefix, 'lib', 'python3.14', 'site-packages');"
            "assert sp in sys.path and s.__file__.startswith(sp), (sys.path, s.__file__);"
            "assert os.path.join(sys.prefix, 'lib') in os.environ['LD_LIBRARY_PATH'].split(':');"
            "assert b.decompress(b.compress(b'x' * 99)) == b'x' * 99;"
            "print(lz4.library_version_number(), sys.platform)")
    r = pw(wasm_prefix, "-c", code, cwd=tmp_path)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert r.stdout == b"10904 emscripten\n"
    assert Path(wasm_prefix, "lib", "liblz4.so").is_file()


def test_pytest_runs_in_wasm(wasm_prefix: Path, tmp_path: Path) -> None:
    (tmp_path / "test_in_wasm.py").write_text(
        "import sys\n\ndef test_platform():\n    assert sys.platform == 'emscripten'\n\n"
        "def test_fails():\n    assert 1 == 2\n")
    r = pw(wasm_prefix, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 1, r.stdout
    assert b"1 failed, 1 passed" in r.stdout


def test_forge_run(wasm_prefix: Path, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "forge.cli", "run", "--prefix", str(wasm_prefix), "--",
                        "-c", "import sys, ujson; print(ujson.dumps({'a': sys.argv[1:]})); sys.exit(3)", "z"],
                       cwd=tmp_path, capture_output=True, timeout=300)
    assert r.returncode == 3, r.stderr
    assert r.stdout == b'{"a":["z"]}\n'


def test_startup_is_bounded(wasm_prefix: Path, tmp_path: Path) -> None:
    t0 = time.monotonic()
    assert pw(wasm_prefix, "-c", "pass", cwd=tmp_path).returncode == 0
    assert time.monotonic() - t0 < 30


def test_repo_is_not_needed_at_run_time(wasm_prefix: Path, tmp_path: Path) -> None:
    """The launcher is self-contained: it runs with the forge off PATH and another cwd."""
    node_dir = str(Path(shutil.which("node")).parent)
    r = subprocess.run([str(wasm_prefix / "bin" / "python-wasm"), "-c", "print(6 * 7)"],
                       cwd=tmp_path, capture_output=True, env={"PATH": f"{node_dir}:/usr/bin:/bin"}, timeout=300)
    assert (r.returncode, r.stdout) == (0, b"42\n"), r.stderr
    assert str(REPO) not in (wasm_prefix / "bin" / "python-wasm").read_text()


def test_environment_and_memory_snapshot(wasm_prefix: Path, tmp_path: Path) -> None:
    """The snapshot (made by an earlier run with another environment) must not leak its
    environment; with snapshots off the result is the same."""
    import os

    cache = tmp_path / "cache"
    code = "import os, sys; print(os.environ.get('FORGE_PW_VAR'), 'FORGE_PW_OLD' in os.environ, sys.path[0] == '')"
    outs = []
    for var, snap in (("first", "1"), ("second", "1"), ("third", "0")):
        env = {**os.environ, "PYTHON_WASM_CACHE": str(cache), "PYTHON_WASM_SNAPSHOT": snap, "FORGE_PW_VAR": var}
        if var == "first":
            env["FORGE_PW_OLD"] = "x"  # only in the run that makes the snapshot
        r = subprocess.run([str(wasm_prefix / "bin" / "python-wasm"), "-c", code], cwd=tmp_path, env=env,
                           capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr
        outs.append(r.stdout.decode().strip())
    assert outs == ["first True True", "second False True", "third False True"]
    snaps = list(cache.glob("pyodide-314.0.7-*.snapshot"))
    assert len(snaps) == 1 and snaps[0].stat().st_size > 1_000_000


def test_sys_path_executable_pythonpath_and_argv_paths(wasm_prefix: Path, tmp_path: Path) -> None:
    """CPython's rules on the host's node (no JSPI): one '' on sys.path, PYTHONPATH after it,
    sys.executable is the launcher, an absolute test path from another folder is mounted (its
    conftest found), and top-level await says what it needs instead of a traceback."""
    import os

    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "onpath.py").write_text("X = 5\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "extra")}
    r = subprocess.run([str(wasm_prefix / "bin" / "python-wasm"), "-c",
                        "import sys, json, onpath; print(json.dumps([sys.path[:2], sys.path.count(''), sys.executable]))"],
                       cwd=tmp_path, env=env, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [["", str(tmp_path / "extra")], 1, str(wasm_prefix / "bin" / "python-wasm")]
    proj, elsewhere = tmp_path / "proj", tmp_path / "elsewhere"
    proj.mkdir()
    elsewhere.mkdir()
    (proj / "conftest.py").write_text("import pytest\n\n@pytest.fixture\ndef seven():\n    return 7\n")
    (proj / "test_abs.py").write_text("def test_seven(seven):\n    assert seven == 7\n")
    r = pw(wasm_prefix, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(proj / "test_abs.py"), cwd=elsewhere)
    assert r.returncode == 0 and b"1 passed" in r.stdout, r.stdout + r.stderr
    r = pw(wasm_prefix, "-c", "import asyncio\nawait asyncio.sleep(0)", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.decode().strip() == ("python-wasm: top-level await needs JSPI (stack switching): run under "
                                         "node >= 24, e.g. the python of a forge venv")
