"""What `forge-pyodide-build` adds for packages that compile against other Python packages
(numpy's C API) and for multi-output recipes that split one wheel (numpy + numpy-tests).

1. Host packages as build requirements ("cross-build packages", Pyodide's "unisolated"
   packages). A project like PyWavelets lists `numpy` in [build-system].requires: its build
   backend runs in the build root's native CPython and asks the native numpy for its include
   dir (`numpy.get_include()`, `numpy-config`, `numpy.pc`, Cython's `cimport numpy`). The
   native wheel's headers describe x86_64 (`NPY_SIZEOF_LONG 8`), so the extension must
   compile against the wasm32 numpy in $PREFIX (the recipe's `host: numpy`) instead.
   `cross_wheels` takes the native wheel of the same version from the wheelhouse and
   replaces its C-level files (headers, .pxd/.pxi, static libraries, .pc/.ini) with the
   host package's, as a wheel with build tag 1 (pip prefers it over the untagged one), and
   pins the version with a constraints file. Python code stays native, so the backend runs.

2. One build per job for multi-output recipes. Each output of a recipe runs its own build
   script; `reuse_store` keeps the built wheel in the job's staging tree (which the forge
   empties at the start of every job), keyed by the recipe folder's files and the helper's
   arguments, so the second output installs the same wheel instead of compiling again.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import zipfile
from pathlib import Path

#: files of a host package that C/Cython builds against it read
C_LEVEL_SUFFIXES = (".h", ".hpp", ".pxd", ".pxi", ".a", ".pc", ".ini")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def host_distributions(site_packages: Path) -> dict[str, tuple[str, Path]]:
    """normalised name -> (version, top-level package dir) of host packages with C-level files."""
    found: dict[str, tuple[str, Path]] = {}
    if not site_packages.is_dir():
        return found
    for di in site_packages.glob("*.dist-info"):
        name, _, version = di.name[: -len(".dist-info")].rpartition("-")
        pkg = site_packages / _norm(name)
        if pkg.is_dir() and any(p.suffix in C_LEVEL_SUFFIXES for p in pkg.rglob("*") if p.is_file()):
            found[_norm(name)] = (version, pkg)
    return found


def _record_line(name: str, data: bytes) -> list[str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def hybrid_wheel(native: Path, host_pkg: Path, out_dir: Path) -> Path:
    """The native wheel with every C-level file of the host package put in (build tag 1)."""
    top = host_pkg.name
    host_files = {f"{top}/{p.relative_to(host_pkg).as_posix()}": p for p in host_pkg.rglob("*")
                  if p.is_file() and p.suffix in C_LEVEL_SUFFIXES}
    parts = native.name[:-4].split("-")  # name-version[-build]-py-abi-plat
    if len(parts) == 6:
        del parts[2]
    out = out_dir / ("-".join([*parts[:2], "1", *parts[2:]]) + ".whl")
    rows: list[list[str]] = []
    with zipfile.ZipFile(native) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        record = next(n for n in zin.namelist() if n.endswith(".dist-info/RECORD"))
        written: set[str] = set()
        for info in zin.infolist():
            name = info.filename
            if name == record:
                continue
            data = host_files[name].read_bytes() if name in host_files else zin.read(name)
            if name.endswith(".dist-info/WHEEL"):
                text = "\n".join(ln for ln in data.decode().splitlines() if not ln.startswith("Build:"))
                data = (text.rstrip("\n") + "\nBuild: 1\n").encode()
            zout.writestr(info, data)
            rows.append(_record_line(name, data))
            written.add(name)
        for name, path in sorted(host_files.items()):
            if name not in written:
                data = path.read_bytes()
                zout.writestr(name, data)
                rows.append(_record_line(name, data))
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([*rows, [record, "", ""]])
        zout.writestr(record, buf.getvalue())
    return out


def cross_wheels(prefix: Path, pyxy: str, wheelhouse: str | None, out_dir: Path) -> tuple[list[str], list[str]]:
    """(hybrid wheels made, `name==version` constraints) for host packages the wheelhouse has
    native cp<XY> wheels of. A native wheel of another version only is an error: the build
    would compile against headers of a numpy that is not the one it will run with."""
    if not wheelhouse:
        return [], []
    host = host_distributions(prefix / "lib" / f"python{pyxy}" / "site-packages")
    made: list[str] = []
    pins: list[str] = []
    cp = f"cp{pyxy.replace('.', '')}"
    for name, (version, pkg) in sorted(host.items()):
        natives = [w for w in Path(wheelhouse).glob("*.whl")
                   if _norm(w.name.split("-")[0]) == name and f"-{cp}-" in w.name and "linux" in w.name]
        if not natives:
            continue  # not a build requirement of this package
        same = [w for w in natives if w.name.split("-")[1] == version]
        if not same:
            raise RuntimeError(
                f"the host {name} is {version} but the wheelhouse has only "
                f"{', '.join(sorted(w.name for w in natives))} for the build backend; pin "
                f"{name}=={version} for cross builds (constraints/build-tools.txt) or rebuild {name}")
        out_dir.mkdir(parents=True, exist_ok=True)
        made.append(str(hybrid_wheel(sorted(same)[0], pkg, out_dir)))
        pins.append(f"{name}=={version}")
    return made, pins


def reuse_store(src: Path) -> Path | None:
    """The job's wheel store: <staging>/forge-wheels when $SRC_DIR is rattler-build's
    <staging>/bld/rattler-build_<name>_<stamp>/work (the forge empties <staging> per job)."""
    if len(src.parents) > 3 and src.name == "work" and src.parents[1].name == "bld":
        return src.parents[2] / "forge-wheels"
    return None


def reuse_key(recipe_dir: str | None, args: object) -> str:
    h = hashlib.sha256(json.dumps(args, sort_keys=True, default=str).encode())
    if recipe_dir and Path(recipe_dir).is_dir():
        for f in sorted(Path(recipe_dir).rglob("*")):
            if f.is_file():
                h.update(f.relative_to(recipe_dir).as_posix().encode() + f.read_bytes())
    return h.hexdigest()[:20]


def reused_wheel(store: Path | None, key: str) -> Path | None:
    if store is None:
        return None
    found = sorted((store / key).glob("*.whl")) if (store / key).is_dir() else []
    return found[0] if found else None


def keep_wheel(store: Path | None, key: str, whl: Path) -> None:
    if store is None:
        return
    dest = store / key
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / (whl.name + f".part-{os.getpid()}")
    shutil.copyfile(whl, tmp)
    os.replace(tmp, dest / whl.name)
