"""`forge new`: write a recipe for a PyPI project from its sdist.

A pure project gets the `noarch: python` form; an sdist that builds native code (C/C++/
Cython/Fortran/Rust sources, extension modules in setup.py, a meson/CMake/scikit-build/
maturin/setuptools-rust build) gets the compiled emscripten-wasm32 form with a test that
imports the extension modules themselves: a noarch recipe would publish the build
machine's `.so` (or silently the pure fallback).
"""

from __future__ import annotations

import email.parser
import fnmatch
import os
import posixpath
import re
import tarfile
import tempfile
import tomllib
import urllib.parse
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import jinja2
from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from . import pipindex
from .errors import ForgeError
from .sources import sha256_file

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


def find_sdist(project: str, version: str | None, cache_dir: Path) -> SdistInfo:
    """Newest (or the given) release's sdist, found through pip's index settings (unearth),
    downloaded into the source cache (<cache>/sources/<sha256>/<file>) and verified."""
    link = pipindex.find_sdist_link(project, version)
    if link.sha256:
        path = cache_dir / "sources" / link.sha256 / link.filename
        if not (path.is_file() and sha256_file(path) == link.sha256):
            pipindex.download(link.url, path, sha256=link.sha256)
        return SdistInfo(project, link.version, link.filename, link.sha256, path)
    # the index states no sha256: the recipe pins what was downloaded, which the build re-verifies
    (cache_dir / "sources").mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir / "sources", prefix=".incoming-") as tmp:
        sha = pipindex.download(link.url, Path(tmp) / link.filename)
        path = cache_dir / "sources" / sha / link.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(Path(tmp) / link.filename, path)
    return SdistInfo(project, link.version, link.filename, sha, path)


class Sdist:
    """An sdist's members by path below its top folder (`pkg-1.0/`), read on demand."""

    def __init__(self, path: Path) -> None:
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self.members: dict[str, str] = {}
        if path.name.endswith(".zip"):
            self._zip = zipfile.ZipFile(path)
            raw = [n for n in self._zip.namelist() if not n.endswith("/")]
        else:
            self._tar = tarfile.open(path)
            raw = [m.name for m in self._tar.getmembers() if m.isfile()]
        for name in raw:
            _top, _, rel = name.partition("/")
            if rel:
                self.members[rel] = name

    @property
    def names(self) -> list[str]:
        return sorted(self.members)

    def read(self, rel: str) -> bytes | None:
        name = self.members.get(rel)
        if name is None:
            return None
        if self._zip is not None:
            return self._zip.read(name)
        fh = self._tar.extractfile(name) if self._tar is not None else None
        return fh.read() if fh else None

    def text(self, rel: str) -> str:
        data = self.read(rel)
        return data.decode("utf-8", "replace") if data else ""

    def close(self) -> None:
        for handle in (self._zip, self._tar):
            if handle is not None:
                handle.close()

    def __enter__(self) -> Sdist:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _strip_src(rel: str) -> str:
    return rel.removeprefix("src/")


#: backends whose wheels hold only the packages they are told of (or find by the project's
#: name), never a stray top-level module of the sdist (iminuit's python_releases.py)
_PACKAGES_ONLY = ("scikit_build_core", "maturin", "mesonpy", "py_build_cmake")


