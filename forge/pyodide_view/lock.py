"""The view's pyodide-lock.json: entries for what the view holds, and its validation by
pyodide-lock (the library Pyodide's own tooling uses) inside the build root, because
pyodide-lock needs Python >= 3.12 and the host runs 3.11."""

from __future__ import annotations

import json
from pathlib import Path

from .wheel import Artifact, lock_name



def lock_entry(art: Artifact, depends: list[str], tool: dict | None = None) -> dict:
    """One `packages` entry, in the field set and order Pyodide's own lock uses."""
    return {
        "name": lock_name(art.dist_name) if art.package_type == "package" else art.dist_name,
        "version": art.version,
        "file_name": art.file_name,
        "install_dir": art.install_dir,
        "sha256": art.sha256,
        "package_type": art.package_type,
        "imports": list(art.imports),
        "depends": sorted(set(depends)),
        "unvendored_tests": False,
        "tool": tool or {},
    }


def render_lock(info: dict, entries: dict[str, dict]) -> str:
    """The lock text: keys sorted, so an unchanged view writes identical bytes."""
    return json.dumps({"info": info, "packages": dict(sorted(entries.items()))}, indent=1, sort_keys=True) + "\n"


_VALIDATE = r"""
import hashlib, json, sys
from pathlib import Path
from pyodide_lock import PyodideLockSpec

view = Path(sys.argv[1])
problems = []
spec = PyodideLockSpec.from_json(view / "pyodide-lock.json")
try:
    spec.check_wheel_filenames()
except ValueError as exc:
    problems.append(str(exc))
for key, pkg in spec.packages.items():
    f = view / pkg.file_name
    if "://" in pkg.file_name or pkg.file_name.startswith("/"):
        problems.append(f"{key}: file_name {pkg.file_name} is not relative")
    elif not f.is_file():
        problems.append(f"{key}: {pkg.file_name} is missing")
    elif hashlib.sha256(f.read_bytes()).hexdigest() != pkg.sha256:
        problems.append(f"{key}: sha256 of {pkg.file_name} differs from the lock")
    for dep in pkg.depends:
        if dep not in spec.packages:
            problems.append(f"{key}: depends on {dep}, which the lock does not list")
from importlib.metadata import version
print(json.dumps({"pyodide_lock": version("pyodide-lock"),
                  "packages": len(spec.packages), "info": spec.info.to_dict(), "problems": problems}))
"""


def validate_lock(view_dir: Path, root_dir: Path | None = None) -> dict:
    """Check the view's lock with pyodide-lock 0.2.1 in the build root.

    Parses it with `PyodideLockSpec` (which rejects unknown keys and wrong types), runs
    `check_wheel_filenames`, and checks every file_name is relative, present, matches its
    sha256, and every dependency is listed. Returns {"packages", "info", "problems"}.
    """
    from ..toolchain import Bind, BuildRoot  # noqa: PLC0415

    view = Path(view_dir).resolve()
    root = BuildRoot(root_dir)
    root.ensure()
    proc = root.run(["/opt/forge/venv/bin/python", "-c", _VALIDATE, str(view)],
                    binds=[Bind(view, readonly=True)], capture=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])
