"""Read a conda package the way the view needs it: metadata, the files that become a
wheel (site-packages) and the shared libraries that become a Pyodide `shared_library`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

from ..toolchain import target

#: Where a package's importable files live: noarch: python packages use the
#: relocatable `site-packages/`, emscripten-wasm32 builds the real prefix layout.


@dataclass(frozen=True)
class CondaPackage:
    """An extracted conda package (`root` holds `info/` and the payload)."""

    root: Path
    index: dict
    link: dict
    about: dict
    test_imports: tuple[str, ...]
    site_files: dict[str, Path] = field(default_factory=dict)   # wheel-relative path -> file
    shared_libs: dict[str, Path] = field(default_factory=dict)  # lib/<name>.so* -> file

    @property
    def name(self) -> str:
        return self.index["name"]

    @property
    def version(self) -> str:
        return self.index["version"]

    @property
    def subdir(self) -> str:
        return self.index.get("subdir", "noarch")

    @property
    def depends(self) -> tuple[str, ...]:
        return tuple(self.index.get("depends", ()))

    @property
    def entry_points(self) -> tuple[str, ...]:
        """`console = module:func` lines from a noarch: python package's link.json."""
        noarch = self.link.get("noarch") or {}
        return tuple(noarch.get("entry_points", ()) if isinstance(noarch, dict) else ())

    @property
    def is_python(self) -> bool:
        return bool(self.site_files)


def extract(conda_file: Path, dest: Path) -> None:
    """Unpack a .conda / .tar.bz2 with py-rattler (fast, Rust)."""
    from rattler.package_streaming import extract as _extract  # noqa: PLC0415 (slow import)

    _extract(conda_file, dest)


def _json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _recipe_imports(info: Path) -> tuple[str, ...]:
    """`tests: - python: imports:` from the rendered recipe rattler-build stores in info/."""
    tests = info / "tests" / "tests.yaml"
    if not tests.is_file():
        return ()
    data = YAML(typ="safe").load(tests.read_text()) or []
    out: list[str] = []
    for test in data if isinstance(data, list) else []:
        py = test.get("python") if isinstance(test, dict) else None
        if isinstance(py, dict):
            out += [str(i) for i in py.get("imports") or []]
    return tuple(out)


def read(root: Path) -> CondaPackage:
    """Classify an extracted package's files."""
    info = root / "info"
    site: dict[str, Path] = {}
    libs: dict[str, Path] = {}
    paths = _json(info / "paths.json").get("paths")
    rels = [p["_path"] for p in paths] if paths else [
        str(f.relative_to(root)) for f in root.rglob("*") if f.is_file() and not f.is_relative_to(info)]
    for rel in sorted(rels):
        prefix = next((p for p in ("site-packages/", f"lib/python{target.PYTHON_XY}/site-packages/") if rel.startswith(p)), None)
        if prefix:
            inner = rel[len(prefix):]
            if "__pycache__/" not in inner and not inner.endswith(".pyc"):
                site[inner] = root / rel
        elif rel.startswith("lib/") and rel.count("/") == 1 and ".so" in rel:
            libs[rel] = root / rel
    return CondaPackage(root=root, index=_json(info / "index.json"), link=_json(info / "link.json"),
                        about=_json(info / "about.json"), test_imports=_recipe_imports(info),
                        site_files=site, shared_libs=libs)
