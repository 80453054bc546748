"""The in-browser conda solver a `forge lite --conda` site serves: npm @conda-org/rattler.

rattler (the solver behind pixi and py-rattler, which forge.envs uses) compiled to wasm, the JS
sibling of py-rattler. Its `rattler.bundler.mjs` is one self-contained ES module (the wasm is
inlined and instantiated with initSync, which a web worker, where the kernel runs, allows), so
the kernel loads it with a plain dynamic import() from the site. `npm pack` fetches the tarball
into forge's download cache once; it is checked against the sha256 pinned here, so a later
build is offline and a changed tarball is refused.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import ForgeError
from ..fsutil import extract_tar_atomic
from ..toolchain.paths import default_cache_dir
from ..toolchain.proc import run_logged

PACKAGE = "@conda-org/rattler"
VERSION = "0.3.5"
SHA256 = "2d9c563a9796d4c48b7e5d474ea2e028be49a86c45d62890486a9421ea2cc92b"
#: The one file the site needs (4.1 MB: the module with its 3.0 MB wasm inlined).
MODULE = "dist/rattler.bundler.mjs"


def tarball_name(version: str = VERSION) -> str:
    """npm pack's file name for the scoped package."""
    return f"{PACKAGE.lstrip('@').replace('/', '-')}-{version}.tgz"


def fetch_solver(cache_dir: Path | None = None) -> Path:
    """The unpacked package dir (`package/`), fetched with `npm pack` and verified by sha256."""
    base = (cache_dir or default_cache_dir()) / "npm"
    base.mkdir(parents=True, exist_ok=True)
    tgz = base / tarball_name()
    unpacked = base / tgz.name.removesuffix(".tgz")
    if (unpacked / "package" / MODULE).is_file():
        return unpacked / "package"
    if not tgz.is_file() or _sha256(tgz) != SHA256:
        tgz.unlink(missing_ok=True)
        run_logged(["npm", "pack", f"{PACKAGE}@{VERSION}"], cwd=base, log_path=base / "npm.log",
                   what=f"npm pack {PACKAGE}@{VERSION}",
                   hint="check that npm works and can reach its configured registry")
        got = _sha256(tgz)
        if got != SHA256:
            tgz.unlink(missing_ok=True)
            raise ForgeError(f"{tgz.name} from npm has sha256 {got}, not the pinned {SHA256}, so it was removed",
                             fix="check the npm registry, or update forge.lite.solver's pin after reviewing it")
    return extract_tar_atomic(tgz, unpacked) / "package"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
