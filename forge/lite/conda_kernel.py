"""`%conda install` / `%mamba install` inside a `forge lite --conda` site's Pyodide kernel.

This file runs in the kernel (Pyodide 314, CPython 3.14), not in forge: forge.lite.conda ships
it as the module `forge_lite_conda` of a small wheel the site preloads, whose IPython startup
file calls register(). Only the standard library and Pyodide are imported, and those of
Pyodide lazily, so the pure parts are testable on any Python.

A line `%conda install SPEC...` becomes `await forge_lite_conda.magic(...)`, the way the
kernel turns `%pip` into piplite (pyodide_kernel's lite transforms): the install fetches, so it
must be awaited. The solver is rattler compiled to wasm (npm @conda-org/rattler), imported as an
ES module from the site and run against the site's own copy of the channel (static/conda/).
Each solved `.conda` (a zip of `info-*.tar.zst` and `pkg-*.tar.zst`) is unpacked with
`compression.zstd` and `tarfile`: Python files into site-packages, shared libraries of `lib/`
into Pyodide's DSO dir (/usr/lib, on LD_LIBRARY_PATH), the rest under sys.prefix. Then every
wasm side module is loaded as Pyodide's loadPackage does (`_api.loadDynlib`), the `lib/`
libraries first, so an extension that needs one finds it loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import re
import shlex
import sys
import tarfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

#: Where the site puts the channel and the solver, relative to Pyodide's indexURL (static/pyodide/).
CHANNEL = "../conda/"
SOLVER = "../conda/solver/rattler.mjs"
PLATFORMS = ("emscripten-wasm32", "noarch")
#: Conda packages that are the running interpreter itself: never installed over it.
RUNTIME = frozenset({"python", "pyodide-abi", "python_abi"})
_MAGIC = re.compile(r"^(\s*)%(conda|mamba)\b(.*)$")
_PYLIB = re.compile(r"^lib/python\d+\.\d+/site-packages/")


class CondaError(Exception):
    """A failure the user gets as its one sentence (no traceback)."""


@dataclass
class Record:
    """One solved package."""

    name: str
    version: str
    build: str
    url: str
    sha256: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


@dataclass
class Placed:
    """What unpacking one package wrote."""

    files: list[Path] = field(default_factory=list)
    dynlibs: list[Path] = field(default_factory=list)  # wasm side modules, `lib/` ones first


def normalize(name: str) -> str:
    """Conda, PyPI and lock names compared alike (`Typing_Extensions` == `typing-extensions`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(line: str, magic: str = "conda") -> list[str]:
    """The specs of `install [-y] [-q] SPEC...`; anything else is one sentence."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise CondaError(f"%{magic} could not read `{line.strip()}` ({exc}); quote specs like 'numpy >=2'") from None
    if not words or words[0] != "install":
        what = f"%{magic} {words[0]}" if words else f"%{magic}"
        raise CondaError(f"{what} is not supported here: this kernel has only `%{magic} install SPEC...` "
                         "(from the site's own channel)")
    specs: list[str] = []
    for w in words[1:]:
        if w in ("-y", "--yes", "-q", "--quiet"):
            continue
        if w.startswith("-"):
            raise CondaError(f"%{magic} install {w} is not supported here: the kernel installs from the site's "
                             "own channel only, so pass just package specs")
        specs.append(w)
    if not specs:
        raise CondaError(f"%{magic} install needs at least one package spec, e.g. `%{magic} install markupsafe`")
    return specs


def split(records: list[Record], have: dict[str, str]) -> tuple[list[Record], list[tuple[Record, str]]]:
    """(to install, already in the kernel with its version): the runtime and anything the kernel
    has loaded or installed (by name) are kept, so the kernel's own packages are never replaced."""
    todo: list[Record] = []
    kept: list[tuple[Record, str]] = []
    for r in records:
        n = normalize(r.name)
        if n in have or r.name in RUNTIME:
            kept.append((r, have.get(n, "")))
        else:
            todo.append(r)
    return todo, kept


def target(member: str, site_packages: Path, dso_dir: Path, prefix: Path) -> Path | None:
    """Where a file of a conda package goes in the kernel (None: skipped)."""
    p = PurePosixPath(member)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return None
    s = str(p)
    if s.startswith("site-packages/"):  # noarch: python
        return site_packages / s.removeprefix("site-packages/")
    if _PYLIB.match(s):
        return site_packages / _PYLIB.sub("", s)
    if s.startswith("python-scripts/"):
        return prefix / "bin" / s.removeprefix("python-scripts/")
    if len(p.parts) == 2 and p.parts[0] == "lib" and ".so" in p.name:
        return dso_dir / p.name
    if s.startswith("etc/conda/test-files/"):  # the recipe's tests: not part of the install
        return None
    return prefix / s


def is_dynlib(path: Path) -> bool:
    """A wasm side module Pyodide would load: `x.so`, `x.so.1`, `x.cpython-314-wasm32-emscripten.so`."""
    return bool(re.search(r"\.so(\.\d+)*$", path.name))


def place(tar: tarfile.TarFile, site_packages: Path, dso_dir: Path, prefix: Path) -> Placed:
    """Write a `pkg-*` tar's files to their places; links become symlinks."""
    out = Placed()
    libs: list[Path] = []
    exts: list[Path] = []
    for m in tar.getmembers():
        dest = target(m.name, site_packages, dso_dir, prefix)
        if dest is None or m.isdir():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink() or dest.exists():
            dest.unlink()
        if m.issym():
            dest.symlink_to(m.linkname)
        elif m.isfile():
            src = tar.extractfile(m)
            dest.write_bytes(src.read() if src else b"")
            if is_dynlib(dest):
                (libs if dest.parent == dso_dir else exts).append(dest)
        else:
            continue
        out.files.append(dest)
    out.dynlibs = libs + exts
    return out


def pkg_tar(data: bytes, filename: str) -> tarfile.TarFile:
    """The payload tar of a `.conda` (zip: pkg-*.tar.zst) or a `.tar.bz2`."""
    if filename.endswith(".tar.bz2"):
        return tarfile.open(fileobj=io.BytesIO(data), mode="r:bz2")
    from compression import zstd  # noqa: PLC0415 (3.14)

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        inner = next((n for n in zf.namelist() if n.startswith("pkg-") and n.endswith(".tar.zst")), None)
        if inner is None:
            raise CondaError(f"{filename} holds no pkg-*.tar.zst, so it is not a .conda package; rebuild it")
        raw = zstd.decompress(zf.read(inner))
    return tarfile.open(fileobj=io.BytesIO(raw), mode="r:")


def dirs() -> tuple[Path, Path, Path]:
    """(site-packages, DSO dir, prefix) of the running Pyodide (its package loader's own)."""
    from pyodide import _package_loader as pl  # noqa: PLC0415

    return Path(pl.SITE_PACKAGES), Path(pl.DSO_DIR), Path(sys.prefix)


def unpack(data: bytes, record: Record, sha256: str = "") -> Placed:
    """Check a downloaded package and place its files (no dynlib is loaded yet)."""
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise CondaError(f"{record.url} does not match the channel's sha256, so it was not installed; "
                         "rebuild the site (forge lite --conda)")
    site_packages, dso_dir, prefix = dirs()
    with pkg_tar(data, record.url.rsplit("/", 1)[-1]) as tar:
        placed = place(tar, site_packages, dso_dir, prefix)
    meta = prefix / "conda-meta" / f"{record.name}-{record.version}-{record.build}.json"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"name": record.name, "version": record.version, "build": record.build,
                                "url": record.url, "sha256": sha256, "files": [str(f) for f in placed.files]}))
    return placed


