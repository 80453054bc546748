"""Turn one extracted conda package into the file Pyodide installs: a wheel for Python
packages (tagged `py3-none-any` or for the Pyodide ABI) or a zip of `.so` files for a
`shared_library`. Output is deterministic, so an unchanged package gives the same sha256."""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..toolchain.target import PLATFORM_TAG, PYTHON_XY
from .conda_pkg import CondaPackage

_PY = "cp" + PYTHON_XY.replace(".", "")
PURE_TAG = "py3-none-any"
COMPILED_TAG = f"{_PY}-{_PY}-{PLATFORM_TAG}"
ABI3_TAG = f"{_PY}-abi3-{PLATFORM_TAG}"
#: dist-info files that describe one installation, not the distribution.
_INSTALL_ONLY = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "WHEEL"}
_EPOCH = (1980, 1, 1, 0, 0, 0)


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
    """`py3-none-any` unless the package carries extension modules (then the Pyodide ABI tag)."""
    exts = [p for p in pkg.site_files if p.endswith(".so")]
    if not exts:
        return PURE_TAG
    return ABI3_TAG if all(p.endswith(".abi3.so") for p in exts) else COMPILED_TAG


def escape(name: str) -> str:
    """A distribution name as it appears in wheel file names."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _norm_version(v: str) -> str:
    try:
        return str(Version(v))
    except InvalidVersion:
        return v


def _hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


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


def _field(headers: list[str], key: str) -> str | None:
    for h in headers:
        k, _, v = h.partition(":")
        if k.strip().lower() == key.lower():
            return v.strip()
    return None


def rewrite_metadata(text: str, requires_dist: list[str]) -> str:
    """Replace unconditional Requires-Dist with the conda run requirements; keep extras.

    The conda package's run requirements are what the channel guarantees; lines with an
    `extra ==` marker describe optional features and stay as the project wrote them.
    """
    headers, body = _headers(text)
    out: list[str] = []
    inserted = False
    for h in headers:
        if h.lower().startswith("requires-dist:") and "extra ==" not in h.replace("extra==", "extra =="):
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
    lines = ["Metadata-Version: 2.1", f"Name: {pkg.name}", f"Version: {pkg.version}"]
    if pkg.about.get("summary"):
        lines.append(f"Summary: {pkg.about['summary']}")
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


def top_level_imports(pkg: CondaPackage) -> tuple[str, ...]:
    """Importable top-level names: the recipe's test imports first, then what the files hold."""
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


def build_wheel(pkg: CondaPackage, requires_dist: list[str], out_dir: Path) -> Artifact:
    """Write the package's wheel into out_dir (under a temporary name the caller renames)."""
    dist_infos = sorted({r.split("/")[0] for r in pkg.site_files if r.split("/")[0].endswith(".dist-info")})
    requires_python = _python_spec(pkg)
    extra: dict[str, bytes] = {}
    if dist_infos:
        di = dist_infos[0]
        meta_text = pkg.site_files[f"{di}/METADATA"].read_text(encoding="utf-8")
        headers, _ = _headers(meta_text)
        dist_name = _field(headers, "Name") or pkg.name
        version = _field(headers, "Version") or pkg.version
        requires_python = _field(headers, "Requires-Python") or requires_python
        meta = rewrite_metadata(meta_text, requires_dist)
    else:
        dist_name, version = pkg.name, _norm_version(pkg.version)
        di = f"{escape(dist_name)}-{version}.dist-info"
        meta = _synth_metadata(pkg, requires_dist, requires_python)
    tag = wheel_tag(pkg)
    file_name = f"{escape(dist_name)}-{_norm_version(version).replace('-', '_')}-{tag}.whl"
    extra[f"{di}/METADATA"] = meta.encode()
    if pkg.entry_points and f"{di}/entry_points.txt" not in pkg.site_files:
        extra[f"{di}/entry_points.txt"] = ("[console_scripts]\n" + "\n".join(
            re.sub(r"\s*=\s*", " = ", ep, count=1) for ep in pkg.entry_points) + "\n").encode()
    extra[f"{di}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: wasm-forge\n"
                            f"Root-Is-Purelib: {'true' if tag == PURE_TAG else 'false'}\nTag: {tag}\n").encode()
    skip = {f"{d}/{f}" for d in dist_infos for f in _INSTALL_ONLY} | set(extra)
    record: list[str] = []
    tmp = out_dir / f".partial-{file_name}"
    with zipfile.ZipFile(tmp, "w") as zf:
        for rel in sorted(r for r in pkg.site_files if r not in skip and not r.split("/")[0].endswith(".dist-info")):
            data = pkg.site_files[rel].read_bytes()
            zf.writestr(_zipinfo(rel, pkg.site_files[rel]), data)
            record.append(f"{rel},{_hash(data)},{len(data)}")
        for rel in sorted(r for r in pkg.site_files if r not in skip and r.split("/")[0].endswith(".dist-info")):
            data = pkg.site_files[rel].read_bytes()
            zf.writestr(_zipinfo(rel, pkg.site_files[rel]), data)
            record.append(f"{rel},{_hash(data)},{len(data)}")
        for rel, data in extra.items():
            zf.writestr(_zipinfo(rel, None), data)
            record.append(f"{rel},{_hash(data)},{len(data)}")
        record.append(f"{di}/RECORD,,")
        zf.writestr(_zipinfo(f"{di}/RECORD", None), "\n".join(record) + "\n")
    return _artifact(tmp, file_name, "package", "site", dist_name, version,
                     top_level_imports(pkg), requires_python)


def build_shared_library(pkg: CondaPackage, out_dir: Path) -> Artifact:
    """Zip a package's lib/*.so* for Pyodide, which unpacks it into /usr/lib ("dynlib")."""
    file_name = f"{pkg.name}-{pkg.version}.zip"
    tmp = out_dir / f".partial-{file_name}"
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
