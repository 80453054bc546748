"""`forge-pip-install`: the one way recipes install a Python sdist into $PREFIX.

rattler-build exports conda-build's pip variables (no index, no build isolation, no deps),
under which a PEP 517 backend cannot be found. This re-enables build isolation, keeps the
index off and points pip at the forge's wheelhouse (filled in the fetch phase), so a build
needs no network. Console scripts pip writes are dropped: noarch recipes declare
`build.python.entry_points` instead, which rattler-build makes portable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def pip_env(environ: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if not k.startswith("PIP_")}
    env["PIP_NO_INDEX"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if environ.get("FORGE_WHEELHOUSE"):
        env["PIP_FIND_LINKS"] = environ["FORGE_WHEELHOUSE"]
    return env


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    prefix = os.environ.get("PREFIX")
    if not prefix:
        print("forge-pip-install: $PREFIX is not set (run it from a recipe's build script)", file=sys.stderr)
        return 2
    bindir = Path(prefix) / "bin"
    before = set(bindir.iterdir()) if bindir.is_dir() else set()
    cmd = [sys.executable, "-m", "pip", "install", ".", "--no-deps", "--no-compile", "--ignore-installed",
           "--no-warn-script-location", f"--prefix={prefix}", *args]
    print("+", " ".join(cmd), flush=True)
    code = subprocess.call(cmd, env=pip_env(dict(os.environ)))
    if code == 0 and bindir.is_dir():
        for p in set(bindir.iterdir()) - before:
            p.unlink() if p.is_file() or p.is_symlink() else shutil.rmtree(p)
        if not any(bindir.iterdir()):
            bindir.rmdir()
    return code


if __name__ == "__main__":
    sys.exit(main())
