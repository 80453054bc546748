"""`forge venv DIR`: a virtual environment whose python is CPython in WebAssembly.

DIR is an emscripten-wasm32 conda prefix made from the channel (`python`, plus any specs:
packages from the channel, e.g. numpy) with three additions:

- `bin/python` (`python3`, `python3.X`, `python-wasm`): the forge's python-wasm launcher under a
  node >= 24 the forge installs (forge.authors.node), so pip, micropip and top-level `await` can
  use JSPI; `sys.executable` is `DIR/bin/python`, `sys.prefix` is DIR;
- pip, a pure wheel from the index pip is configured with, installed with pypa installer. pip runs
  inside wasm, so it picks wheels by the interpreter's own tags (`cp314-cp314-pyemscripten_2026_0_wasm32`,
  then `py3-none-any`); `DIR/pip.conf` (pip reads it because sys.prefix != sys.base_prefix) asks
  for binary wheels only (like `pyodide venv`), adds the channel's Pyodide view as find-links and
  carries the machine's pip configuration (its files are not visible inside wasm);
- the host folders that configuration names (find-links, file:// indexes, cert, constraints) are
  mounted by the launcher ($PYTHON_WASM_MOUNTS), as are the working directory and absolute paths
  in argv.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..errors import ForgeError
from .node import ensure_node, node_version

#: pip inside wasm: one that knows the pyemscripten platform tags
PIP_SPEC = "pip>=26.1"
LAUNCHER = Path(__file__).resolve().parent.parent / "helpers" / "python_wasm.js"
MARK = "forge-venv"
#: pip.conf keys whose values are host paths (or file:// URLs) the launcher must mount
_PATH_KEYS = {"find-links", "index-url", "extra-index-url", "cert", "client-cert", "constraint", "requirement"}


@dataclass(frozen=True)
class Venv:
    """A `forge venv`: run its python like any CPython (`venv.run("-m", "pytest")`)."""

    path: Path
    node: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        from ..toolchain import target  # noqa: PLC0415

        return self.path / "lib" / f"python{target.PYTHON_XY}" / "site-packages"

    def run(self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            capture: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        """`DIR/bin/python ARGS` (stdin closed); output captured as text unless capture=False."""
        return subprocess.run([str(self.python), *args], cwd=cwd, env=env, capture_output=capture, text=True,
                              stdin=subprocess.DEVNULL, timeout=timeout, check=False)


def is_venv(path: Path) -> bool:
    cfg = path / "pyvenv.cfg"
    return cfg.is_file() and f"{MARK} =" in cfg.read_text()


def host_pip_config() -> dict[str, dict[str, str]]:
    """The machine's pip configuration from its files (section -> key -> value), as
    `pip config list` reports it; environment variables (PIP_*) reach wasm by themselves."""
    proc = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, check=False)
    out: dict[str, dict[str, str]] = {}
    for line in proc.stdout.splitlines():
        name, sep, value = line.partition("=")
        if not sep or name.startswith(":"):
            continue
        section, _, key = name.partition(".")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out.setdefault(section, {})[key] = value
    return out


def _mounts_for(value: str, index: bool = False) -> list[str]:
    """Host folders a pip setting names; a file:// index's parent too (its files sit beside simple/)."""
    dirs = []
    for item in value.split():
        path = unquote(urlparse(item).path) if item.startswith("file:") else item if item.startswith("/") else ""
        if not path:
            continue
        p = Path(path)
        d = p if p.is_dir() else p.parent
        if index and d.name == "simple":
            d = d.parent
        if d.is_dir() and str(d) != "/":
            dirs.append(str(d))
    return dirs


def channel_views(channels: list[str]) -> list[str]:
    """The local channels' Pyodide views (`<channel>/pyodide/`: a wheel per package)."""
    return [str(Path(c).resolve() / "pyodide") for c in channels if "://" not in c and (Path(c) / "pyodide").is_dir()]


