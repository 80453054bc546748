"""Turn one extracted conda package into the file Pyodide installs: a wheel for Python
packages (tagged `py3-none-any` or for the Pyodide ABI) or a zip of `.so` files for a
`shared_library`. Output is deterministic, so an unchanged package gives the same sha256.

The ecosystem's libraries do the packaging: `packaging` names, versions, tags, wheel file
names and reads/writes METADATA; `wheel.wheelfile.WheelFile` writes the archive and its
RECORD. A wheel's tag must match its content (`check_content`), or the view refuses it.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.metadata import InvalidMetadata, Metadata, RawMetadata, parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version
from wheel.wheelfile import WheelFile

from ..errors import ForgeError
from ..toolchain import target
from .conda_pkg import CondaPackage

PURE = Tag("py3", "none", "any")
PURE_TAG = str(PURE)


def compiled_tag(abi3: bool = False) -> str:
    """The target's tag for extension modules (`cp314-cp314-pyemscripten_2026_0_wasm32`, or abi3)."""
    py = f"cp{target.PYTHON_NODOT}"
    return str(Tag(py, "abi3" if abi3 else py, str(target.PLATFORM_TAG)))


def __getattr__(name: str) -> str:
    """COMPILED_TAG and ABI3_TAG, from the pins on first use (nothing is read at import)."""
    if name in ("COMPILED_TAG", "ABI3_TAG"):
        return compiled_tag(abi3=name == "ABI3_TAG")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
#: dist-info files that describe one installation, not the distribution.
_INSTALL_ONLY = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "WHEEL"}
_EPOCH = (1980, 1, 1, 0, 0, 0)
#: File names of native code (any platform's shared objects and DLLs, versioned .so.N too).
NATIVE_NAME = re.compile(r"\.(so(\.\d+)*|pyd|dylib|dll)$", re.IGNORECASE)
#: Directory names and file names that only tests live in (Pyodide's unvendored tests).
_TEST_DIRS = {"tests", "test", "testing"}
_TEST_FILE = re.compile(r"^(test_.*|.*_test|conftest)\.py$")


@dataclass(frozen=True)
class Artifact:
    """What the view publishes for one conda package."""

    file_name: str
    sha256: str
    size: int
    package_type: str  # "package" | "shared_library"
    install_dir: str  # "site" | "dynlib"
    dist_name: str
    version: str
    imports: tuple[str, ...]
    requires_python: str | None


def wheel_tag(pkg: CondaPackage) -> str:
    """The tag the package's content calls for: a noarch package is always `py3-none-any`; an
    emscripten-wasm32 one with extension modules gets the Pyodide ABI tag (abi3 if all are)."""
    exts = [p for p in pkg.site_files if p.endswith(".so")]
    if pkg.subdir == "noarch" or not exts:
        return PURE_TAG
    return compiled_tag(abi3=all(p.endswith(".abi3.so") for p in exts))


def _native_kind(path: Path) -> str | None:
    """What native code a file's first bytes announce (forge.artifacts.binary_kind: ELF,
    Mach-O, PE/COFF, WebAssembly, ar), or None; symlinks are judged by their target."""
    from ..artifacts import binary_kind  # noqa: PLC0415

    with open(path, "rb") as fh:
        return binary_kind(fh.read(4096))


