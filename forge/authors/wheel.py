"""`forge wheel [PATH]`: an author's project (a folder or an sdist) as a PEP 783 wheel.

Built exactly as the recipes' compiled packages are: the project's build backend is asked what
it needs (forge.buildreqs, in the build root's CPython), that closed set is downloaded as wheels,
build requirements the channel holds for emscripten-wasm32 (numpy's C API) come from the channel
(a host prefix; forge-pyodide-build's cross_deps swaps their headers into the native wheel),
and `pyodide build` runs in the build root through forge-pyodide-build's `build` (the one place
with the compile settings), which also checks the tag and every `.so` (forge.toolchain.wasmcheck).
Here the wheel is also checked for needed libraries it does not carry, and by `twine check`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ForgeConfig
from ..errors import ForgeError

#: sources whose presence means the project compiles something (a pure wheel is then a fallback)
NATIVE_SUFFIXES = {".c", ".cc", ".cpp", ".cxx", ".pyx", ".rs", ".f", ".f90", ".m"}
#: never sources, at any depth: version control, caches, the forge's own state
_SKIP_ANYWHERE = {".git", ".hg", ".svn", "__pycache__", ".tox", ".nox", ".pytest_cache", ".mypy_cache", ".ruff_cache",
                  ".hypothesis", ".forge", "node_modules", ".ipynb_checkpoints"}
#: outputs at the project's top level (pypa build's own folders)
_SKIP_TOP = {"dist", "build", "wheelhouse", "channel"}


@dataclass
class WheelReport:
    """What `forge wheel` made and from what."""

    wheel: Path
    pure: bool
    seconds: float
    build_requirements: list[str] = field(default_factory=list)
    from_channel: list[str] = field(default_factory=list)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _skipped(rel: Path, top: Path) -> bool:
    """A path the wheel's sources never need: VCS, caches, outputs, virtual environments."""
    parts = rel.parts
    if set(parts) & _SKIP_ANYWHERE or any(p.endswith(".egg-info") for p in parts):
        return True
    if parts and parts[0] in _SKIP_TOP:
        return True
    # a venv (python's or `forge venv`'s) anywhere: its pyvenv.cfg marks it
    return any((top.joinpath(*parts[:i]) / "pyvenv.cfg").is_file() for i in range(1, len(parts)))


def project_files(top: Path) -> list[Path]:
    """The project's files, relative to TOP: in a git work tree what git tracks plus what it does
    not ignore (so a large ignored data folder costs nothing), else every file; minus `_skipped`."""
    proc = subprocess.run(["git", "-C", str(top), "ls-files", "-z", "--cached", "--others", "--exclude-standard", "."],
                          capture_output=True, text=True, check=False)
    if proc.returncode == 0:
        names = [Path(n) for n in proc.stdout.split("\0") if n]
    else:
        names = []
        for dirpath, dirnames, filenames in os.walk(top):
            here = Path(dirpath).relative_to(top)
            dirnames[:] = [d for d in dirnames if not _skipped(here / d, top)]
            names += [here / f for f in filenames]
    return sorted(n for n in names if not _skipped(n, top) and (top / n).is_file())


def _zero_mtime(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0  # the same sources give the same sha256: the backend's answer is cached by it
    return info


def project_source(path: Path, work: Path) -> tuple[Path, Path]:
    """(unpacked source folder, an sdist-like tarball of it) for a project folder or an sdist."""
    path = path.resolve()
    if path.is_file() and (path.name.endswith((".tar.gz", ".tgz", ".zip"))):
        from ..buildreqs import unpack_sdist  # noqa: PLC0415

        return unpack_sdist(path, work / "src"), path
    if path.is_dir():
        if not ((path / "pyproject.toml").is_file() or (path / "setup.py").is_file()):
            raise ForgeError(f"{path} has no pyproject.toml or setup.py, so it is not a Python project",
                             fix="run `forge wheel` in your project's folder or pass an sdist")
        src = work / "src" / path.name
        for rel in project_files(path):
            dest = src / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path / rel, dest)
        tarball = work / f"{path.name}-src.tar.gz"
        with tarfile.open(tarball, "w:gz") as tf:
            tf.add(src, arcname=path.name, filter=_zero_mtime)
        return src, tarball
    raise ForgeError(f"{path} is neither a project folder nor an sdist (.tar.gz/.zip)",
                     fix="pass your project's folder (with pyproject.toml) or its sdist")


def channel_packages(channels: list[str], subdir: str = "emscripten-wasm32") -> dict[str, list[str]]:
    """name -> versions of the local channels' packages for `subdir` (from repodata.json)."""
    found: dict[str, list[str]] = {}
    for ch in channels:
        rd = Path(ch) / subdir / "repodata.json"
        if "://" in ch or not rd.is_file():
            continue
        data = json.loads(rd.read_text())
        for key in ("packages", "packages.conda"):
            for rec in (data.get(key) or {}).values():
                found.setdefault(rec["name"], []).append(rec["version"])
    return found


