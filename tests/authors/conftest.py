"""Fixtures for the library-author commands: real builds, real node 24, a real pypiserver.

`authors_channel` builds python, pytest and micropip into a temp channel once per session;
`numpy_channel` adds numpy to it (the C-extension sample compiles against numpy's C API) from
the session's one cold numpy build, which tests/numpy shares. FORGE_TEST_AUTHORS_CHANNEL names an existing channel holding python,
pytest, micropip and numpy instead, at the developer's own choice (used read-only). Node 24 is
the forge's own (forge.authors.node: installed with npm on first use, then kept like the build
root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.support.testlib import forge_repo_config
import pytest

from forge import api
from forge.config import ForgeConfig

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def _authors_env() -> None:
    if os.geteuid() != 0:
        pytest.skip("the emscripten build root needs root")
    if not shutil.which("node") or not shutil.which("npm"):
        pytest.skip("python-wasm needs node, and npm to install node 24")


def _build(cfg: ForgeConfig, names: list[str]) -> None:
    report = api.build(names, cfg, jobs=2)
    assert report.ok, {n: r.error for n, r in report.results.items() if r.status != "built"}


@pytest.fixture(scope="session")
def authors_config(tmp_path_factory: pytest.TempPathFactory) -> ForgeConfig:
    tmp = tmp_path_factory.mktemp("authors")
    given = os.environ.get("FORGE_TEST_AUTHORS_CHANNEL")
    channel = Path(given) if given else tmp / "channel"
    return forge_repo_config(channel, tmp / "state")


@pytest.fixture(scope="session")
def authors_channel(authors_config: ForgeConfig) -> Path:
    """python + pytest + micropip, built for real into the session's channel."""
    if not os.environ.get("FORGE_TEST_AUTHORS_CHANNEL"):
        _build(authors_config, ["python", "pytest", "micropip"])
    return authors_config.channel_dir


@pytest.fixture(scope="session")
def numpy_channel(authors_channel: Path, authors_config: ForgeConfig,
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same channel with numpy (and its Pyodide view wheel) in it: the packages of the
    session's one cold numpy build (tests.support.testlib.cold_numpy_build), published here."""
    if not os.environ.get("FORGE_TEST_AUTHORS_CHANNEL"):
        from forge.channel import Channel  # noqa: PLC0415
        from forge.pyodide_view import publish_view  # noqa: PLC0415
        from tests.support.testlib import cold_numpy_build  # noqa: PLC0415

        built = cold_numpy_build(tmp_path_factory)[0].channel_dir
        Channel(authors_channel).publish(sorted((built / "emscripten-wasm32").glob("numpy-*.conda")))
        publish_view(authors_channel)
    assert list((authors_channel / "pyodide").glob("numpy-*-cp314-cp314-pyemscripten_2026_0_wasm32.whl"))
    return authors_channel


@pytest.fixture(scope="session")
def wasm_venv(authors_channel: Path, tmp_path_factory: pytest.TempPathFactory):
    """One `forge venv` for the read-only checks (tests that install make their own)."""
    from forge.authors.venv import create_venv  # noqa: PLC0415

    return create_venv(tmp_path_factory.mktemp("venv") / "v", [str(authors_channel)])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: the upload credentials `pypi_server_auth` requires (docs/library-authors.md shows the same form)
PYPI_USER, PYPI_PASSWORD = "forge", "forge-secret"


def start_pypiserver(tmp: Path, *, auth: bool):  # noqa: ANN201  (a generator: yields the base URL)
    """A real pypiserver (installed with pip into TMP) on 127.0.0.1: uploads need PYPI_USER and
    PYPI_PASSWORD (an htpasswd file, as a private index has) when AUTH, else none; downloads never."""
    target = tmp / "lib"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), "pypiserver", "passlib"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    packages = tmp / "packages"
    packages.mkdir()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(target)}
    if auth:
        htpasswd = tmp / "htpasswd"
        make = ("from passlib.apache import HtpasswdFile; h = HtpasswdFile(%r, new=True); "
                "h.set_password(%r, %r); h.save()" % (str(htpasswd), PYPI_USER, PYPI_PASSWORD))
        subprocess.run([sys.executable, "-c", make], env=env, check=True)
        access = ["-a", "update", "-P", str(htpasswd)]
    else:
        access = ["-a", ".", "-P", "."]
    server = subprocess.Popen([sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port),
                               *access, str(packages)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            time.sleep(0.2)
    try:
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="session")
def pypi_server(tmp_path_factory: pytest.TempPathFactory):
    """A real pypiserver accepting uploads without authentication; yields its base URL."""
    yield from start_pypiserver(tmp_path_factory.mktemp("pypiserver"), auth=False)


@pytest.fixture(scope="session")
def pypi_server_auth(tmp_path_factory: pytest.TempPathFactory):
    """A real pypiserver whose uploads need PYPI_USER / PYPI_PASSWORD; yields its base URL."""
    yield from start_pypiserver(tmp_path_factory.mktemp("pypiserver-auth"), auth=True)