def _imports(names: list[str], project: str, pyproject: dict | None = None) -> list[str]:
    """Top-level modules the wheel installs: packages and modules at the sdist's top (or under
    src/), limited by setuptools' `packages.find` include/exclude when the project sets them (xarray's
    sdist also holds a `properties/` package of tests that its wheel leaves out), or scikit-build-core's
    `wheel.packages`; for backends that ship packages only, no top-level single modules."""
    tool = (pyproject or {}).get("tool") or {}
    listed = ((tool.get("scikit-build") or {}).get("wheel") or {}).get("packages")
    if isinstance(listed, list) and listed:
        return sorted({str(p).rstrip("/").rsplit("/", 1)[-1] for p in listed})
    backend = str(((pyproject or {}).get("build-system") or {}).get("build-backend") or "")
    modules_too = not backend.startswith(_PACKAGES_ONLY)
    tops: set[str] = set()
    for n in names:
        parts = _strip_src(n).split("/")
        if len(parts) == 2 and parts[1] == "__init__.py":
            tops.add(parts[0])
        elif (modules_too and len(parts) == 1 and parts[0].endswith(".py")
              and parts[0] not in ("setup.py", "conftest.py", "noxfile.py")):
            tops.add(parts[0][:-3])
    tops = {t for t in tops if not t.startswith(("test", "_", "doc", "bench", "example"))}
    find = (((pyproject or {}).get("tool") or {}).get("setuptools") or {}).get("packages")
    if isinstance(find, dict) and isinstance(find.get("find"), dict):
        include = find["find"].get("include") or ["*"]
        exclude = find["find"].get("exclude") or []
        tops = {t for t in tops if any(fnmatch.fnmatchcase(t, p) for p in include)
                and not any(fnmatch.fnmatchcase(t, p) for p in exclude)}
    return sorted(tops)


# --- compiled sdists ----------------------------------------------------------------------

_COMPILED_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".pyx", ".f", ".f90", ".f95", ".rs")
_NOT_SHIPPED = re.compile(r"^(tests?|testing|test[ _-].*|docs?|examples?|demos?|benchmarks?|bench|tools|ci|"
                          r"vendored[-_].*|subprojects|third[-_]party)$", re.IGNORECASE)
_BACKENDS = {"mesonpy": "meson-python", "scikit_build_core.build": "scikit-build-core", "maturin": "maturin",
             "setuptools_rust": "setuptools-rust"}
_BUILD_TOOLS = {"setuptools-rust", "cython", "pybind11", "nanobind", "cffi", "scikit-build", "scikit-build-core",
                "meson-python", "maturin"}
_NUMPY = {"numpy", "oldest-supported-numpy"}
_SETUP_EXT = re.compile(r"\bext_modules\b|\b(Rust)?Extension\(|\bcythonize\(|\bcffi_modules\b")
_EXT_NAME = re.compile(r"""\b(?:Rust)?Extension\(\s*(?:name\s*=\s*)?["']([A-Za-z_][\w.]*)["']""")
_MESON_EXT = re.compile(r"""extension_module\(\s*['"]([A-Za-z_]\w*)['"]([^)]*)""")
_MESON_SUBDIR = re.compile(r"""subdir\s*:\s*['"]([\w/]+)['"]""")
_C_MODULE = re.compile(r"\bPyInit_(\w+)\s*\(\s*void\s*\)|\b(?:PYBIND11_MODULE|NB_MODULE)\(\s*(\w+)\s*,")
_PYX_INCLUDE = re.compile(r"""^\s*include\s+["']([^"']+)["']""", re.MULTILINE)


@dataclass
class Compiled:
    """Why an sdist builds native code, the extension modules it makes, and whether it
    compiles against numpy's C API."""

    reasons: list[str]
    modules: list[str]
    numpy: bool
    #: how it compiles: "rust" (maturin, setuptools-rust), "cmake" (scikit-build(-core), a CMake
    #: setup.py), "meson" (meson-python) or "c" (setuptools' compilers: C, C++, Cython, Fortran)
    form: str = "c"


def _requires(pyproject: dict) -> list[str]:
    out = []
    for raw in (pyproject.get("build-system") or {}).get("requires") or []:
        try:
            out.append(canonicalize_name(Requirement(raw).name))
        except InvalidRequirement:
            continue
    return out


def _shipped(rel: str) -> bool:
    return not any(_NOT_SHIPPED.match(part) for part in _strip_src(rel).split("/")[:-1])


def _packages(names: list[str]) -> set[str]:
    """Folders (below src/) that are Python packages: they hold an __init__.py."""
    return {_strip_src(n).rsplit("/", 1)[0] for n in names if n.endswith("/__init__.py")}