def _pip_conf(channels: list[str]) -> tuple[str, list[str]]:
    """DIR/pip.conf's text and the host folders it (and PIP_* in the environment) needs mounted."""
    conf = host_pip_config()
    views = channel_views(channels)
    glob = conf.setdefault("global", {})
    glob["find-links"] = " ".join([*views, *glob.get("find-links", "").split()])
    if not glob["find-links"]:
        del glob["find-links"]
    # progress-bar off: pip draws it from a thread, and wasm has none
    glob.update({"only-binary": ":all:", "no-cache-dir": "true", "disable-pip-version-check": "true", "progress-bar": "off"})
    parser = configparser.ConfigParser(interpolation=None)
    mounts: list[str] = []
    for section, values in conf.items():
        parser[section] = values
        for key, value in values.items():
            if key in _PATH_KEYS:
                mounts += _mounts_for(value, index=key.endswith("index-url"))
    for key, value in os.environ.items():
        name = key[4:].lower().replace("_", "-")
        if key.startswith("PIP_") and name in _PATH_KEYS:
            mounts += _mounts_for(value, index=name.endswith("index-url"))
    lines = ["# written by `forge venv`: pip inside wasm cannot read the machine's pip configuration files,",
             "# so they are copied here; binary wheels only, the channel's Pyodide view first.",
             "# (no-cache-dir: pip's HTTP cache does not understand responses fetched through node)"]
    import io  # noqa: PLC0415

    buf = io.StringIO()
    parser.write(buf)
    return "\n".join(lines) + "\n" + buf.getvalue(), sorted(set(mounts))


def _wrapper(dest: Path, node: Path, launcher: Path, executable: Path, mounts: list[str], views: list[str]) -> str:
    q = shlex.quote
    # PIP_FIND_LINKS in the environment replaces pip.conf's find-links: keep the channel's view in it
    keep_view = (f'if [ -n "${{PIP_FIND_LINKS+x}}" ]; then PIP_FIND_LINKS={q(" ".join(views))}" $PIP_FIND_LINKS"; '
                 "export PIP_FIND_LINKS; fi\n") if views else ""
    return (
        "#!/bin/sh\n"
        f"# forge venv: CPython in WebAssembly (Pyodide) under node >= 24; see {LAUNCHER.name} for the details\n"
        f"PYTHON_WASM_PREFIX={q(str(dest))}\n"
        f"PYTHON_WASM_EXECUTABLE={q(str(executable))}\n"
        f"PYTHON_WASM_MOUNTS={q(':'.join(mounts))}" '"${PYTHON_WASM_MOUNTS:+:$PYTHON_WASM_MOUNTS}"\n'
        "export PYTHON_WASM_PREFIX PYTHON_WASM_EXECUTABLE PYTHON_WASM_MOUNTS\n"
        + keep_view +
        f'exec {q(str(node))} {q(str(launcher))} "$@"\n'
    )


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.unlink(missing_ok=True)  # conda may have hard-linked the old file from its package cache
    path.write_text(text)
    path.chmod(mode)


def _install_pip(dest: Path, site_packages: Path) -> str:
    """pip's newest pure wheel from the configured index, unpacked by pypa installer."""
    from installer import install  # noqa: PLC0415
    from installer.destinations import SchemeDictionaryDestination  # noqa: PLC0415
    from installer.sources import WheelFile  # noqa: PLC0415

    from ..toolchain import target  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="forge-venv-pip-") as tmp:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
                               "--python-version", target.PYTHON_XY, "-d", tmp, PIP_SPEC],
                              capture_output=True, text=True, check=False)
        wheels = sorted(Path(tmp).glob("pip-*.whl"))
        if proc.returncode != 0 or not wheels:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise ForgeError(f"pip ({PIP_SPEC}) could not be downloaded for the venv ({last[:300]})",
                             fix="check the index pip is configured with (pip config list)")
        scheme = {"purelib": str(site_packages), "platlib": str(site_packages), "headers": str(dest / "include"),
                  "scripts": str(dest / "bin"), "data": str(dest)}
        target_dest = SchemeDictionaryDestination(scheme, interpreter=str(dest / "bin" / "python"),
                                                  script_kind="posix", bytecode_optimization_levels=())
        with WheelFile.open(wheels[0]) as source:
            install(source, target_dest, {"INSTALLER": b"forge\n"})
        return wheels[0].name.split("-")[1]


