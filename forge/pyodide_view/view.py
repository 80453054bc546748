"""publish_view: keep `<channel>/pyodide/` in step with the channel.

The view holds one Pyodide-installable file per Python package of the channel (the newest
build of each name), micropip, the Pyodide runtime files, a `pyodide-lock.json` and a
piplite `all.json`. It is cheap to call after every publish: a package whose conda sha256
was converted before is reused, not rebuilt. Like the channel's repodata it is updated
atomically: files land under a temporary name and are renamed into place, the lock and
the index are replaced last, and files the new lock no longer names are removed after.
It is written by the channel's one writer, under the channel's lock (forge.channel).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..channel import Channel
from ..fsutil import place_atomic, scratch_dir, sweep_leftovers, write_atomic
from . import conda_pkg, runtime
from ..toolchain.pyodide_dist import LOCK_FILE
from .lock import lock_entry, render_lock
from .piplite import ALL_JSON, release, render_index
from .requirements import NOT_PYTHON, spec_name, to_pep508
from .wheel import Artifact, build_shared_library, build_wheel, check_content

VIEW_DIR = "pyodide"
STATE_FILE = ".forge-view.json"
#: Bump when conversion output changes, so cached artifacts are rebuilt.
FORMAT = 2
SUBDIRS = ("noarch", "emscripten-wasm32")
#: Conda packages that are the runtime, not something Pyodide installs: the emscripten-wasm32
#: `python` platform package (recipes/python) and the ABI mutex (which has no files anyway).
INTERPRETER = frozenset({"python", "pyodide-abi"})


@dataclass
class ViewReport:
    """What publish_view did."""

    view_dir: Path
    lock_path: Path
    packages: list[str] = field(default_factory=list)  # lock keys
    built: list[str] = field(default_factory=list)  # converted this call
    reused: list[str] = field(default_factory=list)  # unchanged conda sha256
    skipped: list[str] = field(default_factory=list)  # the interpreter; no site-packages and no shared library
    removed: list[str] = field(default_factory=list)  # stale files deleted
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    build_seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["view_dir"], d["lock_path"] = str(self.view_dir), str(self.lock_path)
        return d


@dataclass(frozen=True)
class _Rec:
    subdir: str
    filename: str
    name: str
    version: str
    build_number: int
    timestamp: int
    sha256: str
    depends: tuple[str, ...]


def _sort_key(r: _Rec) -> tuple:
    try:
        v: tuple = (1, Version(r.version))
    except InvalidVersion:
        v = (0, r.version)
    return (v, r.build_number, r.timestamp)


def python_records(channel: Channel) -> list[_Rec]:
    """The newest build of each Python-ish package: noarch: python, and emscripten-wasm32."""
    newest: dict[str, _Rec] = {}
    for sd in SUBDIRS:
        data = channel.repodata(sd)
        for key in ("packages", "packages.conda"):
            for fn, rec in (data.get(key) or {}).items():
                if sd == "noarch" and rec.get("noarch") != "python":
                    continue
                r = _Rec(sd, fn, rec["name"], rec["version"], int(rec.get("build_number", 0)),
                         int(rec.get("timestamp", 0)), rec.get("sha256", ""), tuple(rec.get("depends", ())))
                if r.name not in newest or _sort_key(r) > _sort_key(newest[r.name]):
                    newest[r.name] = r
    return [newest[n] for n in sorted(newest)]


def _load_state(view: Path) -> dict:
    try:
        state = json.loads((view / STATE_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return state.get("packages", {}) if state.get("format") == FORMAT else {}


def _art(d: dict) -> Artifact:
    return Artifact(**{**d, "imports": tuple(d["imports"])})


def _sync_runtime_files(view: Path, cache_dir: Path | None) -> None:
    src = runtime.pyodide_dir(cache_dir)
    for name in runtime.RUNTIME_FILES:
        dest = view / name
        if not dest.is_file() or dest.stat().st_size != (src / name).stat().st_size:
            place_atomic(src / name, dest)


def publish_view(channel_dir: Path, *, view_dir: Path | None = None, cache_dir: Path | None = None,
                 runtime_packages: tuple[str, ...] = runtime.RUNTIME_PACKAGES,
                 include_runtime: bool = True) -> ViewReport:
    """Regenerate the Pyodide view of the channel (default `<channel>/pyodide/`).

    The view is part of the channel tree, so it is written by the channel's one writer:
    under `Channel.lock()` (`Channel.refresh_view`), never beside a publish. What may need
    the network (the Pyodide dist, micropip's wheel) is fetched into the cache before the
    lock is taken. A package whose wheel would not match its tag is refused (ForgeError)
    before anything in the view changes.
    """
    start = time.monotonic()
    channel = Channel(Path(channel_dir))
    view = Path(view_dir) if view_dir else channel.path / VIEW_DIR
    report = ViewReport(view_dir=view, lock_path=view / LOCK_FILE)
    info = runtime.lock_info(cache_dir)
    if include_runtime:
        runtime.pyodide_dir(cache_dir)
    have = {canonicalize_name(r.name) for r in python_records(channel)}
    fetched: dict[str, runtime.RuntimeWheel | Exception] = {}
    for name in runtime_packages:
        if canonicalize_name(name) not in have:
            try:
                fetched[name] = runtime.runtime_wheel(name, cache_dir)
            except (RuntimeError, OSError, KeyError) as exc:
                fetched[name] = exc
    channel.refresh_view(lambda: _refresh(channel, view, report, info, cache_dir, runtime_packages,
                                          fetched, include_runtime))
    report.seconds = time.monotonic() - start
    return report


def _refresh(channel: Channel, view: Path, report: ViewReport, info: dict, cache_dir: Path | None,
             runtime_packages: tuple[str, ...], fetched: dict, include_runtime: bool) -> None:
    """The view's writes, under the channel lock: read, check, convert, then swap in."""
    view.mkdir(parents=True, exist_ok=True)
    if view.resolve().parent != channel.path.resolve():
        sweep_leftovers(view)  # a view outside the channel: the channel's sweep does not reach it
    state = _load_state(view)
    new_state: dict[str, dict] = {}
    records = python_records(channel)
    pending: dict[str, tuple[_Rec, conda_pkg.CondaPackage]] = {}
    kinds: dict[str, str] = {}  # conda name -> package_type
    placed: dict[str, Path] = {}  # file name -> where it was built, until renamed into place
    work = scratch_dir(view, "work")
    try:
        # pass 1: reuse what is cached, read, classify and check what is not (nothing written yet)
        for rec in records:
            if rec.name in INTERPRETER:
                # the interpreter is the runtime itself (and its site-packages holds only a
                # README); never a wheel or a lock entry Pyodide would try to install
                report.skipped.append(rec.name)
                continue
            cached = state.get(rec.sha256)
            if cached and (view / cached["artifact"]["file_name"]).is_file() \
                    and (view / cached["artifact"]["file_name"]).stat().st_size == cached["artifact"]["size"]:
                new_state[rec.sha256] = cached
                kinds[rec.name] = cached["artifact"]["package_type"]
                report.reused.append(rec.name)
                continue
            t0 = time.monotonic()
            conda_file = channel.path / rec.subdir / rec.filename
            dest = work / rec.name
            conda_pkg.extract(conda_file, dest)
            pkg = conda_pkg.read(dest)
            report.build_seconds[rec.name] = time.monotonic() - t0
            if pkg.is_python:
                kinds[rec.name] = "package"
            elif pkg.shared_libs:
                kinds[rec.name] = "shared_library"
            else:
                report.skipped.append(rec.name)
                continue
            check_content(pkg, conda_file)
            pending[rec.name] = (rec, pkg)
        # pass 2: convert into the private work folder; Requires-Dist names only Python distributions
        out = work / ".out"
        out.mkdir()
        for name, (rec, pkg) in pending.items():
            t0 = time.monotonic()
            if kinds[name] == "package":
                reqs = [r for d in rec.depends
                        if kinds.get(spec_name(d)) != "shared_library" and (r := to_pep508(d))]
                art = build_wheel(pkg, reqs, out)
            else:
                art = build_shared_library(pkg, out)
            placed[art.file_name] = out / art.file_name
            report.build_seconds[name] = report.build_seconds.get(name, 0.0) + time.monotonic() - t0
            report.built.append(name)
            new_state[rec.sha256] = {"artifact": asdict(art), "conda": f"{rec.subdir}/{rec.filename}",
                                     "name": rec.name, "timestamp": rec.timestamp}
        # the lock: channel packages, then runtime packages the channel does not provide
        entries: dict[str, dict] = {}
        piplite: dict[str, tuple[str, dict]] = {}
        by_name = {r.name: r for r in records}
        for sha, st in new_state.items():
            rec = by_name[st["name"]]
            art = _art(st["artifact"])
            key = canonicalize_name(art.dist_name) if art.package_type == "package" else art.dist_name
            deps = [canonicalize_name(spec_name(d)) for d in rec.depends]
            entries[key] = lock_entry(art, [d for d in deps if d not in NOT_PYTHON and not d.startswith("__")],
                                      {"wasm-forge": {"conda": st["conda"], "conda_sha256": sha}})
            if art.file_name.endswith(".whl"):
                wheel_file = placed.get(art.file_name, view / art.file_name)
                piplite[art.dist_name] = (art.version, release(wheel_file, art.file_name, art.sha256,
                                                               art.requires_python, st["timestamp"]))
        # pass 3: swap in; files first, then all.json, then the lock (what clients read first)
        for file_name, tmp in placed.items():
            os.replace(tmp, view / file_name)
        placed.clear()
        runtime_files: set[str] = set()
        for name in runtime_packages:
            if canonicalize_name(name) in entries:
                continue
            rw = fetched.get(name)
            if rw is None:  # the channel held it when the lock was not yet ours, and lost it since
                try:
                    rw = runtime.runtime_wheel(name, cache_dir)
                except (RuntimeError, OSError, KeyError) as exc:
                    rw = exc
            if isinstance(rw, Exception):
                report.warnings.append(f"runtime package {name} left out of the view: {rw}")
                continue
            dest = view / rw.path.name
            if not dest.is_file() or dest.stat().st_size != rw.path.stat().st_size:
                place_atomic(rw.path, dest)
            runtime_files.add(rw.path.name)
            source = f"pyodide {runtime.target.PYODIDE_VERSION} runtime package"
            entries[canonicalize_name(name)] = {**rw.entry, "file_name": rw.path.name, "sha256": rw.sha256,
                                                "tool": {"wasm-forge": {"source": source}}}
            piplite[name] = (rw.entry["version"], release(dest, dest.name, rw.sha256, None))
        for key, entry in entries.items():
            missing = [d for d in entry["depends"] if d not in entries]
            if missing:
                report.warnings.append(f"{key} depends on {', '.join(missing)}, which the view does not hold; "
                                       "left out of its lock depends")
                entry["depends"] = [d for d in entry["depends"] if d in entries]
        if include_runtime:
            _sync_runtime_files(view, cache_dir)
        write_atomic(view / ALL_JSON, render_index(piplite), fsync=True)
        write_atomic(view / LOCK_FILE, render_lock(info, entries), fsync=True)
        write_atomic(view / STATE_FILE, json.dumps({"format": FORMAT, "packages": new_state}, indent=1,
                                                   sort_keys=True) + "\n", fsync=True)
        keep = {e["file_name"] for e in entries.values()} | runtime_files
        for f in view.iterdir():
            if f.is_file() and f.suffix in (".whl", ".zip") and f.name not in keep \
                    and f.name != "python_stdlib.zip":
                f.unlink()
                report.removed.append(f.name)
        report.packages = sorted(entries)
    finally:
        shutil.rmtree(work, ignore_errors=True)
