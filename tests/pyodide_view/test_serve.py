"""forge serve: real HTTP on 127.0.0.1, CORS and content types."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from forge.serve import serving


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    for name, data in {"pyodide/pyodide.asm.wasm": b"\0asm\1\0\0\0", "pyodide/pyodide-lock.json": b"{}",
                       "pyodide/six-1.17.0-py3-none-any.whl": b"PK\5\6" + bytes(18),
                       "pyodide/libfoo-1.0.zip": b"PK\5\6" + bytes(18), "pyodide/pyodide.mjs": b"export {};",
                       "noarch/repodata.json": b"{}", "noarch/six-1.17.0-pyh_0.conda": b"x"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    return tmp_path


@pytest.mark.parametrize("path, ctype", [
    ("/pyodide/pyodide.asm.wasm", "application/wasm"),
    ("/pyodide/pyodide-lock.json", "application/json"),
    ("/pyodide/six-1.17.0-py3-none-any.whl", "application/zip"),
    ("/pyodide/libfoo-1.0.zip", "application/zip"),
    ("/pyodide/pyodide.mjs", "text/javascript"),
    ("/noarch/repodata.json", "application/json"),
    ("/noarch/six-1.17.0-pyh_0.conda", "application/octet-stream"),
])
def test_content_types_and_cors(site: Path, path: str, ctype: str) -> None:
    with serving(site) as url:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + path) as resp:
            body = resp.read()
            assert resp.status == 200 and resp.headers["Content-Type"] == ctype
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert body == (site / path.lstrip("/")).read_bytes()


def test_preflight_and_missing_files(site: Path) -> None:
    with serving(site) as url:
        req = urllib.request.Request(url + "/pyodide/pyodide-lock.json", method="OPTIONS",
                                     headers={"Origin": "http://localhost:8888",
                                              "Access-Control-Request-Method": "GET"})
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 204
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert "GET" in resp.headers["Access-Control-Allow-Methods"]
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(url + "/nope.whl")
        assert exc.value.code == 404 and exc.value.headers["Access-Control-Allow-Origin"] == "*"


def test_serve_command_in_a_subprocess(site: Path) -> None:
    """The real command: start it on a free port, fetch the wasm, stop it."""
    import re
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "forge.pyodide_view.cli", "serve", "--port", "0",
                             "--channel", str(site)], stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        port = re.search(r"127\.0\.0\.1:(\d+)/", line).group(1)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/pyodide/pyodide.asm.wasm") as resp:
            assert resp.headers["Content-Type"] == "application/wasm"
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