def _module_at(rel: str, leaf: str, packages: set[str], *, named: bool = False) -> str | None:
    """The dotted module a source file builds: inside its package, or top-level when it sits
    at the top (or, for C whose PyInit_ names the module, in a folder outside any package)."""
    folder = _strip_src(rel).rsplit("/", 1)[0] if "/" in _strip_src(rel) else ""
    if folder in packages:
        return f"{folder.replace('/', '.')}.{leaf}"
    if folder == "":
        return leaf
    inside_package = any("/".join(folder.split("/")[:i]) in packages for i in range(1, folder.count("/") + 1))
    return leaf if named and not inside_package else None  # a package's C helpers: the build file names it


_CMAKE_MODULE = re.compile(r"\b(?:pybind11_add_module|nanobind_add_module|python_add_library|Python_add_library|"
                           r"Python3_add_library)\(\s*([A-Za-z_]\w*)", re.IGNORECASE)
_CMAKE_INSTALL = re.compile(r"\binstall\(\s*TARGETS\s+([^)]*?)\bDESTINATION\s+\"?([^\s)\"]+)", re.IGNORECASE)


def _cmake_modules(sd: Sdist, project: str) -> list[str]:
    """Python modules a CMake build makes: the targets of pybind11_add_module / nanobind_add_module
    / python_add_library, placed where install(TARGETS ... DESTINATION pkg) puts them."""
    out: list[str] = []
    for rel in (n for n in sd.names if n.endswith("CMakeLists.txt") and _shipped(n)):
        text = re.sub(r"#[^\n]*", "", sd.text(rel))
        targets = set(_CMAKE_MODULE.findall(text))
        where: dict[str, str] = {}
        for names, dest in _CMAKE_INSTALL.findall(text):
            dest = dest.replace("${SKBUILD_PROJECT_NAME}", project.replace("-", "_")).strip("/.")
            for name in names.split():
                if name in targets and "$" not in dest:
                    where[name] = dest.replace("/", ".")
        out += [f"{where[t]}.{t}" if where.get(t) else t for t in sorted(targets)]
    return out


def _extension_modules(sd: Sdist, pyproject: dict, packages: set[str]) -> list[str]:
    setup_py = sd.text("setup.py")
    named = _EXT_NAME.findall(setup_py)
    named += [str(m.get("name")) for m in ((pyproject.get("tool") or {}).get("setuptools") or {}).get("ext-modules") or []
              if isinstance(m, dict) and m.get("name")]
    if named:
        return sorted(set(named))
    maturin = ((pyproject.get("tool") or {}).get("maturin") or {}).get("module-name")
    if maturin:
        return [str(maturin)]
    if "Cargo.toml" in sd.members:
        lib = (tomllib.loads(sd.text("Cargo.toml")).get("lib") or {}).get("name")
        if lib:
            return [str(lib)]
    found: set[str] = set(_cmake_modules(sd, str((pyproject.get("project") or {}).get("name") or "")))
    if found:
        return sorted(found)
    for rel in (n for n in sd.names if n.endswith("meson.build") and _shipped(n)):
        for name, args in _MESON_EXT.findall(sd.text(rel)):
            sub = _MESON_SUBDIR.search(args)
            mod = f"{sub.group(1).strip('/').replace('/', '.')}.{name}" if sub else _module_at(rel, name, packages)
            if mod:
                found.add(mod)
    sources = [n for n in sd.names if n.endswith(_COMPILED_SUFFIXES) and _shipped(n)]
    pyx = [n for n in sources if n.endswith(".pyx")]
    included = {posixpath.normpath(posixpath.join(posixpath.dirname(p), inc))
                for p in pyx for inc in _PYX_INCLUDE.findall(sd.text(p))}
    for rel in pyx:
        if rel not in included:
            mod = _module_at(rel, posixpath.basename(rel)[:-4], packages)
            if mod:
                found.add(mod)
    for rel in sources:
        if rel.endswith((".c", ".cc", ".cpp", ".cxx")):
            for a, b in _C_MODULE.findall(sd.text(rel)):
                mod = _module_at(rel, a or b, packages, named=True)
                if mod:
                    found.add(mod)
    return sorted(found)