def split_requirements(reqs: list[str], channels: list[str]) -> tuple[list[str], list[str]]:
    """(wheel requirements with channel packages pinned to the channel's version, host specs)."""
    from packaging.requirements import Requirement  # noqa: PLC0415
    from packaging.version import Version  # noqa: PLC0415

    have = channel_packages(channels)
    wheels: list[str] = []
    host: list[str] = []
    for text in reqs:
        req = Requirement(text)
        versions = have.get(_norm(req.name), [])
        if not versions:
            wheels.append(text)
            continue
        ok = sorted((v for v in versions if req.specifier.contains(v, prereleases=True)), key=Version)
        if not ok:
            raise ForgeError(f"the build requires {text}, but the channel has {_norm(req.name)} "
                             f"{', '.join(sorted(set(versions)))} only for emscripten-wasm32",
                             fix=f"build a matching {_norm(req.name)} into the channel (forge build) or relax the requirement")
        wheels.append(f"{req.name}=={ok[-1]}")
        host.append(f"{_norm(req.name)} =={ok[-1]}")
    return wheels, host


def has_native_sources(src: Path) -> bool:
    return any(p.suffix.lower() in NATIVE_SUFFIXES for p in src.rglob("*") if p.is_file()
               and not _skipped(p.relative_to(src), src))


def wheel_problems(whl: Path) -> list[str]:
    """Libraries the wheel's `.so` files need that the wheel does not carry (pip cannot get them)."""
    from auditwheel_emscripten.module import parse_dylink_section  # noqa: PLC0415

    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(whl) as zf:
        names = zf.namelist()
        carried = {n.rsplit("/", 1)[-1] for n in names}
        for n in names:
            if n.endswith(".so") or ".so." in n.rsplit("/", 1)[-1]:
                zf.extract(n, tmp)
                for lib in parse_dylink_section(Path(tmp) / n).needed:
                    if lib not in carried:
                        problems.append(f"{n} needs {lib}, which {whl.name} does not contain")
    return problems


def twine_check(files: list[Path]) -> None:
    """`twine check --strict`: what PyPI would refuse (metadata, long description)."""
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
        bad = [ln for ln in lines if "ERROR" in ln or "WARNING" in ln or "FAILED" in ln] or lines or ["no output"]
        raise ForgeError(f"`twine check --strict` refuses {', '.join(f.name for f in files)}: {' '.join(bad)[:400]}",
                         fix="fix the project's metadata (e.g. readme and its content type in pyproject.toml)")


def build_wheel(path: Path, outdir: Path, channels: list[str], config: ForgeConfig) -> WheelReport:
    """PATH (a folder or an sdist) -> OUTDIR/<name>-<version>-cp314-cp314-pyemscripten_..._wasm32.whl
    (or py3-none-any when the project compiles nothing), checked as the channel's packages are."""
    from ..buildreqs import Interpreter, build_requirements, wheel_set  # noqa: PLC0415
    from ..envs import create_env  # noqa: PLC0415
    from ..helpers import pyodide_build  # noqa: PLC0415
    from ..toolchain import target  # noqa: PLC0415

    t0 = time.monotonic()
    outdir = outdir.resolve()
    config.work_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="forge-wheel-", dir=config.work_dir))
    shown = str(path.resolve())
    try:
        src, tarball = project_source(path, work)
        sha = hashlib.sha256(tarball.read_bytes()).hexdigest()
        interp = Interpreter(target.PYTHON_XY, build_root=True)
        reqs = build_requirements(tarball, sha, interp, config.constraints_file, config.cache_dir,
                                  recipe=None, file=shown)  # type: ignore[arg-type]
        wheel_reqs, host_specs = split_requirements(reqs, channels)
        wheelhouse = wheel_set(wheel_reqs, interp, config.constraints_file, config.cache_dir,
                               recipe=None, file=shown)  # type: ignore[arg-type]
        host = work / "host"
        create_env(host, channels, ["python", *host_specs], "emscripten-wasm32")
        dist = work / "dist"
        try:
            pyodide_build.build(src, host, wheelhouse=str(wheelhouse), extra=[], allow_pure=True, exports=None,
                                env_extra={}, dist=dist)
        except pyodide_build.BuildError as exc:
            raise ForgeError(f"{shown} did not build for {target.WHEEL_TAG}: {exc}",
                             fix="fix the build and run `forge wheel` again") from None
        whl = next(dist.glob("*.whl"))
        pure = all(t.endswith("-none-any") for t in pyodide_build.wheel_tags(whl))
        if pure and has_native_sources(src):
            raise ForgeError(f"{shown} has C/C++/Cython/Rust sources but built the pure-Python wheel {whl.name}: "
                             "its extension was not compiled",
                             fix="see the build output above for why the backend skipped it")
        problems = wheel_problems(whl)
        if problems:
            raise ForgeError(problems[0], fix="vendor the library into the wheel (`pyodide auditwheel repair`) "
                                               "or link it statically")
        twine_check([whl])
        outdir.mkdir(parents=True, exist_ok=True)
        final = outdir / whl.name
        shutil.copyfile(whl, final)
        return WheelReport(final, pure, time.monotonic() - t0, reqs, host_specs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
