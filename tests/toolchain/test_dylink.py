"""forge.toolchain.dylink: build-time RUNPATHs leave side modules (and wheels) before rattler-build's
prefix rewriting can corrupt them; what stays still compiles in node's WebAssembly."""

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from wheel.wheelfile import WheelFile

from forge.toolchain.dylink import runtime_paths, strip_wheel_runpaths, without_build_runpath
from forge.toolchain.wasmcheck import check_so, parse

HOST_LIB = "/tmp/bld/rattler-build_scipy_1/host_env_placehold_placehold_placehold/lib"


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _vec(*items: bytes) -> bytes:
    return _uleb(len(items)) + b"".join(items)


def _str(s: str) -> bytes:
    return _uleb(len(s.encode())) + s.encode()


def _section(sid: int, body: bytes) -> bytes:
    return bytes([sid]) + _uleb(len(body)) + body


def side_module(runpath: list[str]) -> bytes:
    """A minimal side module as wasm-ld writes one: dylink.0 (mem info, needed, runtime path) first,
    then one exported function `f` returning 42."""
    subs = _section(1, bytes([0, 0, 0, 0])) + _section(2, _vec(_str("libopenblas.so")))
    if runpath:
        subs += _section(5, _vec(*(_str(p) for p in runpath)))
    dylink = _section(0, _str("dylink.0") + subs)
    types = _section(1, _vec(b"\x60\x00\x01\x7f"))
    funcs = _section(3, _vec(b"\x00"))
    exports = _section(7, _vec(_str("f") + b"\x00\x00"))
    body = b"\x00\x41\x2a\x0b"  # no locals; i32.const 42; end
    code = _section(10, _vec(_uleb(len(body)) + body))
    return b"\0asm\x01\0\0\0" + dylink + types + funcs + exports + code


def test_build_runpath_is_dropped_and_origin_kept() -> None:
    mod = side_module([HOST_LIB, "$ORIGIN/../lib"])
    assert runtime_paths(mod) == [HOST_LIB, "$ORIGIN/../lib"]
    fixed = without_build_runpath(mod)
    assert fixed is not None
    assert runtime_paths(fixed) == ["$ORIGIN/../lib"]
    info = parse(fixed)
    assert info.dylink and info.needed == ["libopenblas.so"] and info.export_funcs == {"f": 0}


def test_only_build_runpath_drops_the_subsection() -> None:
    fixed = without_build_runpath(side_module([HOST_LIB]))
    assert fixed == side_module([])


def test_nothing_to_do_is_none() -> None:
    assert without_build_runpath(side_module([])) is None
    assert without_build_runpath(side_module(["$ORIGIN"])) is None
    assert without_build_runpath(b"\x7fELF....") is None


def test_check_so_names_the_build_runpath(tmp_path: Path) -> None:
    so = tmp_path / "_fblas.cpython-314-wasm32-emscripten.so"
    so.write_bytes(side_module([HOST_LIB]))
    problems = check_so(so, "scipy/linalg/_fblas.cpython-314-wasm32-emscripten.so")
    assert len(problems) == 1
    assert problems[0].startswith("scipy/linalg/_fblas.cpython-314-wasm32-emscripten.so keeps the build's "
                                  f"RUNPATH '{HOST_LIB}' in its dylink.0 section")
    so.write_bytes(without_build_runpath(side_module([HOST_LIB])))
    assert check_so(so) == []


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed")
def test_rewritten_module_compiles_in_node(tmp_path: Path) -> None:
    fixed = tmp_path / "fixed.so"
    fixed.write_bytes(without_build_runpath(side_module([HOST_LIB, "$ORIGIN"])))
    js = ("const m = new WebAssembly.Module(require('fs').readFileSync(process.argv[1]));"
          "console.log(WebAssembly.Module.customSections(m, 'dylink.0').length,"
          " new WebAssembly.Instance(m).exports.f())")
    out = subprocess.run(["node", "-e", js, str(fixed)], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "42"]


def test_wheel_is_rewritten_with_a_matching_record(tmp_path: Path) -> None:
    whl = tmp_path / "demo-1.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
    with WheelFile(whl, "w") as wf:
        wf.writestr("demo/__init__.py", b"")
        wf.writestr("demo/_ext.cpython-314-wasm32-emscripten.so", side_module([HOST_LIB]))
        wf.writestr("demo-1.0.dist-info/METADATA", b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
        wf.writestr("demo-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\n"
                    b"Tag: cp314-cp314-pyemscripten_2026_0_wasm32\n")
    assert strip_wheel_runpaths(whl) == ["demo/_ext.cpython-314-wasm32-emscripten.so"]
    with WheelFile(whl) as wf:  # reading checks every member against RECORD's sha256
        ext = wf.read("demo/_ext.cpython-314-wasm32-emscripten.so")
        assert wf.read("demo/__init__.py") == b""
    assert runtime_paths(ext) == []
    with zipfile.ZipFile(whl) as zf:
        assert sorted(zf.namelist()) == ["demo-1.0.dist-info/METADATA", "demo-1.0.dist-info/RECORD",
                                         "demo-1.0.dist-info/WHEEL", "demo/__init__.py",
                                         "demo/_ext.cpython-314-wasm32-emscripten.so"]
    assert strip_wheel_runpaths(whl) == []
