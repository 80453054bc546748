"""What the view takes from the pinned Pyodide: its lock's `info` (the ABI the runtime
checks at start-up), and the runtime's own helper packages (micropip) as local files.

The npm `pyodide` package ships the interpreter and its lock, but none of the wheels the
lock names (those live on Pyodide's CDN). micropip is therefore fetched once, by pip,
from the package index pip is configured with, pinned to the version Pyodide's lock
names, and cached; the view records its own sha256 for it (Pyodide's CDN build of the
same version is a different file)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..toolchain.paths import default_cache_dir
from ..toolchain.pyodide_dist import VIEW_RUNTIME
from ..toolchain import target

#: Pyodide packages the view serves next to the channel's: micropip makes
#: `micropip.install` / piplite work against the view.
RUNTIME_PACKAGES = ("micropip",)
#: Files that make the view a complete `indexURL` for loadPyodide (no CDN at all).
RUNTIME_FILES = VIEW_RUNTIME


@dataclass(frozen=True)
class RuntimeWheel:
    """A Pyodide runtime package as a local wheel with the lock entry Pyodide gives it."""

    path: Path
    sha256: str
    entry: dict  # Pyodide's own lock entry (name, version, imports, depends, ...)


def pyodide_dir(cache_dir: Path | None = None, version: str | None = None) -> Path:
    """The unpacked npm package (fetched and verified once by forge.toolchain)."""
    version = version or target.PYODIDE_VERSION
    from ..toolchain.pyodide_dist import fetch_pyodide  # noqa: PLC0415

    return fetch_pyodide(version, cache_dir).package_dir


def pyodide_lock(cache_dir: Path | None = None, version: str | None = None) -> dict:
    """Pyodide's own pyodide-lock.json."""
    version = version or target.PYODIDE_VERSION
    return json.loads((pyodide_dir(cache_dir, version) / "pyodide-lock.json").read_text())


def lock_info(cache_dir: Path | None = None, version: str | None = None) -> dict:
    """The `info` block our lock must carry: copied from the runtime's own lock."""
    version = version or target.PYODIDE_VERSION
    info = dict(pyodide_lock(cache_dir, version)["info"])
    if info.get("python") != target.PYTHON_VERSION:
        raise RuntimeError(f"Pyodide {version}'s lock says Python {info.get('python')}, "
                           f"forge.toolchain.target says {target.PYTHON_VERSION}")
    info.setdefault("version", version)
    return info


def runtime_wheel(name: str, cache_dir: Path | None = None, version: str | None = None) -> RuntimeWheel:
    """The wheel of Pyodide runtime package `name`, pip-downloaded into the cache once."""
    version = version or target.PYODIDE_VERSION
    entry = pyodide_lock(cache_dir, version)["packages"][name]
    dest = (cache_dir or default_cache_dir()) / "pyodide-runtime" / f"{name}-{entry['version']}"
    found = sorted(dest.glob("*.whl")) if dest.is_dir() else []
    if not found:
        tmp = dest.with_name(dest.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--python-version", target.PYTHON_VERSION.rsplit(".", 1)[0], "--implementation", "py",
             "--disable-pip-version-check", "-q", "-d", str(tmp), f"{name}=={entry['version']}"],
            capture_output=True, text=True, check=False)
        found = sorted(tmp.glob("*.whl")) if tmp.is_dir() else []
        if proc.returncode != 0 or not found:
            raise RuntimeError(f"pip could not download {name}=={entry['version']}: "
                               f"{(proc.stderr.strip().splitlines() or ['no output'])[-1]}")
        shutil.rmtree(dest, ignore_errors=True)
        tmp.rename(dest)
        found = sorted(dest.glob("*.whl"))
    path = found[0]
    return RuntimeWheel(path, hashlib.sha256(path.read_bytes()).hexdigest(), entry)
