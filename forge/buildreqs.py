"""Ask a PEP 517 backend what it needs to build a wheel; resolve that to a closed set of wheels.

The forge asks the same two questions the build itself asks (pypa `build`, which both
`forge-pip-install` and `pyodide build` use): `[build-system].requires` (PEP 517's setuptools
default when absent) and, in an isolated environment holding those, the backend's
`get_requires_for_build_wheel`. Noarch recipes are asked in the forge's own Python, cross
recipes in the build root's (where `pyodide build` runs the backend), so "is ninja on PATH"
answers match the build. The sdist is asked with the recipe's patches applied (rattler-build
builds the patched tree, and a patch may change `[build-system].requires`). Answers are cached
per (sdist sha256, patches).

Environment markers (PEP 508) are evaluated for the interpreter that installs the wheels, never
in the forge's own Python: pip evaluates them in the Python it runs in, not the one
`--python-version` names, so `cffi; python_version < '3.14'` would be fetched for a 3.14 build.
The recipe's build requirements are evaluated here; their dependencies' markers by pip run
through `forge.pipmarkers` with the same environment. Build-machine tools are
evaluated in the environment of the interpreter that runs the backend (as pypa build and
`pyodide build` install them there); host packages a cross build compiles against (the
recipe's `host:` requirements, numpy) in the target's: CPython in Pyodide, emscripten/wasm32.

Wheels are downloaded by pip, as this machine's pip is configured, into a *wheel set*: a
folder holding exactly the closed set for one requirement list. A build sees only its wheel
set, so no build can pass by borrowing a wheel that another recipe happened to fetch.
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
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .errors import ForgeError
from .fsutil import link_or_copy, write_atomic

#: Linux platform tags of the build root's interpreter (cross builds run their PEP 517
#: backends there, under another Python than the forge's own).
BUILD_ROOT_PLATFORMS = ("manylinux_2_39_x86_64", "manylinux_2_34_x86_64", "manylinux_2_28_x86_64",
                        "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
                        "manylinux_2_12_x86_64", "manylinux2010_x86_64", "manylinux_2_5_x86_64",
                        "manylinux1_x86_64", "linux_x86_64")

#: Runs in the interpreter that will build: pypa build's isolated env, filled from the wheel
#: set (PIP_NO_INDEX + PIP_FIND_LINKS), then the backend's own answer.
_ASK = """\
import json, sys
import build, build.env
with build.env.DefaultIsolatedEnv() as env:
    b = build.ProjectBuilder.from_isolated_env(env, sys.argv[1])
    env.install(b.build_system_requires)
    extra = b.get_requires_for_build("wheel")
