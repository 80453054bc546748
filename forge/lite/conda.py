"""`forge lite --conda`: what a site needs for `%conda install` in its kernel.

    <site>/static/conda/noarch/, emscripten-wasm32/   the channel's repodata.json and the package
                                                     files it indexes (hard links), served by the site
    <site>/static/conda/solver/rattler.mjs            the in-browser solver (forge.lite.solver)
    <site>/static/pyodide/forge_lite_conda-*.whl      the kernel side (forge/lite/conda_kernel.py as
                                                     `forge_lite_conda`) + an IPython startup file
                                                     that registers the magics; in the site's lock,
                                                     preloaded by loadPyodide

Preloading is the one hook the kernel offers before its shell starts: loadPyodide installs the
wheel (with its `.data/data/etc/ipython/startup/` file, under sys.prefix) before the kernel runs
`import pyodide_kernel`, whose IPython app runs the startup files of `<sys.prefix>/etc/ipython`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..fsutil import link_or_copy
from ..toolchain.pyodide_dist import LOCK_FILE
from .solver import MODULE, PACKAGE, VERSION, fetch_solver

CONDA_SUBDIR = "static/conda"
SUBDIRS = ("noarch", "emscripten-wasm32")
SOLVER_FILE = "solver/rattler.mjs"
KERNEL_PACKAGE = "forge-lite-conda"
KERNEL_MODULE = "forge_lite_conda"
KERNEL_VERSION = "0.1.0"
STARTUP = f"etc/ipython/startup/50-{KERNEL_PACKAGE}.py"
_SOURCE = Path(__file__).with_name("conda_kernel.py")


@dataclass
class CondaStage:
    """What was put in the site for `%conda install`."""

    packages: list[str] = field(default_factory=list)  # subdir/file of every staged package
    files: int = 0
    bytes: int = 0
    solver: str = f"{PACKAGE}@{VERSION}"
    solver_bytes: int = 0


def stage_channel(channel_dir: Path, dest: Path, cache_dir: Path | None = None) -> CondaStage:
    """Hard-link the channel's indexed packages and repodata, and the solver, under `dest`."""
    report = CondaStage()
    for sd in SUBDIRS:
        repodata = Path(channel_dir) / sd / "repodata.json"
        if not repodata.is_file():
            continue
        data = json.loads(repodata.read_text())
        for key in ("packages", "packages.conda"):
            for fn in data.get(key) or {}:
                src = repodata.parent / fn
                if src.is_file():
                    link_or_copy(src, dest / sd / fn)
                    report.packages.append(f"{sd}/{fn}")
                    report.bytes += src.stat().st_size
        link_or_copy(repodata, dest / sd / "repodata.json")
        report.files += 1
    report.files += len(report.packages)
    solver = fetch_solver(cache_dir)
    link_or_copy(solver / MODULE, dest / SOLVER_FILE)
    link_or_copy(solver / "package.json", (dest / SOLVER_FILE).with_name("package.json"))
    report.solver_bytes = (solver / MODULE).stat().st_size
    report.files += 2
    return report


def kernel_wheel() -> tuple[str, bytes]:
    """(file name, bytes) of the `forge_lite_conda` wheel; deterministic (fixed zip times)."""
    dist = f"{KERNEL_MODULE}-{KERNEL_VERSION}"
    files = {
        f"{KERNEL_MODULE}.py": _SOURCE.read_bytes(),
        f"{dist}.data/data/{STARTUP}": f"__import__({KERNEL_MODULE!r}).register()\n".encode(),
        f"{dist}.dist-info/METADATA": (f"Metadata-Version: 2.1\nName: {KERNEL_PACKAGE}\nVersion: {KERNEL_VERSION}\n"
                                       "Summary: %conda install in a forge lite kernel\n").encode(),
        f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: wasm-forge\nRoot-Is-Purelib: true\n"
                                   b"Tag: py3-none-any\n",
    }
    record = [f"{n},sha256={_b64(hashlib.sha256(d).digest())},{len(d)}" for n, d in files.items()]
    files[f"{dist}.dist-info/RECORD"] = ("\n".join([*record, f"{dist}.dist-info/RECORD,,"]) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return f"{dist}-py3-none-any.whl", buf.getvalue()


def add_kernel_package(pyodide_dir: Path) -> dict:
    """Write the wheel into the staged `static/pyodide/` and add it to the site's lock (a new
    file: the staged lock may be a hard link of the view's); returns the lock entry."""
    name, data = kernel_wheel()
    (pyodide_dir / name).write_bytes(data)
    lock_path = pyodide_dir / LOCK_FILE
    lock = json.loads(lock_path.read_text())
    entry = {"name": KERNEL_PACKAGE, "version": KERNEL_VERSION, "file_name": name, "install_dir": "site",
             "sha256": hashlib.sha256(data).hexdigest(), "package_type": "package", "imports": [KERNEL_MODULE],
             "depends": [], "unvendored_tests": False}
    lock["packages"][KERNEL_PACKAGE] = entry
    lock_path.unlink()
    lock_path.write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n")
    return entry


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