async def load_dynlibs(placed: list[Placed]) -> None:
    """Load the side modules as Pyodide's loadPackage does: every package's `lib/` libraries,
    then the extension modules (which link against them)."""
    import pyodide_js  # noqa: PLC0415

    _, dso_dir, _ = dirs()
    libs = [p for pl in placed for p in pl.dynlibs if p.parent == dso_dir]
    exts = [p for pl in placed for p in pl.dynlibs if p.parent != dso_dir]
    for path in libs + exts:
        await pyodide_js._api.loadDynlib(str(path))


def installed() -> dict[str, str]:
    """Normalized name -> version of what the kernel has: Pyodide's loaded packages, every
    distribution on sys.path, and earlier `%conda install`s (conda-meta)."""
    have: dict[str, str] = {}
    try:
        import pyodide_js  # noqa: PLC0415

        have.update({normalize(k): "" for k in pyodide_js.loadedPackages.to_py()})
    except ImportError:
        pass
    from importlib import metadata  # noqa: PLC0415

    for d in metadata.distributions():
        name = d.metadata["Name"] if d.metadata else None
        if name:
            have[normalize(name)] = d.version
    meta = Path(sys.prefix) / "conda-meta"
    if meta.is_dir():
        for f in meta.glob("*.json"):
            rec = json.loads(f.read_text())
            have[normalize(rec["name"])] = rec["version"]
    return have


async def _site_urls() -> tuple[str, str]:
    import pyodide_js  # noqa: PLC0415
    from js import URL, location  # noqa: PLC0415

    base = URL.new(pyodide_js._api.config.indexURL, location.href).href
    return URL.new(CHANNEL, base).href, URL.new(SOLVER, base).href


async def solve(specs: list[str], channel: str, solver: str) -> list[Record]:
    """rattler's simpleSolve in the kernel's worker, against the site's channel."""
    from pyodide.code import run_js  # noqa: PLC0415
    from pyodide.ffi import to_js  # noqa: PLC0415

    # simpleSolve rejects with a plain string, which Pyodide cannot raise (a fatal "invalid
    # exception object"), so the outcome is settled in JS and handed over as a value
    call = run_js("""(url, specs, channels, platforms) => import(url).then((m) =>
        m.simpleSolve(specs, channels, platforms, [])).then((found) => ({found}), (e) => ({error: String(e)}))""")
    res = await call(solver, to_js(specs), to_js([channel]), to_js(list(PLATFORMS)))
    if getattr(res, "found", None) is None:
        raise CondaError(await _unsolvable(specs, channel, str(res.error)))
    return [Record(p.packageName, p.version, p.build, p.url, p.sha256 or "") for p in res.found]


