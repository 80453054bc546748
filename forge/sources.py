"""The fetch phase's sources: sdists and npm tarballs pinned by (file name, sha256).

Sdists are found with unearth on the indexes pip on this machine is configured with
(forge.pipindex; no host is named in the project), npm tarballs with `npm pack`; both are
cached by sha256 and verified. Each build then sees a private folder of links to its
verified archives (and a wheel set of its build requirements, forge.buildreqs), so the build
step itself needs no network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from packaging.utils import parse_sdist_filename

from . import pipindex
from .errors import ForgeError
from .fsutil import link_or_copy
from .recipes import SourceFile

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class SourceCache:
    """Content-addressed store of source archives: <cache>/sources/<sha256>/<filename>."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "sources"

    def path_for(self, src: SourceFile) -> Path:
        return self.root / src.sha256 / src.filename

    def fetch(self, src: SourceFile, *, recipe: str, file: str) -> Path:
        """Return the verified archive, downloading it through pip's index (sdists) or the
        npm client (`<name>-<version>.tgz`) if it is not cached yet."""
        target = self.path_for(src)
        if target.exists() and sha256_file(target) == src.sha256:
            return target
        if src.filename.endswith(".tgz"):
            return self._fetch_npm(src, target, recipe=recipe, file=file)
        try:
            project, version = parse_sdist_filename(src.filename)
        except Exception:  # noqa: BLE001
            raise ForgeError(
                f"the source file name {src.filename!r} is not an sdist name (<project>-<version>.tar.gz)",
                recipe=recipe, file=file, fix="name the sdist exactly as the package index lists it",
            ) from None
        try:
            found: pipindex.SdistLink | None = pipindex.find_sdist_link(str(project), str(version))
            why = ""
        except ForgeError as exc:  # nothing found, or the indexes unreachable, as pip would meet them
            found, why = None, f" ({exc.message})"
        if found is None or found.filename != src.filename:
            other = f" (it lists {found.filename})" if found else ""
            raise ForgeError(
                f"the source {src.filename} ({project} {version}) cannot be fetched from the "
                f"package index pip is configured with{why or other}",
                recipe=recipe, file=file,
                fix="check the version and file name (pip download --no-deps --no-binary :all: "
                f"{project}=={version} shows what exists)",
            )
        if found.sha256 and found.sha256 != src.sha256:
            raise ForgeError(
                f"the sha256 pinned for {src.filename} is {src.sha256} but the index lists {found.sha256}",
                recipe=recipe, file=file, fix="correct `sha256:` in the source entry",
            )
        try:
            pipindex.download(found.url, target, sha256=src.sha256)
        except ForgeError as exc:
            raise ForgeError(exc.message, recipe=recipe, file=file, fix="correct `sha256:` in the source entry") from None
        return target

    def _fetch_npm(self, src: SourceFile, target: Path, *, recipe: str, file: str) -> Path:
        stem = src.filename[: -len(".tgz")]
        name, _, version = stem.rpartition("-")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".npm-", dir=target.parent))
        try:
            proc = subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", str(tmp)],
                                  capture_output=True, text=True, check=False, cwd=tmp)
            packed = tmp / src.filename
            if proc.returncode != 0 or not packed.exists():
                why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise ForgeError(
                    f"the npm package {name}@{version} cannot be fetched with npm ({why[:200]})",
                    recipe=recipe, file=file, fix="check the name and version (npm view NAME versions)",
                )
            actual = sha256_file(packed)
            if actual != src.sha256:
                raise ForgeError(
                    f"the npm tarball {src.filename} has sha256 {actual}, not the pinned {src.sha256}",
                    recipe=recipe, file=file, fix="correct `sha256:` in the source entry",
                )
            os.replace(packed, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target


def link_sources(paths: list[Path], dest: Path) -> Path:
    """A private sources folder for one build: hard links (or copies) of verified archives."""
    dest.mkdir(parents=True, exist_ok=True)
    for p in paths:
        link_or_copy(p, dest / p.name)
    return dest
