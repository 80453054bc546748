"""The fetch phase's sources: sdists, npm tarballs and Debian orig tarballs pinned by
(file name, sha256).

Sdists are found with unearth on the indexes pip on this machine is configured with
(forge.pipindex; no host is named in the project), npm tarballs with `npm pack`, Debian
upstream tarballs (`<source>_<version>.orig.tar.*`, C libraries that have no sdist) with
`apt-get source` against the archive the build root uses; all are cached by sha256 and
verified. Each build then sees a private folder of links to its
verified archives (and a wheel set of its build requirements, forge.buildreqs), so the build
step itself needs no network.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from packaging.utils import parse_sdist_filename

from . import pipindex
from .errors import ForgeError
from .fsutil import link_or_copy
from .recipes import SourceFile

# <source package>_<upstream version>.orig[-component].tar.<compression>, as Debian names them
DEBIAN_ORIG = re.compile(r"^(?P<package>[a-z0-9][a-z0-9+.-]+)_(?P<version>[A-Za-z0-9.+~-]+)"
                         r"\.orig(?:-[A-Za-z0-9-]+)?\.tar\.(?:gz|xz|bz2|lzma|zst)$")


def is_debian_orig(filename: str) -> bool:
    """A Debian upstream tarball (fetched with apt-get), not an sdist (whose build backend the
    fetch phase would ask for build requirements)."""
    return DEBIAN_ORIG.match(filename) is not None


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _place_verified(got: Path, target: Path, src: SourceFile, what: str, *, recipe: str, file: str) -> None:
    """Move a client's download into the cache only if it is the file the recipe pins."""
    actual = sha256_file(got)
    if actual != src.sha256:
        raise ForgeError(f"the {what} {src.filename} has sha256 {actual}, not the pinned {src.sha256}",
                         recipe=recipe, file=file, fix="correct `sha256:` in the source entry")
    os.replace(got, target)


class SourceCache:
    """Content-addressed store of source archives: <cache>/sources/<sha256>/<filename>."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / "sources"

    def path_for(self, src: SourceFile) -> Path:
        return self.root / src.sha256 / src.filename

    def pyodide_runtime(self) -> None:
        """The Pyodide dist a cross build's environment is made from (npm, verified, unpacked), in
        the download cache before the build: inside its sandbox the cache is read-only and there
        is no network."""
        from forge.toolchain.pyodide_dist import fetch_pyodide  # noqa: PLC0415

        fetch_pyodide(cache_dir=self.root.parent)

    def fetch(self, src: SourceFile, *, recipe: str, file: str) -> Path:
        """Return the verified archive, downloading it through pip's index (sdists) or the
        npm client (`<name>-<version>.tgz`) if it is not cached yet."""
        target = self.path_for(src)
        if target.exists() and sha256_file(target) == src.sha256:
            return target
        if src.filename.endswith(".tgz"):
            return self._fetch_npm(src, target, recipe=recipe, file=file)
        if is_debian_orig(src.filename):
            return self._fetch_debian(src, target, recipe=recipe, file=file)
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
            _place_verified(packed, target, src, "npm tarball", recipe=recipe, file=file)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target


    def _apt_options(self, recipe: str, file: str) -> list[str]:
        """apt-get/apt-cache options for a private deb-src view of the archive the build root
        uses (its sources.list, read now: no mirror is written in the project); lists and
        downloads stay under the cache, the machine's apt state is untouched."""
        from forge.toolchain.mirror import debian_mirror  # noqa: PLC0415
        from forge.toolchain.paths import default_root_dir  # noqa: PLC0415

        root_apt = default_root_dir() / "etc" / "apt"
        try:
            uri = debian_mirror(root_apt)
        except ForgeError as exc:
            raise ForgeError(
                f"no Debian archive to fetch Debian source tarballs from: {exc.message} (read {root_apt})",
                recipe=recipe, file=file, fix="create the build root (`forge toolchain`) or set FORGE_BUILDROOT",
            ) from None
        apt = self.root.parent / "apt"
        for d in ("lists/partial", "archives/partial"):
            (apt / d).mkdir(parents=True, exist_ok=True)
        (apt / "sources.list").write_text(f"deb-src {uri} sid main\n")
        return ["-o", f"Dir::Etc::SourceList={apt / 'sources.list'}", "-o", "Dir::Etc::SourceParts=/dev/null",
                "-o", f"Dir::State::Lists={apt / 'lists'}", "-o", f"Dir::Cache={apt}",
                "-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1", "-q"]

    def _debian_listing(self, package: str, filename: str, opts: list[str]) -> tuple[str, str] | None:
        """(version, sha256) of FILENAME in the Sources index's stanzas for PACKAGE, or None."""
        proc = subprocess.run(["apt-cache", *opts, "showsrc", package], capture_output=True, text=True, check=False)
        version = ""
        for block in proc.stdout.split("\n\n"):
            in_sha = False
            for line in block.splitlines():
                if line.startswith("Version:"):
                    version = line.split(":", 1)[1].strip()
                elif line.startswith("Checksums-Sha256:"):
                    in_sha = True
                elif in_sha and line.startswith(" "):
                    parts = line.split()
                    if len(parts) == 3 and parts[2] == filename:
                        return version, parts[0]
                else:
                    in_sha = False
        return None

    def _fetch_debian(self, src: SourceFile, target: Path, *, recipe: str, file: str) -> Path:
        m = DEBIAN_ORIG.match(src.filename)
        assert m is not None
        package = m.group("package")
        opts = self._apt_options(recipe, file)
        listed = self._debian_listing(package, src.filename, opts)
        if listed is None:  # first use, or the archive moved on since the lists were read
            proc = subprocess.run(["apt-get", *opts, "update"], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise ForgeError(
                    f"the Debian archive's source index cannot be read with apt-get ({why[:200]})",
                    recipe=recipe, file=file, fix="check the network and the build root's apt sources",
                )
            listed = self._debian_listing(package, src.filename, opts)
        if listed is None:
            raise ForgeError(
                f"the Debian archive does not list {src.filename} for the source package {package!r} "
                "(Debian keeps only current versions)",
                recipe=recipe, file=file,
                fix=f"pin the orig tarball Debian lists now (apt-cache showsrc {package} shows the file and its sha256)",
            )
        version, listed_sha = listed
        if listed_sha != src.sha256:
            raise ForgeError(
                f"the sha256 pinned for {src.filename} is {src.sha256} but the Debian archive lists {listed_sha}",
                recipe=recipe, file=file, fix="correct `sha256:` in the source entry",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".apt-", dir=target.parent))
        try:
            # the whole source package is asked for; only the orig tarball is kept (a missing
            # .dsc or .debian.tar does not matter here)
            proc = subprocess.run(["apt-get", *opts, "source", "--download-only", f"{package}={version}"],
                                  capture_output=True, text=True, check=False, cwd=tmp)
            got = tmp / src.filename
            if not got.exists():
                why = (proc.stderr.strip().splitlines() or ["no output"])[-1]
                raise ForgeError(
                    f"the Debian source tarball {src.filename} cannot be fetched with apt-get ({why[:200]})",
                    recipe=recipe, file=file, fix="check the network and the build root's apt sources",
                )
            _place_verified(got, target, src, "Debian tarball", recipe=recipe, file=file)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target


def link_sources(paths: list[Path], dest: Path) -> Path:
    """A private sources folder for one build: hard links (or copies) of verified archives."""
    dest.mkdir(parents=True, exist_ok=True)
    for p in paths:
        link_or_copy(p, dest / p.name)
    return dest
