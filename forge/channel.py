"""The output channel: a conda channel directory that micromamba and rattler install from.

Publishing is atomic. A package file is copied under a temporary name and renamed into place;
the repodata is produced by py-rattler's indexer in a shadow tree of hard links and then
renamed over the live repodata.json. So a crash never leaves a half-written package or a
repodata.json listing a missing file.

One writer for the whole tree: publishing, `forge index` and the Pyodide view
(`<channel>/pyodide/`, forge.pyodide_view) all write under `Channel.lock()`, one exclusive
flock shared by threads and processes, so no publish and no view refresh is lost. Temporary
names carry their writer's pid (`.partial-<pid>-<name>`, `.index-<pid>-*`, `.work-<pid>-*`),
and a sweep removes only those whose writer process is gone: never a live writer's files.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from .errors import ForgeError
from .fsutil import TMP_PREFIX, file_lock, place_atomic, scratch_dir, sweep_leftovers

#: Subdirs every channel has: consumers probe noarch and our target platform.
BASE_SUBDIRS = ("noarch", "emscripten-wasm32")
_LOCK = ".forge-publish.lock"
#: Locks this thread holds, by channel path: Channel.lock() is re-entrant within a thread.
_HELD = threading.local()
T = TypeVar("T")


def _fault(point: str) -> None:
    """Fault injection for tests: FORGE_FAULT=<point> kills the process at that point."""
    if os.environ.get("FORGE_FAULT") == point:
        os._exit(86)


@dataclass(frozen=True)
class ChannelRecord:
    subdir: str
    filename: str
    name: str
    version: str
    build: str
    sha256: str
    depends: tuple[str, ...]


class Channel:
    """A local channel directory."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def url(self) -> str:
        return self.path.resolve().as_uri()

    # ---------------------------------------------------------------- reading
    def subdirs(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir() if (p / "repodata.json").exists())

    def repodata(self, subdir: str) -> dict:
        path = self.path / subdir / "repodata.json"
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ForgeError(
                f"the channel's {subdir}/repodata.json is not valid JSON ({exc})", file=path,
                fix="run `forge index` to rebuild it",
            ) from None

    def records(self, subdir: str | None = None) -> list[ChannelRecord]:
        out: list[ChannelRecord] = []
        for sd in [subdir] if subdir else self.subdirs():
            data = self.repodata(sd)
            for key in ("packages", "packages.conda"):
                for fn, rec in (data.get(key) or {}).items():
                    out.append(ChannelRecord(sd, fn, rec["name"], rec["version"], rec["build"],
                                             rec.get("sha256", ""), tuple(rec.get("depends", []))))
        return out

    def filenames(self) -> set[tuple[str, str]]:
        """(subdir, filename) of every package the repodata lists."""
        return {(r.subdir, r.filename) for r in self.records()}

    # ---------------------------------------------------------------- writing
    @contextmanager
    def lock(self) -> Iterator[None]:
        """The channel writer's exclusive lock (threads and processes on this machine).

        Everything that writes into the channel tree holds it: publish, reindex and the
        Pyodide view's refresh. It is re-entrant within a thread, so a writer may call another
        (a view refresh inside a publish). On taking it, dead writers' leftovers are swept.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        key = str(self.path.resolve())
        held: dict[str, int] = _HELD.__dict__.setdefault("paths", {})
        if held.get(key):
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        with file_lock(self.path / _LOCK):
            held[key] = 1
            try:
                self._sweep_partials()
                yield
            finally:
                held.pop(key, None)

    def refresh_view(self, write: Callable[[], T]) -> T:
        """Run a writer of derived files (the Pyodide view) under the channel's lock.

        The view lives in the channel tree, so it has the same single writer as the
        repodata: a refresh never interleaves with a publish, and it sees a whole repodata.
        """
        with self.lock():
            return write()

    def ensure_layout(self) -> None:
        """Create an empty but valid channel (noarch + emscripten-wasm32 repodata)."""
        with self.lock():
            missing = [sd for sd in BASE_SUBDIRS if not (self.path / sd / "repodata.json").exists()]
            if missing:
                self._reindex(BASE_SUBDIRS)

    def publish(self, packages: list[Path]) -> list[Path]:
        """Add built packages to the channel atomically; returns their channel paths."""
        if not packages:
            return []
        placed: list[Path] = []
        with self.lock():
            touched = set(BASE_SUBDIRS)
            for pkg in packages:
                subdir = pkg.parent.name
                dest_dir = self.path / subdir
                dest_dir.mkdir(parents=True, exist_ok=True)
                place_atomic(pkg, dest_dir / pkg.name, copy=True, fsync=True,
                             before_rename=lambda: _fault("publish-after-copy"))
                placed.append(dest_dir / pkg.name)
                touched.add(subdir)
            _fault("publish-before-index")
            self._reindex(tuple(sorted(touched)), fresh={p.name for p in placed})
        return placed

    def reindex(self) -> None:
        """Rebuild every subdir's repodata from the package files (forge index)."""
        with self.lock():
            subdirs = {p.name for p in self.path.iterdir() if p.is_dir() and not p.name.startswith(".")
                       and ((p / "repodata.json").exists() or any(p.glob("*.conda")))}
            self._reindex(tuple(sorted(subdirs | set(BASE_SUBDIRS))))

    def _seed(self, subdir: str, dst: Path, fresh: set[str]) -> None:
        """Copy the live repodata of `subdir` into the shadow `dst`, without the `fresh` names
        (a re-published file is read again) and without entries whose file is gone."""
        try:
            data = json.loads((self.path / subdir / "repodata.json").read_text())
        except (OSError, ValueError):
            return  # none yet, or unreadable: the indexer reads every package
        for key in ("packages", "packages.conda"):
            entries = data.get(key)
            if isinstance(entries, dict):
                data[key] = {fn: rec for fn, rec in entries.items()
                             if fn not in fresh and (dst / fn).exists()}
        (dst / "repodata.json").write_text(json.dumps(data))

    def _sweep_partials(self) -> None:
        """Dead writers' temporary files in the channel, its subdirs and its view."""
        sweep_leftovers(self.path)
        for sub in self.path.iterdir():
            if sub.is_dir() and not sub.name.startswith("."):
                sweep_leftovers(sub)

    def _reindex(self, subdirs: tuple[str, ...], fresh: set[str] | None = None) -> None:
        """Index `subdirs` in a shadow tree, then swap the repodata in.

        `fresh`: the file names just published. Then the live repodata seeds the shadow (less
        those names) and the indexer reads only packages it does not list: a publish costs the
        new packages, not the whole channel again. Without it (forge index) every package is read.
        """
        from rattler import Subdir  # noqa: PLC0415  (py-rattler is slow to import)
        from rattler.index import index_fs  # noqa: PLC0415

        shadow = scratch_dir(self.path, "index")
        try:
            for sd in set(subdirs) | {"noarch"}:
                src = self.path / sd
                dst = shadow / sd
                dst.mkdir(parents=True)
                if src.is_dir():
                    for f in src.iterdir():
                        if f.suffix in (".conda", ".bz2") and not f.name.startswith(TMP_PREFIX):
                            os.link(f, dst / f.name)
                if fresh is not None:
                    self._seed(sd, dst, fresh)
            for sd in subdirs:
                asyncio.run(index_fs(shadow, target_platform=Subdir(sd), write_zst=False,
                                     write_shards=False, force=fresh is None))
            _fault("index-before-swap")
            for sd in sorted(set(subdirs) | {"noarch"}):
                new = shadow / sd / "repodata.json"
                if new.exists():
                    (self.path / sd).mkdir(exist_ok=True)
                    os.replace(new, self.path / sd / "repodata.json")
        finally:
            shutil.rmtree(shadow, ignore_errors=True)