def create_venv(dest: Path, channels: list[str], specs: list[str] | None = None, *, clear: bool = False) -> Venv:
    """Make DIR: `python` (+ SPECS) from the channels, pip, and a python that runs in wasm."""
    from ..envs import create_env  # noqa: PLC0415
    from ..toolchain import target  # noqa: PLC0415

    dest = dest.resolve()
    if dest.exists() and any(dest.iterdir()):
        if not clear:
            raise ForgeError(f"{dest} already exists and is not empty",
                             fix="pass --clear to replace it, or choose another folder")
        if not is_venv(dest):
            raise ForgeError(f"{dest} is not a forge venv, so --clear will not delete it",
                             fix="remove it yourself or choose another folder")
        shutil.rmtree(dest)
    node = ensure_node()
    create_env(dest, channels, ["python", *(specs or [])], "emscripten-wasm32")
    if not (dest / "lib" / "pyodide" / "pyodide.asm.wasm").is_file():
        raise ForgeError(f"the `python` package installed into {dest} has no Pyodide runtime (lib/pyodide)",
                         fix="rebuild it with `forge build python`")
    venv = Venv(dest, node)
    venv.site_packages.mkdir(parents=True, exist_ok=True)
    launcher = dest / "lib" / MARK / "python_wasm.js"
    launcher.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(LAUNCHER, launcher)  # the forge's launcher, whatever `python` package the channel holds
    conf, mounts = _pip_conf(channels)
    _write(dest / "pip.conf", conf)
    bindir = dest / "bin"
    for name in ("python", f"python{target.PYTHON_XY.split('.')[0]}", f"python{target.PYTHON_XY}", "python-wasm"):
        exe = bindir / ("python-wasm" if name == "python-wasm" else "python")
        _write(bindir / name, _wrapper(dest, node, launcher, exe, mounts, channel_views(channels)), 0o755)
    _write(bindir / "activate", (
        "# source this file: `. DIR/bin/activate` puts the venv's python (wasm) and pip first on PATH\n"
        f"VIRTUAL_ENV={shlex.quote(str(dest))}\nexport VIRTUAL_ENV\n"
        'PATH="$VIRTUAL_ENV/bin:$PATH"\nexport PATH\nhash -r 2>/dev/null || true\n'))
    pip_version = _install_pip(dest, venv.site_packages)
    # bytecode for pip and the conda packages, compiled once by the wasm CPython itself (its magic
    # number): without it every `python -m pip` compiles pip again (seconds per run)
    venv.run("-m", "compileall", "-q", "-j", "1", str(venv.site_packages), cwd=dest)
    version = node_version(node) or (0,)
    _write(dest / "pyvenv.cfg", (
        f"home = {node.parent}\ninclude-system-site-packages = false\nversion = {target.PYTHON_VERSION}\n"
        f"implementation = CPython (Pyodide {target.PYODIDE_VERSION}, {target.WHEEL_TAG})\n"
        f"{MARK} = {json.dumps({'channels': channels, 'node': '.'.join(map(str, version)), 'pip': pip_version})}\n"))
    check = venv.run("-c", "import sys; from pip._vendor.packaging import tags; "
                           "print(sys.executable, next(iter(tags.sys_tags())))", cwd=dest)
    want = f"{venv.python} {target.WHEEL_TAG}"
    if check.returncode != 0 or check.stdout.strip() != want:
        raise ForgeError(f"the new venv's python does not run as expected (exit {check.returncode}, printed "
                         f"{check.stdout.strip()[:200]!r}, expected {want!r}; {check.stderr.strip()[-300:]})",
                         fix="run it by hand to see why: " + str(venv.python) + " -c pass")
    return venv
