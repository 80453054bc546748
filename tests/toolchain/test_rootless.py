"""An author who is not root: the build root needs root (debootstrap, mount, chroot), and the
forge says so in one sentence with the one command to run, instead of a failing step's log.
Run for real as the unprivileged user `nobody` (setpriv), with the machine's own python3."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.testlib import REPO

pytestmark = pytest.mark.unit

NOBODY = 65534
SYSTEM_PYTHON = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")


def _world_readable(path: Path) -> bool:
    """Every folder above PATH lets others in (a checkout under /root does not)."""
    return all(p.stat().st_mode & stat.S_IXOTH for p in [path, *path.parents])


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop to nobody (setpriv)")
def test_a_user_who_is_not_root_gets_one_sentence(tmp_path: Path) -> None:
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    if not (SYSTEM_PYTHON.is_file() and _world_readable(REPO) and _world_readable(site)):
        pytest.skip("the checkout, its venv or a system python of the same version is not readable by nobody")
    home = tmp_path / "home"
    home.mkdir()
    tmp_path.chmod(0o777)
    home.chmod(0o777)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": f"{REPO}:{site}", "COLUMNS": "1000"}
    proc = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--",
                           str(SYSTEM_PYTHON), "-c", "from forge.cli import main; main()", "toolchain"],
                          cwd=home, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, (proc.stdout[-2000:], proc.stderr[-2000:])
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"error: the emscripten build root ({home}/.cache/wasm-forge/buildroot) is created and "
                               "entered with debootstrap, mount and chroot, which need root, and this is uid 65534; "
                               'run `sudo env "PATH=$PATH" forge toolchain` once'), lines[0]
    assert not (home / ".cache" / "wasm-forge" / "buildroot").exists()