async def _unsolvable(specs: list[str], channel: str, why: str) -> str:
    """One sentence naming the spec and what the channel lacks (the repodata says which)."""
    from pyodide.http import pyfetch  # noqa: PLC0415

    versions: dict[str, set[str]] = {}
    for sd in PLATFORMS:
        try:
            data = await (await pyfetch(f"{channel}{sd}/repodata.json")).json()
        except Exception:  # noqa: BLE001 (the sentence then says less, but still one sentence)
            continue
        for key in ("packages", "packages.conda"):
            for rec in (data.get(key) or {}).values():
                versions.setdefault(normalize(rec["name"]), set()).add(rec["version"])
    return unsolvable_message(specs, why, versions)


def unsolvable_message(specs: list[str], why: str, versions: dict[str, set[str]]) -> str:
    """The sentence for a failed solve: the spec rattler found no candidates for (an unknown
    name, or a version the channel lacks), or else the solver's own reason."""
    asked = f"%conda install {' '.join(specs)}"
    m = re.search(r"No candidates were found for (.+?)\.?\s*$", why.strip())
    if not m:
        reason = " ".join(why.split()).removeprefix("Cannot solve the request because of: ").rstrip(".")
        return f"{asked}: the site's channel cannot satisfy these specs together ({reason}); relax them"
    culprit = m.group(1).strip().removesuffix(" *")
    name = normalize(re.split(r"[\s=<>!~\[]", culprit, maxsplit=1)[0])
    if name not in versions:
        return (f"{asked}: the site's channel has no package named {name}; "
                f"build it into the channel (forge build {name}) and rebuild the site with forge lite --conda")
    have = ", ".join(sorted(versions[name]))
    return (f"{asked}: the site's channel cannot satisfy {culprit} (it has {name} {have}); "
            "relax the spec or build that version into the channel")


async def install(specs: list[str]) -> list[Record]:
    """Solve, fetch, unpack and load; returns what was installed."""
    from pyodide.http import pyfetch  # noqa: PLC0415
    import asyncio  # noqa: PLC0415

    t0 = time.perf_counter()
    channel, solver = await _site_urls()
    records = await solve(specs, channel, solver)
    todo, kept = split(records, installed())
    t1 = time.perf_counter()
    note = f"; already in the kernel: {', '.join(_kept(r, v) for r, v in kept)}" if kept else ""
    print(f"Solved {len(records)} packages in {t1 - t0:.2f} s from {channel}{note}")
    if not todo:
        print("Nothing to install.")
        return []

    async def fetch(r: Record) -> bytes:
        try:
            resp = await pyfetch(r.url)
        except Exception as exc:  # noqa: BLE001 (the site is gone: a network error)
            raise CondaError(f"{r.url} could not be fetched ({exc}), so nothing was installed; "
                             "check that the site is still served") from None
        if not resp.ok:
            raise CondaError(f"{r.url} answered HTTP {resp.status}, so {r.label} was not installed; rebuild the site")
        return await resp.bytes()

    blobs = await asyncio.gather(*(fetch(r) for r in todo))
    placed = [unpack(b, r, r.sha256) for b, r in zip(blobs, todo)]
    await load_dynlibs(placed)
    importlib.invalidate_caches()
    import pyodide_js  # noqa: PLC0415

    for r in todo:  # so loadPackage / import-time loading never installs the lock's copy over it
        setattr(pyodide_js.loadedPackages, r.name, f"conda ({channel})")
    size = sum(len(b) for b in blobs)
    print(f"Installed {', '.join(r.label for r in todo)} ({size / 1e3:.0f} kB) in {time.perf_counter() - t0:.2f} s")
    return todo


def _kept(record: Record, version: str) -> str:
    """`name`, or `name 1.0 (the channel's is 1.1)` when the kernel has another version."""
    if version and version != record.version:
        return f"{record.name} {version} (the channel's is {record.version})"
    return record.name


async def magic(line: str, name: str = "conda") -> None:
    """`%conda LINE`: errors are their one sentence on stderr, never a traceback."""
    try:
        await install(parse(line, name))
    except CondaError as exc:
        print(str(exc).replace("%conda install", f"%{name} install", 1), file=sys.stderr)


async def transform(lines: list[str]) -> list[str]:
    """A pyodide_kernel lite line transform: `%conda ...` -> `await forge_lite_conda.magic(...)`."""
    out = []
    for line in lines:
        m = _MAGIC.match(line)
        if m:
            line = f"{m[1]}await __import__({__name__!r}).magic({m[3].strip()!r}, {m[2]!r})\n"
        out.append(line)
    return out


def register(shell: object | None = None) -> bool:
    """Add the `%conda`/`%mamba` transform to the kernel's shell (the IPython startup file calls it)."""
    if shell is None:
        from IPython import get_ipython  # noqa: PLC0415

        shell = get_ipython()
    manager = getattr(getattr(shell, "kernel", None), "lite_transform_manager", None)
    if manager is None:
        return False
    if transform not in manager.line_transforms:
        manager.line_transforms.append(transform)
    return True
