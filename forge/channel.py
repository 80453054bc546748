"""The output channel: a conda channel directory that micromamba and rattler install from.

Publishing is atomic. A package file is copied under a temporary name and renamed into place;
the repodata is produced by py-rattler's indexer in a shadow tree of hard links and then
renamed over the live repodata.json. So a crash never leaves a half-written package or a
repodata.json listing a missing file, and an exclusive lock serialises concurrent publishers
(threads or processes) so that no publish is lost.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .errors import ForgeError

#: Subdirs every channel has: consumers probe noarch and our target platform.
BASE_SUBDIRS = ("noarch", "emscripten-wasm32")
_LOCK = ".forge-publish.lock"
_TMP_PREFIX = ".partial-"


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
        """Exclusive publish lock, shared by threads and processes on this machine."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / _LOCK, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

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
            self._sweep_partials()
            touched = set(BASE_SUBDIRS)
            for pkg in packages:
                subdir = pkg.parent.name
                dest_dir = self.path / subdir
                dest_dir.mkdir(parents=True, exist_ok=True)
                tmp = dest_dir / f"{_TMP_PREFIX}{pkg.name}"
                shutil.copyfile(pkg, tmp)
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                _fault("publish-after-copy")
                os.replace(tmp, dest_dir / pkg.name)
                placed.append(dest_dir / pkg.name)
                touched.add(subdir)
            _fault("publish-before-index")
            self._reindex(tuple(sorted(touched)))
        return placed

    def reindex(self) -> None:
        """Rebuild every subdir's repodata from the package files (forge index)."""
        with self.lock():
            self._sweep_partials()
            subdirs = {p.name for p in self.path.iterdir() if p.is_dir() and not p.name.startswith(".")
                       and ((p / "repodata.json").exists() or any(p.glob("*.conda")))}
            self._reindex(tuple(sorted(subdirs | set(BASE_SUBDIRS))))

    def _sweep_partials(self) -> None:
        for leftover in self.path.glob(f"*/{_TMP_PREFIX}*"):
            leftover.unlink(missing_ok=True)
        for shadow in self.path.glob(".index-*"):
            shutil.rmtree(shadow, ignore_errors=True)

    def _reindex(self, subdirs: tuple[str, ...]) -> None:
        from rattler import Subdir  # noqa: PLC0415  (py-rattler is slow to import)
        from rattler.index import index_fs  # noqa: PLC0415

        shadow = Path(tempfile.mkdtemp(prefix=".index-", dir=self.path))
        try:
            for sd in set(subdirs) | {"noarch"}:
                src = self.path / sd
                dst = shadow / sd
                dst.mkdir(parents=True)
                if src.is_dir():
                    for f in src.iterdir():
                        if f.suffix in (".conda", ".bz2") and not f.name.startswith(_TMP_PREFIX):
                            os.link(f, dst / f.name)
            for sd in subdirs:
                asyncio.run(index_fs(shadow, target_platform=Subdir(sd), write_zst=False,
                                     write_shards=False, force=True))
            _fault("index-before-swap")
            for sd in sorted(set(subdirs) | {"noarch"}):
                new = shadow / sd / "repodata.json"
                if new.exists():
                    (self.path / sd).mkdir(exist_ok=True)
                    os.replace(new, self.path / sd / "repodata.json")
        finally:
            shutil.rmtree(shadow, ignore_errors=True)