def check_content(pkg: CondaPackage, conda_file: Path) -> None:
    """Refuse a package whose wheel (or shared-library zip) would not match its tag.

    A `py3-none-any` wheel holds no native code at all (no `.so`/`.pyd`/`.dylib`/`.dll`, no
    ELF, Mach-O, PE, wasm or ar file); a Pyodide-tagged wheel's extension modules, and a
    shared-library zip's libraries, are WebAssembly (no build machine code anywhere). The bytes
    are judged as the publisher judges them (forge.artifacts); whether a module is a loadable
    side module (dylink section, exception ABI) is the publisher's full check, not repeated here.
    """
    def refuse(what: str, fix: str) -> ForgeError:
        return ForgeError(f"the Pyodide view refuses package {pkg.name}: {what}", file=conda_file, fix=fix)

    wasm = "WebAssembly module"
    if pkg.is_python:
        tag = wheel_tag(pkg)
        for rel, src in sorted(pkg.site_files.items()):
            kind = _native_kind(src) or ("a shared-library file name" if NATIVE_NAME.search(rel) else None)
            if kind and tag == PURE_TAG:
                where = "a noarch package" if pkg.subdir == "noarch" else "a package without extension modules"
                raise refuse(f"its {PURE_TAG} wheel would hold {rel}, native code ({kind}), and {where} must "
                             "hold none", "make its recipe a compiled emscripten-wasm32 recipe (no `noarch: "
                             "python`, script `forge-pyodide-build`), rebuild it and run `forge pyodide view` again")
            if kind and kind != wasm and (NATIVE_NAME.search(rel) or kind.startswith(("ELF", "Mach-O", "PE"))):
                raise refuse(f"its {tag} wheel would hold {rel}, {kind}, not a WebAssembly side module",
                             "cross-build the package with `forge-pyodide-build` (emscripten), rebuild it and run "
                             "`forge pyodide view` again")
    for rel, src in sorted(pkg.shared_libs.items()):
        kind = _native_kind(src)
        if kind != wasm:
            raise refuse(f"its shared library {rel} is {kind or 'not a binary'}, not a WebAssembly side module",
                         "build the library with emscripten (`forge-pyodide-build` or emcc), rebuild it and run "
                         "`forge pyodide view` again")


def escape(name: str) -> str:
    """A distribution name as it appears in wheel file names (and dist-info folders)."""
    return canonicalize_name(name).replace("-", "_")


def _norm_version(v: str) -> str:
    try:
        return str(Version(v))
    except InvalidVersion:
        return v


def _is_extra_only(line: str) -> bool:
    """A `Requires-Dist:` header whose marker names an extra (an optional feature)."""
    try:
        req = Requirement(line.split(":", 1)[1].strip())
    except InvalidRequirement:
        return "extra" in line
    return req.marker is not None and re.search(r"\bextra\b", str(req.marker)) is not None


def _headers(text: str) -> tuple[list[str], str]:
    """METADATA as logical header lines (folded continuations joined) and the body."""
    head, sep, body = text.partition("\n\n")
    logical: list[str] = []
    for line in head.splitlines():
        if line[:1] in (" ", "\t") and logical:
            logical[-1] += "\n" + line
        else:
            logical.append(line)
    return logical, body if sep else ""


def rewrite_metadata(text: str, requires_dist: list[str]) -> str:
    """Replace unconditional Requires-Dist with the conda run requirements; keep extras.

    The conda package's run requirements are what the channel guarantees; lines with an
    `extra` marker describe optional features and stay as the project wrote them. Every other
    header line and the description stay byte for byte (packaging's writer would re-serialise
    every field, dropping or rejecting what an upstream METADATA carries).
    """
    headers, body = _headers(text)
    out: list[str] = []
    inserted = False
    for h in headers:
        if h.lower().startswith("requires-dist:") and not _is_extra_only(h):
            if not inserted:
                out += [f"Requires-Dist: {r}" for r in requires_dist]
                inserted = True
            continue
        out.append(h)
    if not inserted:
        at = next((i for i, h in enumerate(out) if h.lower().startswith(("requires-dist:", "provides-extra:"))),
                  len(out))
        out[at:at] = [f"Requires-Dist: {r}" for r in requires_dist]
    return "\n".join(out) + "\n\n" + body if body else "\n".join(out) + "\n"