def detect_compiled(sd: Sdist) -> Compiled | None:
    """Does this sdist build native code (C/C++/Cython/Fortran/Rust)? None for a pure one."""
    pyproject = tomllib.loads(sd.text("pyproject.toml")) if "pyproject.toml" in sd.members else {}
    backend = str((pyproject.get("build-system") or {}).get("build-backend") or "")
    requires = _requires(pyproject)
    reasons: list[str] = []
    for prefix, label in _BACKENDS.items():
        if backend.startswith(prefix):
            reasons.append(f"build backend {label}")
    reasons += [f"build requires {r}" for r in requires if r in _BUILD_TOOLS and f"build backend {r}" not in reasons]
    setup_py = sd.text("setup.py")
    if _SETUP_EXT.search(setup_py):
        reasons.append("setup.py declares extension modules")
    if ((pyproject.get("tool") or {}).get("setuptools") or {}).get("ext-modules"):
        reasons.append("[tool.setuptools] ext-modules")
    reasons += [f"{f} at the top" for f in ("meson.build", "CMakeLists.txt", "Cargo.toml") if f in sd.members]
    sources = [n for n in sd.names if n.endswith(_COMPILED_SUFFIXES) and _shipped(n)]
    if sources:
        reasons.append("native sources (" + ", ".join(sources[:3]) + (", ..." if len(sources) > 3 else "") + ")")
    if not reasons:
        return None
    meson = "\n".join(sd.text(n) for n in sd.names if n.endswith("meson.build"))
    numpy = (any(r in _NUMPY for r in requires) or "numpy.get_include" in setup_py
             or re.search(r"""dependency\(\s*['"]numpy['"]""", meson) is not None)
    return Compiled(reasons, _extension_modules(sd, pyproject, _packages(sd.names)), numpy,
                    _form(backend, requires, setup_py, sd.members))


def _form(backend: str, requires: list[str], setup_py: str, members: Collection[str]) -> str:
    """The toolchain the build drives, as `Compiled.form` names it."""
    if (backend.startswith(("maturin", "setuptools_rust")) or {"maturin", "setuptools-rust"} & set(requires)
            or "RustExtension(" in setup_py):
        return "rust"
    if (backend.startswith(("scikit_build_core", "skbuild", "py_build_cmake"))
            or {"scikit-build", "scikit-build-core", "cmake", "py-build-cmake"} & set(requires)
            or ("CMakeLists.txt" in members and re.search(r"\bcmake\b", setup_py, re.IGNORECASE))):
        return "cmake"
    if backend.startswith("mesonpy") or "meson-python" in requires:
        return "meson"
    return "c"


#: what the recipe's header says of each form: how forge-pyodide-build drives its toolchain
FORM_NOTES = {
    "rust": ("Rust: cargo builds for wasm32-unknown-emscripten with the build root's rustc, offline; the "
             "crates come from Debian's archive in the fetch phase (docs/languages.md, \"Crates from Debian\")."),
    "cmake": ("CMake: cmake comes from the build requirements (pip's cmake wheel) and pyodide-build runs it as "
              "`emcmake cmake` with emscripten's toolchain file."),
    "meson": "meson: forge-pyodide-build writes the emscripten cross file; meson and ninja come from the build requirements.",
    "c": "",
}


def crates_note(sdist: Path, cache_dir: Path, project: str) -> str:
    """For a Rust sdist, the header's word on its crates, from Debian's archive index (nothing is
    downloaded): they all resolve, or which one Debian cannot serve and the fix (what `forge build`
    would refuse in its fetch phase)."""
    from .crates import check_sdist  # noqa: PLC0415

    try:
        debs = check_sdist(sdist, cache_dir, recipe=project, file=sdist.name)
    except ForgeError as exc:
        fix = f"; {exc.fix}" if exc.fix else ""
        return f"`forge build` would refuse it in the fetch phase, for now: {exc.message}{fix}."
    if debs is None:
        return "It vendors its crates (or builds none): cargo uses the sdist's own."
    return f"Debian's archive serves all of its crates ({len(debs)} packages, checked against its index)."


