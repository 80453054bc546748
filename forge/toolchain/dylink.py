"""Drop build-time RUNPATHs from a side module's `dylink.0` section.

meson (and any build passing `-Wl,-rpath`) makes wasm-ld write the folders it linked shared
libraries from (the build's host prefix) into `dylink.0` as WASM_DYLINK_RUNTIME_PATH. Natively,
meson's install step strips them; for wasm nothing does. They mean nothing at run time (the
loader finds libraries through LD_LIBRARY_PATH in python-wasm and the lock's shared libraries in
Pyodide), and they hold the host prefix, which rattler-build then rewrites in place as if it were a
NUL-terminated C string, breaking the length-prefixed section: the browser and node refuse the module
(`CompileError: WebAssembly.Module(): expected length`). Entries relative to `$ORIGIN` stay.
"""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path

from .wasmcheck import WASM_MAGIC, _Reader

DYLINK_RUNTIME_PATH = 5


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _name(s: bytes) -> bytes:
    return _uleb(len(s)) + s


def runtime_paths(data: bytes) -> list[str]:
    """The module's RUNPATH entries (empty for a module without them or without dylink.0)."""
    found = _dylink(data)
    return [p.decode("utf-8", "replace") for p in found[2]] if found else []


def _dylink(data: bytes) -> tuple[int, int, list[bytes], list[tuple[int, bytes]]] | None:
    """(section start, section end, runtime paths, [(subsection id, payload)]) of the first
    section when it is dylink.0."""
    if data[:4] != WASM_MAGIC:
        return None
    r = _Reader(data, 8)
    start = r.pos
    if r.byte() != 0:
        return None
    size = r.uleb()
    end = r.pos + size
    sec = _Reader(data, r.pos, end)
    if sec.name() != "dylink.0":
        return None
    subs: list[tuple[int, bytes]] = []
    paths: list[bytes] = []
    while sec.pos < end:
        sub, sub_len = sec.byte(), sec.uleb()
        payload = data[sec.pos:sec.pos + sub_len]
        if sub == DYLINK_RUNTIME_PATH:
            p = _Reader(payload)
            for _ in range(p.uleb()):
                n = p.uleb()
                paths.append(payload[p.pos:p.pos + n])
                p.pos += n
        subs.append((sub, payload))
        sec.pos += sub_len
    return start, end, paths, subs


def without_build_runpath(data: bytes) -> bytes | None:
    """The module with its absolute RUNPATH entries removed; None when it has none."""
    found = _dylink(data)
    if not found:
        return None
    start, end, paths, subs = found
    keep = [p for p in paths if p.startswith(b"$ORIGIN")]
    if len(keep) == len(paths):
        return None
    body = _name(b"dylink.0")
    for sub, payload in subs:
        if sub == DYLINK_RUNTIME_PATH:
            if not keep:
                continue
            payload = _uleb(len(keep)) + b"".join(_name(p) for p in keep)
        body += bytes([sub]) + _uleb(len(payload)) + payload
    return data[:start] + b"\0" + _uleb(len(body)) + body + data[end:]


def strip_wheel_runpaths(whl: Path) -> list[str]:
    """Rewrite the wheel in place with every side module's build-time RUNPATH removed (RECORD
    follows); returns the members changed."""
    from wheel.wheelfile import WheelFile  # noqa: PLC0415

    with zipfile.ZipFile(whl) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    changed: dict[str, bytes] = {}
    for info, data in members:
        if info.filename.endswith(".so") or ".so." in info.filename.rsplit("/", 1)[-1]:
            new = without_build_runpath(data)
            if new is not None:
                changed[info.filename] = new
    if not changed:
        return []
    with tempfile.TemporaryDirectory(dir=whl.parent) as tmp:
        new_whl = Path(tmp) / whl.name  # WheelFile reads the wheel's name from its file name
        with WheelFile(new_whl, "w") as out:  # writes a fresh RECORD
            for info, data in members:
                if not info.filename.endswith(".dist-info/RECORD"):
                    out.writestr(info, changed.get(info.filename, data))
        new_whl.replace(whl)
    return sorted(changed)