def _synth_metadata(pkg: CondaPackage, requires_dist: list[str], requires_python: str | None) -> str:
    """METADATA for a package without a dist-info, from the conda metadata.

    Written by hand and validated by packaging: packaging's own writer (`as_rfc822`) emits
    lower-case field names, which twine / pkginfo do not read.
    """
    lines = ["Metadata-Version: 2.1", f"Name: {pkg.name}", f"Version: {_norm_version(pkg.version)}"]
    if pkg.about.get("summary"):
        lines.append("Summary: " + " ".join(str(pkg.about["summary"]).split()))
    if pkg.about.get("license") or pkg.index.get("license"):
        lines.append(f"License: {pkg.about.get('license') or pkg.index.get('license')}")
    if requires_python:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"Requires-Dist: {r}" for r in requires_dist]
    return "\n".join(lines) + "\n"


def _python_spec(pkg: CondaPackage) -> str | None:
    for dep in pkg.depends:
        parts = dep.split()
        if parts and parts[0] == "python" and len(parts) > 1 and re.match(r"^[<>=!~]", parts[1]):
            return parts[1]
    return None


def is_tests_only(pkg: CondaPackage) -> bool:
    """A `<name>-tests` package holding only test files (Pyodide's unvendored tests, e.g.
    numpy-tests): importing the parent package must never load it."""
    if not pkg.name.endswith("-tests"):
        return False
    payload = [PurePosixPath(r) for r in pkg.site_files if not r.split("/")[0].endswith((".dist-info", ".data"))]
    return bool(payload) and all(_TEST_DIRS & set(p.parts[:-1]) or _TEST_FILE.match(p.name) for p in payload)


def top_level_imports(pkg: CondaPackage) -> tuple[str, ...]:
    """Importable top-level names: the recipe's test imports first, then what the files hold.

    A tests-only package imports nothing, as Pyodide 314's lock has it for pandas-tests,
    scipy-tests and the rest of its `*-tests` entries: Pyodide's loadPackagesFromImports then
    never loads tests for `import numpy`, and an import check has nothing to try.
    """
    if is_tests_only(pkg):
        return ()
    names: list[str] = [i.split(".")[0] for i in pkg.test_imports]
    for rel in pkg.site_files:
        first, _, rest = rel.partition("/")
        if rest:
            if first.endswith((".dist-info", ".data", ".libs", ".egg-info")) or first == "__pycache__":
                continue
            if rest.endswith((".py", ".so")) and first.isidentifier():
                names.append(first)
        elif first.endswith(".py") or first.endswith(".so"):
            stem = first.split(".")[0]
            if stem.isidentifier():
                names.append(stem)
    return tuple(dict.fromkeys(names))


def _zipinfo(name: str, src: Path | None) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, _EPOCH)
    executable = src is not None and src.stat().st_mode & 0o111
    zi.external_attr = (0o100755 if executable else 0o100644) << 16
    zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


class _ReproducibleWheel(WheelFile):
    """WheelFile (RECORD with sha256 and sizes) with every entry at a fixed 1980 timestamp,
    RECORD included, so the same conda package always gives the same bytes."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None) -> None:  # noqa: ANN001
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = _zipinfo(zinfo_or_arcname, None)
        super().writestr(zinfo_or_arcname, data, compress_type)


def _dist_info(pkg: CondaPackage) -> tuple[str | None, RawMetadata | None, str | None]:
    """The package's own dist-info folder, its METADATA as packaging reads it, and the text."""
    dist_infos = sorted({r.split("/")[0] for r in pkg.site_files if r.split("/")[0].endswith(".dist-info")})
    if not dist_infos or f"{dist_infos[0]}/METADATA" not in pkg.site_files:
        return None, None, None
    text = pkg.site_files[f"{dist_infos[0]}/METADATA"].read_text(encoding="utf-8")
    return dist_infos[0], parse_email(text)[0], text