def _run_deps(meta: email.message.Message, envs: list[dict[str, str]]) -> list[str]:
    """Requires-Dist entries that apply in any of `envs` (extras off), as conda specs."""
    deps: list[str] = []
    for raw in meta.get_all("Requires-Dist") or []:
        req = Requirement(raw)
        if req.marker:
            keep = False
            for env in envs:
                full = default_environment() | env | {"extra": ""}
                if req.marker.evaluate(full):
                    keep = True
            if not keep:
                continue
        name = canonicalize_name(req.name)
        spec = str(req.specifier).replace(",", ",")
        deps.append(f"{name} {spec}".strip())
    return deps


def recipe_text(info: SdistInfo, cache_dir: Path | None = None) -> str:
    """The recipe for an sdist: noarch: python, or the compiled (forge-pyodide-build) form
    when the sdist builds native code, its header saying what was found (for Rust, with a
    download cache: whether Debian's archive serves its crates)."""
    with Sdist(info.path) as sd:
        meta = email.parser.BytesParser().parsebytes(sd.read("PKG-INFO") or b"")
        pyproject = tomllib.loads(sd.text("pyproject.toml")) if "pyproject.toml" in sd.members else {}
        compiled = detect_compiled(sd)
        names = sd.names
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
    imports = _imports(names, name, pyproject)
    if not imports and not (compiled and compiled.modules):  # a guess the reviewer checks
        imports = [name.replace("-", "_")]
    fields = dict(
        name=name, version=info.version, sdist_stem=stem_name + "-", sdist_ext=ext, sha256=info.sha256,
        entry_points=[f"{k} = {v}" for k, v in scripts.items()],
        python_spec=spec, imports=imports,
        summary=(meta.get("Summary") or name).strip(),
        license=spdx((meta.get("License-Expression") or meta.get("License") or "LicenseRef-Unknown").strip().splitlines()[0]),
        homepage=homepage if urllib.parse.urlparse(homepage).scheme else "",
    )
    env = jinja2.Environment(loader=jinja2.PackageLoader("forge", "templates"), keep_trailing_newline=True)
    if compiled is None:
        return env.get_template("noarch-python.yaml.j2").render(run=_run_deps(meta, _ENVS), **fields)
    fields["imports"] = list(dict.fromkeys(imports + [m for m in compiled.modules if m not in imports]))
    notes = [FORM_NOTES[compiled.form]]
    if compiled.form == "rust" and cache_dir is not None:
        notes.append(crates_note(info.path, cache_dir, name))
    return env.get_template("compiled-python.yaml.j2").render(
        run=_run_deps(meta, _ENVS[1:]), reasons=compiled.reasons, numpy=compiled.numpy,
        found_modules=bool(compiled.modules), form_note=" ".join(n for n in notes if n), **fields)


_LICENSES = {"apache 2.0": "Apache-2.0", "apache-2.0": "Apache-2.0", "apache software license": "Apache-2.0",
             "mit license": "MIT", "mit": "MIT", "bsd": "BSD-3-Clause", "bsd license": "BSD-3-Clause",
             "psf": "PSF-2.0", "mpl-2.0": "MPL-2.0", "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0"}


def spdx(raw: str) -> str:
    """Best SPDX id for free-text License metadata (rattler-build requires SPDX)."""
    return _LICENSES.get(raw.strip().lower(), raw.strip())


def new_recipe(project: str, recipes_dir: Path, cache_dir: Path, *, version: str | None = None, overwrite: bool = False) -> Path:
    """Write recipes/<name>/recipe.yaml for a PyPI project; refuses to overwrite by default."""
    info = find_sdist(project, version, cache_dir)
    target = recipes_dir / canonicalize_name(project) / "recipe.yaml"
    if target.exists() and not overwrite:
        raise ForgeError(f"{target} exists already", fix="pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(recipe_text(info, cache_dir))
    return target
