"""forge.toolchain.wasmcheck on hand-made binaries (the real-build cases are in test_bad_input)."""

from __future__ import annotations

from pathlib import Path

from forge.toolchain.wasmcheck import check_so, parse


def leb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def name(s: str) -> bytes:
    return leb(len(s)) + s.encode()


def section(sid: int, body: bytes) -> bytes:
    return bytes([sid]) + leb(len(body)) + body


def module(*sections: bytes) -> bytes:
    return b"\0asm\x01\0\0\0" + b"".join(sections)


def dylink(needed: list[str]) -> bytes:
    sub = leb(len(needed)) + b"".join(name(n) for n in needed)
    return section(0, name("dylink.0") + bytes([2]) + leb(len(sub)) + sub)


def imports(*fields: str) -> bytes:
    body = leb(len(fields)) + b"".join(name("env") + name(f) + b"\x00" + leb(0) for f in fields)
    return section(2, body)


def test_side_module_with_needed_libraries(tmp_path: Path) -> None:
    f = tmp_path / "ok.cpython-314-wasm32-emscripten.so"
    f.write_bytes(module(dylink(["liblz4.so"]), imports("PyLong_FromLong", "memory_base")))
    mod = parse(f.read_bytes())
    assert mod.dylink and mod.needed == ["liblz4.so"]
    assert [i[1] for i in mod.imports] == ["PyLong_FromLong", "memory_base"]
    assert check_so(f) == []


def test_not_a_side_module(tmp_path: Path) -> None:
    f = tmp_path / "main.so"
    f.write_bytes(module(imports("abort")))
    (problem,) = check_so(f)
    assert "not an emscripten side module (no dylink.0 section" in problem


def test_js_exceptions_and_wrong_suffix(tmp_path: Path) -> None:
    f = tmp_path / "m.cpython-311-x86_64-linux-gnu.so"
    f.write_bytes(module(dylink([]), imports("invoke_vii", "__cxa_find_matching_catch_2")))
    problems = check_so(f)
    assert len(problems) == 2
    assert "extension module for another interpreter (cpython-311-x86_64-linux-gnu)" in problems[0]
    assert "imports __cxa_find_matching_catch_2, invoke_vii" in problems[1]


def test_foreign_and_truncated_files(tmp_path: Path) -> None:
    elf = tmp_path / "x.so"
    elf.write_bytes(b"\x7fELF" + b"\0" * 14 + (0xB7).to_bytes(2, "little") + b"\0" * 40)
    assert check_so(elf) == ["x.so is an ELF aarch64 shared object (built with the host compiler, not emscripten)"]
    cut = tmp_path / "cut.so"
    cut.write_bytes(module(dylink(["a.so"]))[:-3])
    assert check_so(cut) == ["cut.so is a truncated or corrupt WebAssembly module"]


def test_debug_sections_are_refused_and_counted(tmp_path: Path) -> None:
    """DWARF and source-map sections are bytes users download for nothing: refused, named, counted
    (a `name` section, which Pyodide's tracebacks use, is not debug information)."""
    f = tmp_path / "dbg.cpython-314-wasm32-emscripten.so"
    info, line = section(0, name(".debug_info") + b"\0" * 100), section(0, name(".debug_line") + b"\0" * 20)
    f.write_bytes(module(dylink([]), section(0, name("name") + b"\0" * 5), info, line))
    mod = parse(f.read_bytes())
    assert set(mod.custom) == {"dylink.0", "name", ".debug_info", ".debug_line"}
    debug = len(info) - 2 + len(line) - 2  # each section's body: its name and bytes
    (problem,) = check_so(f)
    assert problem == (f"dbg.cpython-314-wasm32-emscripten.so carries {debug} bytes of debug information "
                       "(.debug_info, .debug_line) that users would download; Pyodide's side modules have none: "
                       "build without -g (the forge's flags have -g0) or strip it (`llvm-strip --strip-debug`)")