print("FORGE-BUILD-REQUIRES " + json.dumps(sorted(extra)))
"""
_MARK = "FORGE-BUILD-REQUIRES "


@dataclass(frozen=True)
class Interpreter:
    """Where a backend runs: the forge's own Python, or the build root's (cross builds)."""

    version: str  # "3.11"
    build_root: bool = False

    @property
    def key(self) -> str:
        return f"{'root' if self.build_root else 'host'}-py{self.version}"


HOST = Interpreter(f"{sys.version_info[0]}.{sys.version_info[1]}")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def marker_environment(interp: Interpreter) -> dict[str, str]:
    """The PEP 508 environment of the Python that runs the backend and its build tools.

    The forge's own Python answers for itself; the build root's CPython runs on this machine's
    kernel and CPU (a chroot), so only its Python version differs."""
    from packaging.markers import default_environment  # noqa: PLC0415

    env = dict(default_environment())
    if interp == HOST:
        return env
    full = f"{interp.version}.0"
    if interp.build_root:
        from .toolchain.buildroot import VENV  # noqa: PLC0415
        from .toolchain.paths import default_root_dir  # noqa: PLC0415

        cfg = default_root_dir() / VENV.lstrip("/") / "pyvenv.cfg"  # names the exact version
        found = re.search(r"^version\s*=\s*(\S+)", cfg.read_text(), re.M) if cfg.is_file() else None
        if found and found.group(1).startswith(interp.version + "."):
            full = found.group(1)
    env.update(python_version=interp.version, python_full_version=full, implementation_version=full,
               implementation_name="cpython", platform_python_implementation="CPython",
               sys_platform="linux", platform_system="Linux", os_name="posix")
    return env


def target_environment() -> dict[str, str]:
    """The PEP 508 environment of the target: CPython in Pyodide on emscripten-wasm32, as its
    `platform` and `sys` report themselves there (release = the Emscripten version)."""
    from .toolchain import target  # noqa: PLC0415

    return {"implementation_name": "cpython", "implementation_version": target.PYTHON_VERSION,
            "os_name": "posix", "platform_machine": "wasm32", "platform_python_implementation": "CPython",
            "platform_release": target.EMSCRIPTEN_VERSION, "platform_system": "Emscripten", "platform_version": "#1",
            "python_full_version": target.PYTHON_VERSION, "python_version": target.PYTHON_XY,
            "sys_platform": "emscripten"}


def applicable(requirements: Iterable[str], build_env: dict[str, str], target_env: dict[str, str] | None = None,
               cross: Iterable[str] = (), *, recipe: str, file: str) -> list[str]:
    """The requirements whose markers hold, without their markers (so no later tool evaluates
    them elsewhere): names in `cross` (host packages compiled against) in `target_env`, every
    other one in `build_env`. A requirement without a marker is kept as written."""
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    host_names = {_norm(n) for n in cross}
    kept: set[str] = set()
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise _fail(f"the build requirement {text!r} is not a valid PEP 508 requirement ({why})", recipe, file,
                        "fix [build-system].requires in the sources (a patch)") from None
        if req.marker is None:
            kept.add(text)
            continue
        env = target_env if target_env is not None and _norm(req.name) in host_names else build_env
        if req.marker.evaluate({**env, "extra": ""}):
            req.marker = None
            kept.add(str(req))
    return sorted(kept)


def _fail(msg: str, recipe: str, file: str, fix: str) -> ForgeError:
    return ForgeError(msg, recipe=recipe, file=file, fix=fix)


def _last_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("ERROR") or "Error" in ln.split(":", 1)[0]]
    return (errors or lines or ["no output"])[-1][:300]


def unpack_sdist(sdist: Path, dest: Path) -> Path:
    """Extract an sdist (tar or zip) and return its top folder."""
    dest.mkdir(parents=True, exist_ok=True)
    if sdist.name.endswith(".zip"):
        with zipfile.ZipFile(sdist) as zf:
            zf.extractall(dest)
    else:
        with tarfile.open(sdist) as tf:
            tf.extractall(dest, filter="data")
    tops = [p for p in dest.iterdir() if p.is_dir()]
    return tops[0] if len(tops) == 1 else dest


def apply_patches(src: Path, patches: Iterable[Path], *, recipe: str, file: str) -> None:
    """Apply a recipe's patches to an unpacked sdist as rattler-build will before building: in
    order, in the archive's top folder, at the first strip level (-p1, -p0, -p2, -p3) under
    which the whole patch applies."""
    for patch in patches:
        for strip in (1, 0, 2, 3):
            base = ["patch", f"-p{strip}", "--batch", "--forward", "--silent", "-d", str(src), "-i", str(patch)]
            try:
                dry = subprocess.run([*base, "--dry-run"], capture_output=True, text=True, check=False)
            except FileNotFoundError:
                raise _fail(f"the patch {patch.name} cannot be applied: GNU patch is not installed", recipe, file,
                            "install patch (apt-get install patch)") from None
            if dry.returncode == 0:
                done = subprocess.run(base, capture_output=True, text=True, check=False)
                if done.returncode == 0:
                    break
        else:
            raise _fail(f"the patch {patch.name} does not apply to the sdist "
                        f"({_last_error(dry.stdout + dry.stderr)})", recipe, file,
                        "refresh the patch against this release (diff -u against the unpacked sdist)")


def is_python_project(src: Path) -> bool:
    """A PEP 517 project (pyproject.toml) or a legacy setup.py one; anything else (a C library,
    the npm Pyodide tarball) has no backend to ask."""
    return (src / "pyproject.toml").is_file() or (src / "setup.py").is_file()


def _constraints_text(constraints: Path | None) -> str:
    return constraints.read_text() if constraints and constraints.is_file() else ""


def wheel_set(requirements: list[str], interp: Interpreter, constraints: Path | None, cache_dir: Path,
              *, recipe: str, file: str) -> Path:
    """The closed set of wheels for `requirements` on `interp`, downloaded once by pip."""
    reqs = sorted(set(requirements))
    key_src = json.dumps([reqs, interp.key, _constraints_text(constraints), "markers-of-dependencies-too"])
    dest = cache_dir / "wheelsets" / hashlib.sha256(key_src.encode()).hexdigest()[:20]
    if (dest / ".complete").is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=dest.parent))
    try:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:",
               "--disable-pip-version-check", "-d", str(tmp)]
        if interp != HOST:  # the dependencies' markers too, for the interpreter that will install them
            cmd[1:3] = ["-m", "forge.pipmarkers", json.dumps(marker_environment(interp))]
            nodot = interp.version.replace(".", "")
            cmd += ["--python-version", interp.version, "--implementation", "cp", "--abi", f"cp{nodot}",
                    "--abi", "abi3", "--abi", "none"]
            for plat in BUILD_ROOT_PLATFORMS:
                cmd += ["--platform", plat]
        if constraints and constraints.is_file():
            cmd += ["-c", str(constraints)]
        if reqs:
            proc = subprocess.run([*cmd, *reqs], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise _fail(f"the build requirements {', '.join(reqs)} cannot be downloaded as wheels for "
                            f"Python {interp.version} (pip: {_last_error(proc.stderr)})", recipe, file,
                            "pin an available version in constraints/build-tools.txt")
        (tmp / ".requirements.json").write_text(json.dumps({"requirements": reqs, "python": interp.key}))
        (tmp / ".complete").touch()
        try:
            os.replace(tmp, dest)
        except OSError:  # another planner made the same set first: same content
            shutil.rmtree(tmp, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def merged_wheel_set(sets: list[Path], cache_dir: Path) -> Path | None:
    """One folder of links to several wheel sets (a recipe with noarch and cross outputs)."""
    if not sets:
        return None
    if len(sets) == 1:
        return sets[0]
    dest = cache_dir / "wheelsets" / ("merged-" + hashlib.sha256("|".join(sorted(map(str, sets))).encode()).hexdigest()[:20])
    if (dest / ".complete").is_file():
        return dest
    tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=dest.parent))
    for s in sets:
        for whl in s.glob("*.whl"):
            if not (tmp / whl.name).exists():
                link_or_copy(whl, tmp / whl.name)
    (tmp / ".complete").touch()
    try:
        os.replace(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _ask(src: Path, interp: Interpreter, wheels: Path) -> subprocess.CompletedProcess[str]:
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    if not interp.build_root:
        full = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        return subprocess.run([sys.executable, "-c", _ASK, str(src)], env={**full, **env}, capture_output=True,
                              text=True, check=False, stdin=subprocess.DEVNULL)
    from .toolchain import Bind, BuildRoot  # noqa: PLC0415
    from .toolchain.buildroot import VENV  # noqa: PLC0415

    root = BuildRoot()
    if not root.is_marked():
        raise ForgeError(f"the emscripten build root {root.root_dir} is missing, so the build backend cannot "
                         "be asked for its requirements", fix="run `forge toolchain` (or scripts/setup.sh)")
    return root.run([f"{VENV}/bin/python", "-c", _ASK, str(src)], env=env, cwd=src,
                    binds=[Bind(src), Bind(wheels, readonly=True)], capture=True, check=False)


def build_requirements(sdist: Path, sha256: str, interp: Interpreter, constraints: Path | None, cache_dir: Path,
                       *, recipe: str, file: str, patches: Iterable[Path] = (), cross: Iterable[str] = ()) -> list[str]:
    """Everything building `sdist` (with `patches` applied) into a wheel needs, as its backend
    says on `interp`, markers evaluated (`applicable`; `cross`: host package names, evaluated
    for the target).

    The backend's raw answer is cached by (sdist sha256, patches, interpreter, constraints):
    an sdist never changes; markers are evaluated on every call."""
    patches = list(patches)
    for patch in patches:
        if not patch.is_file():
            raise _fail(f"the patch {patch.name} the recipe lists for {sdist.name} is missing", recipe, file,
                        "add the patch file to the recipe folder or remove it from `patches:`")
    build_env = marker_environment(interp)
    cross = sorted(cross)
    target_env = target_environment() if cross else None

    def evaluate(reqs: Iterable[str]) -> list[str]:
        return applicable(reqs, build_env, target_env, cross, recipe=recipe, file=file)

    key = [_constraints_text(constraints)]
    if patches:  # absent: the key of an unpatched sdist is unchanged
        key += [hashlib.sha256(p.read_bytes()).hexdigest() for p in patches]
    chash = hashlib.sha256("\n".join(key).encode()).hexdigest()[:12]
    memo = cache_dir / "build-requires" / f"{sha256}-{interp.key}-{chash}.json"
    if memo.is_file():
        return evaluate(json.loads(memo.read_text()))
    work = Path(tempfile.mkdtemp(prefix="forge-ask-"))
    try:
        src = unpack_sdist(sdist, work / "src")
        apply_patches(src, patches, recipe=recipe, file=file)
        if not is_python_project(src):
            raw: list[str] = []
        else:
            import build  # noqa: PLC0415

            try:
                system = sorted(build.ProjectBuilder(src).build_system_requires)
            except build.BuildException as exc:
                raise _fail(f"{sdist.name} has an invalid [build-system] table ({exc})", recipe, file,
                            "fix pyproject.toml in the sources (a patch) or use another release") from None
            first = wheel_set(evaluate(system), interp, constraints, cache_dir, recipe=recipe, file=file)
            proc = _ask(src, interp, first)
            marked = [ln for ln in proc.stdout.splitlines() if ln.startswith(_MARK)]
            if proc.returncode != 0 or not marked:
                cause = _last_error((proc.stderr or "") + "\n" + (proc.stdout or ""))
                raise _fail(f"the build backend of {sdist.name} could not say what it needs to build a wheel "
                            f"(exit {proc.returncode}: {cause})", recipe, file,
                            "add the missing build tool to constraints/build-tools.txt or patch the sources")
            raw = sorted(set(system) | set(json.loads(marked[-1][len(_MARK):])))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_atomic(memo, json.dumps(raw))
    return evaluate(raw)
