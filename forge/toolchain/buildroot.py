"""The sid build root: a debootstrapped Debian sid chroot holding emscripten 6,
clang/lld 21, node, python3.14 and pyodide-build.

Bookworm's emscripten is too old and sid's LLVM needs a newer glibc, so the
toolchain lives in a chroot. Creation happens in `<root>.partial` and is
renamed into place only after the root has been verified, so a root directory
that exists is complete unless someone damaged it; `ensure()` still checks the
completion marker and runs every tool once, and rebuilds when either fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..fsutil import file_lock
from .chroot import Bind, chroot_argv, mounts_under
from .errors import ToolchainError, step_failed
from .lock import ToolchainLock
from .mirror import debian_mirror
from .paths import default_cache_dir, default_root_dir
from .proc import run_logged
from .target import CFLAGS, LDFLAGS

Progress = Callable[[str], None]

SUITE = "sid"
PACKAGES = (
    "emscripten", "nodejs", "python3.14", "python3.14-dev", "python3.14-venv",
    "python3-pip", "make", "gcc", "g++", "pkg-config", "ca-certificates",
    # Rust extensions: std for wasm32-unknown-emscripten is built from rust-src (docs/languages.md)
    "rustc", "cargo", "rust-src",
    # Fortran 77: f2c translates it to C for emcc; libf2c2-dev only for its f2c.h (forge-f77, docs/languages.md)
    "f2c", "libf2c2-dev",
)
PIP_PINS = ("pyodide-build==0.39.2", "pyodide-lock==0.2.1")
LOCKED_DEBS = ("emscripten", "clang-21", "lld-21", "binaryen", "nodejs", "python3.14", "python3.14-dev")
VENV = "/opt/forge/venv"
HOST_CA = "/etc/forge/host-ca.crt"
MARKER = ".forge-buildroot.json"
RECIPE_FORMAT = 1
HOST_TOOLS = {"debootstrap": "apt-get install -y debootstrap", "unshare": "apt-get install -y util-linux",
              "chroot": "apt-get install -y coreutils"}

# Every tool must run, and the lines are parsed into the lock.
_PROBE = r"""
set -e
echo "emscripten=$(emcc --version 2>/dev/null | head -1)"
echo "clang=$(clang-21 --version | head -1)"
echo "node=$(node --version)"
echo "python=$(python3.14 -c 'import platform; print(platform.python_version())')"
%(venv)s/bin/python -c 'import importlib.metadata as m; print("pyodide_build=" + m.version("pyodide-build")); \
print("pyodide_lock=" + m.version("pyodide-lock"))'
dpkg-query -W -f='deb:${Package}=${Version}\n' %(debs)s
""" % {"venv": VENV, "debs": " ".join(LOCKED_DEBS)}


def recipe_hash() -> str:
    """Identity of what a root contains; a root made from another recipe is rebuilt."""
    blob = json.dumps([RECIPE_FORMAT, SUITE, PACKAGES, PIP_PINS, CFLAGS, LDFLAGS])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def parse_probe(text: str) -> dict[str, object]:
    """Turn the probe's `key=value` lines into lock fields."""
    vals: dict[str, str] = {}
    debs: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("deb:"):
            name, _, ver = line[4:].partition("=")
            debs[name] = ver
        elif "=" in line:
            k, _, v = line.partition("=")
            vals[k.strip()] = v.strip()

    def version(key: str, pattern: str = r"(\d+\.\d+\.\d+)") -> str:
        m = re.search(pattern, vals.get(key, ""))
        if not m:
            raise ValueError(f"no version for {key} in probe output")
        return m.group(1)

    return {
        "emscripten": version("emscripten"),
        "clang": version("clang"),
        "node": vals.get("node", ""),
        "python": version("python"),
        "pyodide_build": vals.get("pyodide_build", ""),
        "pyodide_lock": vals.get("pyodide_lock", ""),
        "debian_packages": debs,
    }


def release_date(root: Path, suite: str = SUITE) -> str:
    """`Date:` of the suite's Release file apt fetched: the Debian snapshot the root is."""
    lists = root / "var/lib/apt/lists"
    for f in sorted(lists.glob(f"*_dists_{suite}_InRelease")) + sorted(lists.glob(f"*_dists_{suite}_Release")):
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith("Date:"):
                return line[5:].strip()
    return ""


