"""The fetch phase: sdists pinned by (file name, sha256) and the wheels their builds need.

Sources are resolved through the Python package index exactly as pip on this machine is
configured (no host is named in the project), cached by sha256 and verified. Each build then
sees a private folder of links to its verified archives, plus a wheelhouse of its PEP 517
build requirements, so the build step itself needs no network.
"""

from __future__ import annotations

import hashlib
import html.parser
import json
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from packaging.utils import canonicalize_name, parse_sdist_filename

from . import pipconf
from .errors import ForgeError
from .recipes import SourceFile

_TIMEOUT = 120


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=pipconf.ca_bundle())


def _project_files(index: str, project: str) -> dict[str, tuple[str, str | None]]:
    """filename -> (url, sha256 or None) from one simple-API index."""
    base = f"{index}/{canonicalize_name(project)}/"
    if base.startswith("file://"):
        local = Path(urllib.parse.urlparse(base).path)
        if not local.is_dir():
            return {}
        page = (local / "index.html").read_text() if (local / "index.html").exists() else ""
        parser = _Links()
        parser.feed(page)
        files = {}
        for href in parser.links:
            url, _, frag = href.partition("#")
            full = urllib.parse.urljoin(base, url)
            files[Path(urllib.parse.urlparse(url).path).name] = (
                full, frag.split("=", 1)[1] if frag.startswith("sha256=") else None)
        return files
    req = urllib.request.Request(base, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(req, timeout=_TIMEOUT, context=_ssl_context()) as resp:
        data = json.loads(resp.read())
    return {
        f["filename"]: (urllib.parse.urljoin(base, f["url"]), f.get("hashes", {}).get("sha256"))
        for f in data.get("files", [])
    }


def _download(url: str, dest: Path) -> None:
    tmp = dest.with_name(dest.name + f".part-{os.getpid()}")
    if url.startswith("file://"):
        shutil.copyfile(urllib.parse.urlparse(url).path, tmp)
    else:
        with urllib.request.urlopen(url, timeout=_TIMEOUT, context=_ssl_context()) as resp, tmp.open("wb") as out:
            shutil.copyfileobj(resp, out)
    os.replace(tmp, dest)


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
        except Exception:
            raise ForgeError(
                f"the source file name {src.filename!r} is not an sdist name (<project>-<version>.tar.gz)",
                recipe=recipe, file=file, fix="name the sdist exactly as the package index lists it",
            ) from None
        found: tuple[str, str | None] | None = None
        errors: list[str] = []
        for index in pipconf.index_urls():
            try:
                files = _project_files(index, str(project))
            except Exception as exc:  # network or index errors: try the next index
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            if src.filename in files:
                found = files[src.filename]
                break
        if found is None:
            why = f" ({errors[0]})" if errors else ""
            raise ForgeError(
                f"the source {src.filename} ({project} {version}) cannot be fetched from the "
                f"package index pip is configured with{why}",
                recipe=recipe, file=file,
                fix="check the version and file name (pip download --no-deps --no-binary :all: "
                f"{project}=={version} shows what exists)",
            )
        url, listed_sha = found
        if listed_sha and listed_sha != src.sha256:
            raise ForgeError(
                f"the sha256 pinned for {src.filename} is {src.sha256} but the index lists {listed_sha}",
                recipe=recipe, file=file, fix="correct `sha256:` in the source entry",
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        _download(url, target)
        actual = sha256_file(target)
        if actual != src.sha256:
            target.unlink(missing_ok=True)
            raise ForgeError(
                f"the downloaded {src.filename} has sha256 {actual}, not the pinned {src.sha256}",
                recipe=recipe, file=file, fix="correct `sha256:` in the source entry",
            )
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


def build_requires(sdist: Path) -> list[str]:
    """PEP 518 build requirements of an sdist (setuptools' legacy default when absent)."""
    data: dict = {}
    try:
        if sdist.name.endswith(".zip"):
            with zipfile.ZipFile(sdist) as zf:
                names = [n for n in zf.namelist() if n.count("/") == 1 and n.endswith("/pyproject.toml")]
                if names:
                    data = tomllib.loads(zf.read(names[0]).decode())
        else:
            with tarfile.open(sdist) as tf:
                members = [m for m in tf.getmembers() if m.name.count("/") == 1 and m.name.endswith("/pyproject.toml")]
                if members:
                    fh = tf.extractfile(members[0])
                    data = tomllib.loads(fh.read().decode()) if fh else {}
    except (tarfile.TarError, zipfile.BadZipFile, tomllib.TOMLDecodeError):
        data = {}
    bs = data.get("build-system", {})
    # what a backend asks for at build time (get_requires_for_build_wheel) beyond [build-system]
    dynamic = {"mesonpy": ["ninja>=1.8.2"], "scikit_build_core.build": ["ninja>=1.5", "cmake>=3.15"]}
    return list(bs.get("requires", ["setuptools>=40.8.0"])) + dynamic.get(bs.get("build-backend", ""), [])


#: Linux platform tags of the emscripten build root's interpreter (cross builds run their
#: PEP 517 backends there, under another Python than the forge's own).
BUILD_ROOT_PLATFORMS = ("manylinux_2_39_x86_64", "manylinux_2_34_x86_64", "manylinux_2_28_x86_64",
                        "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
                        "manylinux_2_12_x86_64", "manylinux2010_x86_64", "manylinux_2_5_x86_64",
                        "manylinux1_x86_64", "linux_x86_64")


def fill_wheelhouse(wheelhouse: Path, requirements: list[str], constraints: Path | None, *, recipe: str, file: str,
                    python_version: str | None = None) -> None:
    """Download wheels for build requirements (and their dependencies) once per requirement set.

    With `python_version` (e.g. "3.14") the wheels are for that CPython on x86_64 Linux (the
    build root's interpreter) instead of the one running the forge."""
    if not requirements:
        return
    wheelhouse.mkdir(parents=True, exist_ok=True)
    key_src = "\n".join(sorted(requirements)) + (f"\npython={python_version}" if python_version else "")
    if constraints and constraints.exists():
        key_src += "\n" + constraints.read_text()
    marker = wheelhouse / f".fetched-{hashlib.sha256(key_src.encode()).hexdigest()[:16]}"
    if marker.exists():
        return
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:",
           "--disable-pip-version-check", "-d", str(wheelhouse), *requirements]
    if python_version:
        nodot = python_version.replace(".", "")
        cmd += ["--python-version", python_version, "--implementation", "cp", "--abi", f"cp{nodot}",
                "--abi", "abi3", "--abi", "none"]
        for plat in BUILD_ROOT_PLATFORMS:
            cmd += ["--platform", plat]
    if constraints and constraints.exists():
        cmd += ["-c", str(constraints)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        last = [ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR")] or proc.stderr.splitlines()[-1:]
        raise ForgeError(
            f"the build requirements {', '.join(requirements)} cannot be fetched as wheels ({' '.join(last)[:300]})",
            recipe=recipe, file=file,
            fix="pin an available version in constraints/build-tools.txt",
        )
    marker.touch()


def link_sources(paths: list[Path], dest: Path) -> Path:
    """A private sources folder for one build: hard links (or copies) of verified archives."""
    dest.mkdir(parents=True, exist_ok=True)
    for p in paths:
        target = dest / p.name
        if target.exists():
            target.unlink()
        try:
            os.link(p, target)
        except OSError:
            shutil.copyfile(p, target)
    return dest
