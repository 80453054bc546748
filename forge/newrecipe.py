"""`forge new`: write a noarch: python recipe for a PyPI project from its sdist metadata."""

from __future__ import annotations

import email.parser
import tarfile
import tomllib
import urllib.parse
import zipfile
from dataclasses import dataclass
from pathlib import Path

import jinja2
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename
from packaging.version import InvalidVersion, Version

from . import pipconf
from .errors import ForgeError
from .recipes import SourceFile
from .sources import SourceCache, _project_files

#: Environments a noarch package must work in: the native test python and Pyodide's.
_ENVS = [
    {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux", "platform_system": "Linux"},
    {"python_version": "3.14", "python_full_version": "3.14.2", "sys_platform": "emscripten",
     "platform_system": "Emscripten", "platform_machine": "wasm32"},
]


@dataclass
class SdistInfo:
    project: str
    version: str
    filename: str
    sha256: str
    path: Path


def find_sdist(project: str, version: str | None, cache: SourceCache) -> SdistInfo:
    """Newest (or the given) release's sdist, fetched and verified through pip's index."""
    files: dict[str, tuple[str, str | None]] = {}
    for index in pipconf.index_urls():
        try:
            files = _project_files(index, project)
        except Exception:
            continue
        if files:
            break
    candidates: list[tuple[Version, str, str]] = []
    for fn, (_url, sha) in files.items():
        if not fn.endswith((".tar.gz", ".zip")) or not sha:
            continue
        try:
            name, ver = parse_sdist_filename(fn)
        except Exception:
            continue
        if version and str(ver) != version:
            continue
        if not version and ver.is_prerelease:
            continue
        candidates.append((ver, fn, sha))
    if not candidates:
        raise ForgeError(f"no sdist of {project}{' ' + version if version else ''} is on the package index",
                         fix="check the project name and version")
    ver, fn, sha = max(candidates)
    path = cache.fetch(SourceFile(fn, sha), recipe=canonicalize_name(project), file="(forge new)")
    return SdistInfo(project, str(ver), fn, sha, path)


def _read_members(path: Path) -> dict[str, bytes]:
    wanted = ("PKG-INFO", "pyproject.toml")
    out: dict[str, bytes] = {}
    if path.name.endswith(".zip"):
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            for n in names:
                if n.count("/") == 1 and n.split("/")[1] in wanted:
                    out[n.split("/")[1]] = zf.read(n)
            out["__names__"] = "\n".join(names).encode()
    else:
        with tarfile.open(path) as tf:
            names = tf.getnames()
            for m in tf.getmembers():
                if m.name.count("/") == 1 and m.name.split("/")[1] in wanted:
                    fh = tf.extractfile(m)
                    if fh:
                        out[m.name.split("/")[1]] = fh.read()
            out["__names__"] = "\n".join(names).encode()
    return out


def _imports(names: list[str], project: str) -> list[str]:
    tops: set[str] = set()
    for n in names:
        parts = n.split("/")[1:]
        if parts and parts[0] == "src":
            parts = parts[1:]
        if len(parts) == 2 and parts[1] == "__init__.py":
            tops.add(parts[0])
        elif len(parts) == 1 and parts[0].endswith(".py") and parts[0] not in ("setup.py", "conftest.py", "noxfile.py"):
            tops.add(parts[0][:-3])
    tops = {t for t in tops if not t.startswith(("test", "_", "doc", "bench", "example"))}
    return sorted(tops) or [project.replace("-", "_")]


def _run_deps(meta: email.message.Message) -> list[str]:
    deps: list[str] = []
    for raw in meta.get_all("Requires-Dist") or []:
        req = Requirement(raw)
        if req.marker:
            keep = False
            for env in _ENVS:
                full = default_environment() | env | {"extra": ""}
                if req.marker.evaluate(full):
                    keep = True
            if not keep:
                continue
        name = canonicalize_name(req.name)
        spec = str(req.specifier).replace(",", ",")
        deps.append(f"{name} {spec}".strip())
    return deps


def recipe_text(info: SdistInfo) -> str:
    members = _read_members(info.path)
    meta = email.parser.BytesParser().parsebytes(members.get("PKG-INFO", b""))
    pyproject = tomllib.loads(members["pyproject.toml"].decode()) if "pyproject.toml" in members else {}
    scripts = (pyproject.get("project") or {}).get("scripts") or {}
    name = canonicalize_name(info.project)
    stem_name, _ = info.filename.rsplit("-", 1)
    ext = ".zip" if info.filename.endswith(".zip") else ".tar.gz"
    requires_python = meta.get("Requires-Python") or ""
    spec = requires_python.replace(" ", "") or ">=3.8"
    homepage = meta.get("Home-page") or ""
    for url in meta.get_all("Project-URL") or []:
        label, _, link = url.partition(",")
        if not homepage and label.strip().lower() in ("homepage", "source", "repository"):
            homepage = link.strip()
    env = jinja2.Environment(loader=jinja2.PackageLoader("forge", "templates"), keep_trailing_newline=True)
    return env.get_template("noarch-python.yaml.j2").render(
        name=name, version=info.version, sdist_stem=stem_name + "-", sdist_ext=ext, sha256=info.sha256,
        entry_points=[f"{k} = {v}" for k, v in scripts.items()],
        python_spec=spec, run=_run_deps(meta),
        imports=_imports(members["__names__"].decode().splitlines(), name),
        summary=(meta.get("Summary") or name).strip(),
        license=spdx((meta.get("License-Expression") or meta.get("License") or "LicenseRef-Unknown").strip().splitlines()[0]),
        homepage=homepage if urllib.parse.urlparse(homepage).scheme else "",
    )


_LICENSES = {"apache 2.0": "Apache-2.0", "apache-2.0": "Apache-2.0", "apache software license": "Apache-2.0",
             "mit license": "MIT", "mit": "MIT", "bsd": "BSD-3-Clause", "bsd license": "BSD-3-Clause",
             "psf": "PSF-2.0", "mpl-2.0": "MPL-2.0", "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0"}


def spdx(raw: str) -> str:
    """Best SPDX id for free-text License metadata (rattler-build requires SPDX)."""
    return _LICENSES.get(raw.strip().lower(), raw.strip())


def new_recipe(project: str, recipes_dir: Path, cache_dir: Path, *, version: str | None = None, overwrite: bool = False) -> Path:
    """Write recipes/<name>/recipe.yaml for a PyPI project; refuses to overwrite by default."""
    info = find_sdist(project, version, SourceCache(cache_dir))
    target = recipes_dir / canonicalize_name(project) / "recipe.yaml"
    if target.exists() and not overwrite:
        raise ForgeError(f"{target} exists already", fix="pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(recipe_text(info))
    return target