class BuildRoot:
    """A sid build root at `root_dir`; logs go to `<root_dir>.log`, the lock to `<root_dir>.lock.json`."""

    def __init__(self, root_dir: Path | None = None, cache_dir: Path | None = None) -> None:
        self.root_dir = Path(root_dir or default_root_dir()).resolve()
        self.cache_dir = Path(cache_dir or default_cache_dir()).resolve()
        # a sandboxed build sees the root read-only: its checks log into the build's own folder
        log = os.environ.get("FORGE_BUILDROOT_LOG")
        self.log_path = Path(log) if log else self.root_dir.with_name(self.root_dir.name + ".log")
        self.lock_path = self.root_dir.with_name(self.root_dir.name + ".lock.json")
        self.staging = self.root_dir.with_name(self.root_dir.name + ".partial")

    # -- public ---------------------------------------------------------------

    def ensure(self, progress: Progress | None = None, rebuild: bool = False) -> ToolchainLock:
        """Create the root if absent, verify it if present, rebuild it if broken; return its lock."""
        say = progress or (lambda _msg: None)
        require_root(self.root_dir)
        with self._flock():
            if not rebuild and self.is_marked():
                say("verifying build root")
                try:
                    lock = self.verify()
                except ToolchainError:
                    say("build root is broken; rebuilding")
                else:
                    lock.write(self.lock_path)
                    return lock
            elif not rebuild and self.root_dir.exists():
                say("build root is incomplete; rebuilding")
            self.create(say)
            lock = self.verify()
            lock.write(self.lock_path)
            return lock

    def is_marked(self) -> bool:
        """True if the completion marker exists and matches the current recipe."""
        try:
            marker = json.loads((self.root_dir / MARKER).read_text())
        except (OSError, ValueError):
            return False
        return isinstance(marker, dict) and marker.get("recipe") == recipe_hash()

    def verify(self, root: Path | None = None) -> ToolchainLock:
        """Run every tool once inside the root and return the versions as a lock."""
        root = root or self.root_dir
        try:
            out = run_logged(
                chroot_argv(root, ["/bin/sh", "-c", _PROBE], env=self.base_env()), capture=True,
                log_path=self.log_path, what=f"verifying the build root {root}", timeout=120,
                hint="run `forge toolchain ensure --rebuild` to recreate it",
            )
            fields = parse_probe(out)
        except ValueError as exc:
            raise step_failed(f"reading tool versions in {root}", self.log_path,
                              "run `forge toolchain ensure --rebuild` to recreate it") from exc
        try:
            marker = json.loads((root / MARKER).read_text())
        except (OSError, ValueError):
            marker = {}
        return ToolchainLock(
            **fields, debian_suite=SUITE, debian_date=release_date(root),
            root_dir=str(self.root_dir), created=str(marker.get("created", "")),
        )  # type: ignore[arg-type]

    def run(
        self,
        cmd: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | Path = "/",
        binds: Sequence[Bind | Path | str] = (),
        capture: bool = False,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run `cmd` inside the root with host dirs in `binds` visible at the same paths.

        Output goes to the caller's stdout/stderr unless `capture`; with `check`
        a non-zero exit raises ToolchainError.
        """
        require_root(self.root_dir)
        bs = [b if isinstance(b, Bind) else Bind(Path(b)) for b in binds]
        argv = chroot_argv(self.root_dir, list(cmd), env={**self.base_env(), **(env or {})},
                           cwd=str(cwd), binds=bs)
        res = subprocess.run(argv, text=True, capture_output=capture, stdin=subprocess.DEVNULL)
        if check and res.returncode != 0:
            raise ToolchainError(
                f"`{' '.join(cmd)}` exited {res.returncode} inside the build root {self.root_dir}; "
                "read its output above and fix the command or the sources it builds."
            )
        return res

    def base_env(self) -> dict[str, str]:
        """Environment every command in the root gets (CA bundle for pip/npm/node)."""
        return {"PIP_CERT": HOST_CA, "SSL_CERT_FILE": HOST_CA, "REQUESTS_CA_BUNDLE": HOST_CA,
                "NODE_EXTRA_CA_CERTS": HOST_CA, "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                "DEBIAN_FRONTEND": "noninteractive"}

    # -- creation -------------------------------------------------------------

    def create(self, progress: Progress | None = None) -> None:
        """Build a fresh root in `<root>.partial`, verify it, then swap it into place."""
        say = progress or (lambda _msg: None)
        self._check_host()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._remove(self.staging)
        st = self.staging
        mirror = debian_mirror()
        deb_cache = self.cache_dir / "debootstrap"
        apt_cache = self.cache_dir / "apt-archives"
        pip_cache = self.cache_dir / "pip"
        for d in (deb_cache, apt_cache / "partial", pip_cache):
            d.mkdir(parents=True, exist_ok=True)
        fix = "check the network and the apt mirror, then rerun `forge toolchain ensure`"

        say(f"debootstrap {SUITE} (about a minute)")
        run_logged(["debootstrap", "--variant=minbase", f"--cache-dir={deb_cache}", SUITE, str(st), mirror],
                   log_path=self.log_path, what=f"debootstrap of Debian {SUITE}", hint=fix)
        self._configure(st)

        say("installing emscripten, clang, node, python3.14 (apt)")
        self._step(st, "apt-get update && apt-get install -y --no-install-recommends " + " ".join(PACKAGES),
                   f"installing {', '.join(PACKAGES[:4])}… in the build root", fix,
                   binds=[Bind(apt_cache, "/var/cache/apt/archives")])

        say("installing pyodide-build (pip)")
        self._step(st, f"python3.14 -m venv {VENV} && {VENV}/bin/pip install " + " ".join(PIP_PINS),
                   "installing pyodide-build into the build root", "check that PyPI is reachable with pip, "
                   "then rerun `forge toolchain ensure`", binds=[Bind(pip_cache, "/root/.cache/pip")])

        say("warming emscripten's cache")
        self._step(st, "mkdir -p /tmp/forge-warm && cd /tmp/forge-warm && "
                   "printf 'int forge_add(int a, int b) { return a + b; }\\n' > t.c && "
                   f"emcc {' '.join(CFLAGS)} -c t.c -o t.o && emcc {' '.join(LDFLAGS)} t.o -o t.so && "
                   "cd / && rm -rf /tmp/forge-warm",
                   "compiling a test side module with emcc", "read the log; the emscripten package may be broken "
                   "in sid today, rerun later or pin an older root")

        say("verifying")
        self.verify(st)
        marker = {"recipe": recipe_hash(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        (st / MARKER).write_text(json.dumps(marker) + "\n")
        self._remove(self.root_dir)
        st.rename(self.root_dir)

    def _configure(self, root: Path) -> None:
        """Host facts the root needs: old sid Release files, DNS, the host's CA bundle."""
        conf = root / "etc/apt/apt.conf.d/99forge"
        conf.write_text('Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n')
        shutil.copyfile("/etc/resolv.conf", root / "etc/resolv.conf")
        ca = root / HOST_CA.lstrip("/")
        ca.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile("/etc/ssl/certs/ca-certificates.crt", ca)

    def _step(self, root: Path, script: str, what: str, hint: str, binds: Sequence[Bind] = ()) -> None:
        run_logged(chroot_argv(root, ["/bin/bash", "-c", "set -e; " + script], env=self.base_env(), binds=binds),
                   log_path=self.log_path, what=what, hint=hint)

    def _check_host(self) -> None:
        if os.geteuid() != 0:
            raise ToolchainError("Creating the build root needs root (debootstrap, chroot, mount); "
                                 "rerun as root.")
        for tool, fix in HOST_TOOLS.items():
            if not shutil.which(tool):
                raise ToolchainError(f"`{tool}` is not on PATH, so the build root cannot be created; "
                                     f"run `{fix}` and retry.")

    def _remove(self, path: Path) -> None:
        """Delete a root, refusing if anything is mounted inside (it could be a host dir)."""
        if not path.exists() and not path.is_symlink():
            return
        mounted = mounts_under(path)
        if mounted:
            raise ToolchainError(f"{mounted[0]} is still mounted inside {path}, so it was not deleted; "
                                 f"unmount it (umount -R {mounted[0]}) and retry.")
        shutil.rmtree(path)

    @contextmanager
    def _flock(self) -> Iterator[None]:
        """One ensure() at a time per root (concurrent workers wait instead of racing)."""
        with file_lock(self.root_dir.with_name(self.root_dir.name + ".flock")):
            yield


def require_root(root_dir: Path) -> None:
    """The build root is made with debootstrap and entered with mount + chroot, which need root:
    say so in one sentence with the one command that works, instead of a failing step's log."""
    if os.geteuid() != 0:
        raise ToolchainError(
            f"the emscripten build root ({root_dir}) is created and entered with debootstrap, mount and chroot, "
            f"which need root, and this is uid {os.geteuid()}; run `sudo env \"PATH=$PATH\" forge toolchain` once "
            "and then run the forge's build commands as root (e.g. in CI, where jobs run as root)")


def ensure(root_dir: Path | None = None, progress: Progress | None = None, rebuild: bool = False) -> ToolchainLock:
    """Make sure the build root at root_dir (default: $FORGE_BUILDROOT) is complete; return its lock."""
    return BuildRoot(root_dir).ensure(progress, rebuild=rebuild)


def run(cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | Path = "/",
        binds: Sequence[Bind | Path | str] = (), root_dir: Path | None = None,
        capture: bool = False, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run cmd inside the (already ensured) build root; see BuildRoot.run."""
    return BuildRoot(root_dir).run(cmd, env=env, cwd=cwd, binds=binds, capture=capture, check=check)