def build_wheel(pkg: CondaPackage, requires_dist: list[str], out_dir: Path) -> Artifact:
    """Write the package's wheel into out_dir, a private folder (the caller moves it into place).

    The file has its final name there: WheelFile derives the RECORD's path from it."""
    old_di, raw, meta_text = _dist_info(pkg)
    requires_python = _python_spec(pkg)
    try:
        if raw is not None and meta_text is not None:
            dist_name = raw.get("name") or pkg.name
            version = raw.get("version") or pkg.version
            requires_python = raw.get("requires_python") or requires_python
            metadata = rewrite_metadata(meta_text, requires_dist)
        else:
            dist_name, version = pkg.name, _norm_version(pkg.version)
            metadata = _synth_metadata(pkg, requires_dist, requires_python)
        written = Metadata.from_email(metadata, validate=False)
        written.name, written.version, written.requires_dist, written.requires_python  # noqa: B018  (validates each)
        tag = wheel_tag(pkg)
        file_name = f"{escape(dist_name)}-{_norm_version(version).replace('-', '_')}-{tag}.whl"
        parse_wheel_filename(file_name)
    except (InvalidMetadata, InvalidWheelFilename, InvalidVersion) as exc:
        raise ForgeError(f"the Pyodide view cannot make a wheel of package {pkg.name} ({exc})",
                         file=pkg.root, fix="fix the package's name, version or requirements in its recipe") from None
    # the wheel's dist-info folder is named as its file name says (what installers look for)
    di = f"{escape(dist_name)}-{_norm_version(version).replace('-', '_')}.dist-info"
    extra: dict[str, bytes] = {f"{di}/METADATA": metadata.encode()}
    if pkg.entry_points and not (old_di and f"{old_di}/entry_points.txt" in pkg.site_files):
        extra[f"{di}/entry_points.txt"] = ("[console_scripts]\n" + "\n".join(
            re.sub(r"\s*=\s*", " = ", ep, count=1) for ep in pkg.entry_points) + "\n").encode()
    # WHEEL stays four hand-written lines: only bdist_wheel (setuptools) has a writer for it
    extra[f"{di}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: wasm-forge\n"
                            f"Root-Is-Purelib: {'true' if tag == PURE_TAG else 'false'}\nTag: {tag}\n").encode()
    skip = {f"{old_di}/{f}" for f in _INSTALL_ONLY | {"METADATA"}} if old_di else set()

    def arcname(rel: str) -> str:
        return f"{di}/{rel.split('/', 1)[1]}" if old_di and rel.split("/")[0] == old_di else rel

    files = sorted(r for r in pkg.site_files if r not in skip)
    tmp = out_dir / file_name
    with _ReproducibleWheel(tmp, "w") as wf:
        for rel in [r for r in files if not r.split("/")[0].endswith(".dist-info")] + \
                   [r for r in files if r.split("/")[0].endswith(".dist-info")]:
            wf.writestr(_zipinfo(arcname(rel), pkg.site_files[rel]), pkg.site_files[rel].read_bytes())
        for rel, data in extra.items():
            wf.writestr(_zipinfo(rel, None), data)
    return _artifact(tmp, file_name, "package", "site", dist_name, version,
                     top_level_imports(pkg), requires_python)


def build_shared_library(pkg: CondaPackage, out_dir: Path) -> Artifact:
    """Zip a package's lib/*.so* for Pyodide, which unpacks it into /usr/lib ("dynlib"), into
    out_dir, a private folder (the caller moves it into place)."""
    file_name = f"{pkg.name}-{pkg.version}.zip"
    tmp = out_dir / file_name
    with zipfile.ZipFile(tmp, "w") as zf:
        for rel in sorted(pkg.shared_libs):
            zf.writestr(_zipinfo(rel.split("/", 1)[1], pkg.shared_libs[rel]), pkg.shared_libs[rel].read_bytes())
    return _artifact(tmp, file_name, "shared_library", "dynlib", pkg.name, pkg.version, (), None)


def _artifact(tmp: Path, file_name: str, ptype: str, install_dir: str, dist_name: str, version: str,
              imports: tuple[str, ...], requires_python: str | None) -> Artifact:
    data = tmp.read_bytes()
    return Artifact(file_name=file_name, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                    package_type=ptype, install_dir=install_dir, dist_name=dist_name,
                    version=version, imports=imports, requires_python=requires_python)


def lock_name(name: str) -> str:
    """The key Pyodide looks packages up by."""
    return canonicalize_name(name)
