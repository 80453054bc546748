"""Is this `.so` something Pyodide can load? A reader of the WebAssembly binary format,
enough to check a side module's ABI without running it.

A Pyodide extension module or shared library must be an emscripten *side module* (it has
a `dylink.0` custom section first), and, because Pyodide is built with `-fwasm-exceptions
-sSUPPORT_LONGJMP=wasm`, it must not use emscripten's JavaScript exception / longjmp ABI
(imports such as `env.invoke_vii` or `env.__cxa_find_matching_catch_2`). An ELF file is a
host build that slipped in. Extension modules must carry the target's EXT_SUFFIX.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import target

WASM_MAGIC = b"\0asm"
_JS_EH_IMPORTS = re.compile(r"^(invoke_\w+|__cxa_find_matching_catch(_\d+)?|__resumeException|emscripten_longjmp|"
                            r"_emscripten_throw_longjmp|setThrew|__cxa_throw_js)$")


@dataclass
class SideModule:
    """What the binary says about itself."""

    dylink: bool = False
    needed: list[str] = field(default_factory=list)
    imports: list[tuple[str, str, int]] = field(default_factory=list)  # (module, name, kind)
    exports: list[str] = field(default_factory=list)


class _Reader:
    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data, self.pos, self.end = data, pos, len(data) if end is None else end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise ValueError("truncated")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def uleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    def name(self) -> str:
        n = self.uleb()
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s.decode("utf-8", "replace")

    def limits(self) -> None:
        flags = self.byte()
        self.uleb()
        if flags & 1:
            self.uleb()


def parse(data: bytes) -> SideModule:
    """Parse the sections a loader cares about; raises ValueError for a non-wasm file."""
    if data[:4] != WASM_MAGIC:
        raise ValueError("not WebAssembly")
    mod = SideModule()
    r = _Reader(data, 8)
    first = True
    while r.pos < r.end:
        sid = r.byte()
        size = r.uleb()
        body_end = r.pos + size
        if body_end > len(data):
            raise ValueError("truncated")
        sec = _Reader(data, r.pos, body_end)
        if sid == 0:
            name = sec.name()
            if name == "dylink.0" and first:
                mod.dylink = True
                while sec.pos < body_end:
                    sub, sub_len = sec.byte(), sec.uleb()
                    sub_end = sec.pos + sub_len
                    if sub == 2:  # WASM_DYLINK_NEEDED
                        mod.needed += [sec.name() for _ in range(sec.uleb())]
                    sec.pos = sub_end
        elif sid == 2:  # imports
            for _ in range(sec.uleb()):
                module, field_name, kind = sec.name(), sec.name(), sec.byte()
                if kind == 0:
                    sec.uleb()
                elif kind == 1:
                    sec.byte()
                    sec.limits()
                elif kind == 2:
                    sec.limits()
                elif kind == 3:
                    sec.byte()
                    sec.byte()
                elif kind == 4:
                    sec.byte()
                    sec.uleb()
                mod.imports.append((module, field_name, kind))
        elif sid == 7:  # exports
            for _ in range(sec.uleb()):
                mod.exports.append(sec.name())
                sec.byte()
                sec.uleb()
        first = False
        r.pos = body_end
    return mod


def _describe_foreign(data: bytes) -> str:
    if data[:4] == b"\x7fELF":
        machine = int.from_bytes(data[18:20], "little")
        arch = {0x3E: "x86-64", 0xB7: "aarch64", 0x03: "i386"}.get(machine, f"machine {machine:#x}")
        return f"an ELF {arch} shared object (built with the host compiler, not emscripten)"
    if data[:4] == WASM_MAGIC:
        return "a truncated or corrupt WebAssembly module"
    if data[:2] == b"MZ":
        return "a Windows PE file"
    return "not a WebAssembly module"


def check_so(path: Path, rel: str | None = None) -> list[str]:
    """Problems that keep `path` from loading in the target Pyodide (empty: fine)."""
    rel = rel or path.name
    data = path.read_bytes()
    problems: list[str] = []
    m = re.match(r"^(?P<stem>[^.]+)\.(?P<tag>cpython-[^.]+|abi3)\.so$", path.name)
    if m and m.group("tag") != "abi3" and not path.name.endswith(target.EXT_SUFFIX):
        problems.append(f"{rel} is an extension module for another interpreter ({m.group('tag')}); "
                        f"this target needs *{target.EXT_SUFFIX}")
    try:
        mod = parse(data)
    except ValueError:
        return problems + [f"{rel} is {_describe_foreign(data)}"]
    if not mod.dylink:
        problems.append(f"{rel} is WebAssembly but not an emscripten side module (no dylink.0 section; "
                        "link it with -sSIDE_MODULE=1)")
    js_eh = sorted({name for module, name, kind in mod.imports if kind == 0 and _JS_EH_IMPORTS.match(name)})
    if js_eh:
        problems.append(
            f"{rel} uses emscripten's JavaScript exception/longjmp ABI (imports {', '.join(js_eh[:3])}), but "
            f"Pyodide {target.PYODIDE_VERSION} is built with -fwasm-exceptions -sSUPPORT_LONGJMP=wasm; "
            "rebuild it with those flags")
    return problems


def side_module_info(path: Path) -> SideModule:
    return parse(path.read_bytes())
