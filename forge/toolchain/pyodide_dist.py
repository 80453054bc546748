"""Fetch the Pyodide runtime distribution from npm and read the target's
sysconfigdata out of it: the only authoritative description of the target ABI
we have without CPython's source."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import types
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import ToolchainError
from .paths import default_cache_dir
from ..fsutil import extract_tar_atomic, write_atomic
from .proc import run_logged
from . import target

#: npm pyodide's files, the one list: what a page or node needs to start the interpreter
#: (each user brings its own lock) ...
BROWSER_RUNTIME = ("pyodide.js", "pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
                   "package.json")
#: ... what the channel's Pyodide view serves (plus the TypeScript declarations) ...
VIEW_RUNTIME = (*BROWSER_RUNTIME, "pyodide.d.ts", "ffi.d.ts")
#: The lock file's name, in npm pyodide and in every view (the one spelling).
LOCK_FILE = "pyodide-lock.json"
#: ... and what the emscripten-wasm32 `python` package keeps (the whole runtime, its own lock too).
PREFIX_RUNTIME = (*VIEW_RUNTIME, LOCK_FILE, "README.md")

SYSCONFIGDATA = "_sysconfigdata__emscripten_wasm32-emscripten.py"


@dataclass(frozen=True)
class PyodideDist:
    """An npm `pyodide` tarball, verified and unpacked."""

    version: str
    tarball: Path
    integrity: str  # npm's sha512 SRI string
    sha256: str
    package_dir: Path  # unpacked `package/` directory

    def to_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


def sri_sha512(path: Path) -> str:
    """The npm `dist.integrity` form of a file's sha512."""
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _npm_integrity(version: str, log: Path) -> str:
    version = version or target.PYODIDE_VERSION
    out = run_logged(
        ["npm", "view", f"pyodide@{version}", "dist.integrity", "--json"],
        log_path=log, what=f"npm view pyodide@{version}", capture=True,
        hint="check that npm works and can reach its configured registry",
    )
    return json.loads(out)


def fetch_pyodide(version: str | None = None, cache_dir: Path | None = None) -> PyodideDist:
    """`npm pack` pyodide@version into the cache once, verify it, unpack it.

    The registry's integrity is recorded beside the tarball at first fetch, so
    later calls verify offline and take milliseconds.
    """
    version = version or target.PYODIDE_VERSION
    base = (cache_dir or default_cache_dir()) / "npm"
    base.mkdir(parents=True, exist_ok=True)
    # one fetcher at a time: two forge runs sharing a cold cache would unpack over each other.
    # Opened for reading (flock needs no more): a sandboxed build sees a filled cache read-only.
    lock_path = base / f".pyodide-{version}.lock"
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except FileNotFoundError:
        fd = os.open(lock_path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return _fetch_locked(version, base)
    finally:
        os.close(fd)


def _fetch_locked(version: str, base: Path) -> PyodideDist:
    version = version or target.PYODIDE_VERSION
    log = base / "npm.log"
    tarball = base / f"pyodide-{version}.tgz"
    meta_path = base / f"pyodide-{version}.json"
    unpacked = base / f"pyodide-{version}"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else None
    if meta is None or not tarball.is_file() or sri_sha512(tarball) != meta["integrity"]:
        shutil.rmtree(unpacked, ignore_errors=True)
        integrity = _npm_integrity(version, log)
        run_logged(["npm", "pack", f"pyodide@{version}"], cwd=base, log_path=log,
                   what=f"npm pack pyodide@{version}",
                   hint="check that npm works and can reach its configured registry")
        got = sri_sha512(tarball)
        if got != integrity:
            tarball.unlink(missing_ok=True)
            raise ToolchainError(
                f"pyodide-{version}.tgz does not match the registry's integrity "
                f"({got} != {integrity}); the download was removed, retry the command."
            )
        meta = {"version": version, "integrity": integrity,
                "sha256": hashlib.sha256(tarball.read_bytes()).hexdigest()}
        write_atomic(meta_path, json.dumps(meta, indent=2) + "\n")
    if not (unpacked / "package" / "package.json").is_file():
        extract_tar_atomic(tarball, unpacked)
    return PyodideDist(version, tarball, meta["integrity"], meta["sha256"], unpacked / "package")


def sysconfigdata_source(dist: PyodideDist) -> str:
    """The text of the target's `_sysconfigdata_*.py` from python_stdlib.zip."""
    with zipfile.ZipFile(dist.package_dir / "python_stdlib.zip") as zf:
        return zf.read(SYSCONFIGDATA).decode()


def load_sysconfigdata(source: str, pyodide_root: str = "/pyodide-root") -> dict[str, object]:
    """Evaluate sysconfigdata source into `build_time_vars`, deterministically.

    The module reads PYODIDE_ROOT from os.environ; it gets a stand-in `os`
    so the result never depends on the caller's environment.
    """
    fake_os = types.SimpleNamespace(environ={"PYODIDE_ROOT": pyodide_root})
    real_import = __import__

    def _import(name: str, *args: object, **kwargs: object) -> object:
        return fake_os if name == "os" else real_import(name, *args, **kwargs)

    ns: dict[str, object] = {"__builtins__": {**__builtins__.__dict__, "__import__": _import}
                             if isinstance(__builtins__, types.ModuleType)
                             else {**__builtins__, "__import__": _import}}
    exec(compile(source, SYSCONFIGDATA, "exec"), ns)
    return dict(ns["build_time_vars"])  # type: ignore[arg-type]


def npm_install_pyodide(prefix: Path, version: str | None = None, log: Path | None = None) -> Path:
    """`npm install pyodide@version --prefix DIR` (for running wasm under node); returns the package dir."""
    version = version or target.PYODIDE_VERSION
    pkg = prefix / "node_modules" / "pyodide"
    if (pkg / "package.json").is_file() and json.loads((pkg / "package.json").read_text())["version"] == version:
        return pkg
    run_logged(["npm", "install", "--no-save", f"pyodide@{version}", "--prefix", str(prefix)],
               log_path=log or prefix / "npm.log", what=f"npm install pyodide@{version}",
               hint="check that npm works and can reach its configured registry")
    return pkg


def node_version() -> str:
    """The host node's version (pyodide runs under it in tests)."""
    return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
