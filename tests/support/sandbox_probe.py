"""A hostile recipe for the sandbox tests (tests/test_sandbox.py, tests/farm/test_sandbox.py).

Its build script tries each thing a build must not do and writes, per attempt, `denied` or
`ALLOWED` into its own package ($PREFIX/probe/<attempt>), then exits 0: the build's result is
its script's, and the package says what the sandbox let through.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from tests.support.testlib import generic_recipe

NAME = "sandbox-probe"


def _attempt(name: str, shell: str) -> str:
    return (f"if ( {shell} ) >/dev/null 2>&1; then echo ALLOWED > $PREFIX/probe/{name}; "
            f"else echo denied > $PREFIX/probe/{name}; fi")


def probe_recipe(*, writes: dict[str, Path], secret: str, port: int, marker: str, background: bool = True) -> str:
    """The recipe: write into each of `writes` (name -> folder), find `secret` in its environment,
    connect to 127.0.0.1:`port`, leave `sleep <marker>` running (`background`; unsandboxed it would
    hold the build's inherited pipes open, and the command would wait for it)."""
    script = ["mkdir -p $PREFIX/probe"]
    script += [_attempt(f"write-{name}", f"echo x > {folder}/forge-sandbox-probe") for name, folder in writes.items()]
    script += [
        _attempt("environment", f"env | grep -q {secret}"),
        _attempt("broker", f"exec 3<>/dev/tcp/127.0.0.1/{port}"),
        # outlives the script unless its PID namespace ends with the build
        "echo $$ > $PREFIX/probe/pid",
    ]
    if background:
        script.append(f"(setsid sleep {marker} >/dev/null 2>&1 &)")
    return generic_recipe(NAME, script=script)


def results(package: Path) -> dict[str, str]:
    """attempt -> 'denied' / 'ALLOWED' (and 'pid') from the built package."""
    from rattler.package_streaming import extract  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        extract(package, Path(tmp))
        return {p.name: p.read_text().strip() for p in sorted((Path(tmp) / "probe").iterdir())}


def leftover(marker: str) -> list[str]:
    """Processes still running `sleep <marker>`."""
    out = subprocess.run(["pgrep", "-af", f"sleep {marker}"], capture_output=True, text=True, check=False)
    return [ln for ln in out.stdout.splitlines() if ln.strip()]


def digest(*folders: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every entry under the folders: any write, creation or removal shows."""
    out: dict[str, tuple[int, int]] = {}
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                p = os.path.join(root, name)
                try:
                    st = os.lstat(p)
                except FileNotFoundError:
                    continue
                out[p] = (st.st_size, st.st_mtime_ns)
    return out
