"""forge.artifacts on real .conda files made from hand-made contents (rattler-build's assembler)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from rattler_build import ArchiveType, assemble_package

from forge.artifacts import ArtifactProblem, binary_kind, check_package, refuse_package
from forge.errors import ForgeError
from tests.platform.test_wasmcheck import dylink, imports, module

SP = "site-packages"
ELF_X86_64 = b"\x7fELF\x02\x01\x01" + b"\0" * 11 + struct.pack("<H", 0x3E) + b"\0" * 44
MACHO_ARM64 = struct.pack("<II", 0xFEEDFACF, 0x0100000C) + b"\0" * 56
FAT = struct.pack(">II", 0xCAFEBABE, 2) + b"\0" * 56
JAVA_CLASS = struct.pack(">IHH", 0xCAFEBABE, 0, 65) + b"\0" * 56
SIDE_MODULE = module(dylink([]), imports("PyLong_FromLong"))
WASM_EXT = "_c.cpython-314-wasm32-emscripten.so"


def pe(machine: int) -> bytes:
    head = bytearray(b"MZ" + b"\0" * 0x7E)
    head[0x3C:0x40] = struct.pack("<I", 0x80)
    return bytes(head) + b"PE\0\0" + struct.pack("<H", machine) + b"\0" * 20


def make_package(tmp_path: Path, files: dict[str, bytes], *, platform: str = "noarch", name: str = "x",
                 archive: ArchiveType = ArchiveType.Conda) -> Path:
    """A real .conda (or .tar.bz2) package holding `files` (path -> bytes)."""
    staged = tmp_path / f"staged-{name}-{platform}"
    for rel, data in files.items():
        (staged / rel).parent.mkdir(parents=True, exist_ok=True)
        (staged / rel).write_bytes(data)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    result = assemble_package(name=name, version="1.0", target_platform=platform, build_string="pyh_0", output_dir=out,
                              files_dir=staged, noarch="python" if platform == "noarch" else None, detect_prefix=False,
                              archive_type=archive)
    return Path(result.path)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (ELF_X86_64, "ELF x86-64"),
        (b"\x7fELF\x01\x02\x01" + b"\0" * 11 + struct.pack(">H", 0x14) + b"\0" * 44, "ELF PowerPC"),
        (MACHO_ARM64, "Mach-O arm64"),
        (struct.pack(">II", 0xFEEDFACE, 18) + b"\0" * 56, "Mach-O PowerPC"),
        (FAT, "Mach-O universal binary"),
        (b"\xbf\xba\xfe\xca" + struct.pack("<I", 1) + b"\0" * 56, "Mach-O universal binary"),
        (pe(0x8664), "PE/COFF x86-64"),
        (SIDE_MODULE, "WebAssembly module"),
        (b"!<arch>\n" + b"\0" * 56, "ar static library"),
        (JAVA_CLASS, None),
        (b"MZ is how this text file starts" + b" " * 64, None),
        (b"# just python\n", None),
    ],
)
def test_binary_kind_by_magic(data: bytes, kind: str | None) -> None:
    assert binary_kind(data) == kind


def test_pure_noarch_package_passes(tmp_path: Path) -> None:
    pkg = make_package(tmp_path, {f"{SP}/x/__init__.py": b"print('hi')\n", f"{SP}/x/data.bin": b"\x00\x01\x02",
                                  f"{SP}/x/Foo.class": JAVA_CLASS})
    assert check_package(pkg) == []


def test_elf_so_in_noarch_is_refused(tmp_path: Path) -> None:
    pkg = make_package(tmp_path, {f"{SP}/x/__init__.py": b"", f"{SP}/x/_c.cpython-311-x86_64-linux-gnu.so": ELF_X86_64})
    (problem,) = check_package(pkg)
    assert problem == ArtifactProblem(
        f"noarch/{pkg.name}", f"{SP}/x/_c.cpython-311-x86_64-linux-gnu.so",
        "native code (ELF x86-64) in a noarch package", problem.fix)
    assert str(problem).startswith(f"noarch/x-1.0-pyh_0.conda holds {SP}/x/_c.cpython-311-x86_64-linux-gnu.so, "
                                   "native code (ELF x86-64) in a noarch package; make the recipe a compiled one "
                                   "(`script: forge-pyodide-build`")
    assert "CONTRIBUTING.md" in str(problem)


def test_native_code_without_a_suffix_and_wasm_in_noarch(tmp_path: Path) -> None:
    pkg = make_package(tmp_path, {f"{SP}/x/__init__.py": b"", f"{SP}/x/helper": MACHO_ARM64, f"{SP}/x/tool": FAT,
                                  f"{SP}/x/engine.wasm": SIDE_MODULE, f"{SP}/x/w.exe": pe(0x14C),
                                  "lib/libx.dylib": b"not even a binary"})
    found = {p.file: p.what for p in check_package(pkg)}
    assert found == {
        f"{SP}/x/helper": "native code (Mach-O arm64) in a noarch package",
        f"{SP}/x/tool": "native code (Mach-O universal binary) in a noarch package",
        f"{SP}/x/engine.wasm": "native code (WebAssembly module) in a noarch package",
        f"{SP}/x/w.exe": "native code (PE/COFF i386) in a noarch package",
        "lib/libx.dylib": "a shared-library file name in a noarch package",
    }


def test_wasm_side_module_passes_in_emscripten_wasm32(tmp_path: Path) -> None:
    pkg = make_package(tmp_path, {f"lib/python3.14/{SP}/x/__init__.py": b"",
                                  f"lib/python3.14/{SP}/x/{WASM_EXT}": SIDE_MODULE,
                                  "lib/libx.so.1": SIDE_MODULE, "lib/pyodide/x.wasm": SIDE_MODULE},
                       platform="emscripten-wasm32")
    assert check_package(pkg) == []


def test_elf_so_and_host_binary_in_emscripten_wasm32_are_refused(tmp_path: Path) -> None:
    pkg = make_package(tmp_path, {f"lib/python3.14/{SP}/x/{WASM_EXT}": ELF_X86_64, "lib/libx.so.1": module(),
                                  "bin/x-config": MACHO_ARM64}, platform="emscripten-wasm32")
    problems = {p.file: str(p) for p in check_package(pkg)}
    assert set(problems) == {f"lib/python3.14/{SP}/x/{WASM_EXT}", "lib/libx.so.1", "bin/x-config"}
    label = f"emscripten-wasm32/{pkg.name}"
    assert problems[f"lib/python3.14/{SP}/x/{WASM_EXT}"].startswith(
        f"{label} holds lib/python3.14/{SP}/x/{WASM_EXT}, which is an ELF x86-64 shared object "
        "(built with the host compiler, not emscripten); build it with emscripten through forge-pyodide-build")
    assert "not an emscripten side module" in problems["lib/libx.so.1"]
    assert problems["bin/x-config"].startswith(f"{label} holds bin/x-config, a host binary (Mach-O arm64) in an "
                                               "emscripten-wasm32 package; ")


def test_tar_bz2_package(tmp_path: Path) -> None:
    pkg = make_package(tmp_path, {f"{SP}/x/_c.pyd": pe(0x8664)}, archive=ArchiveType.TarBz2)
    assert pkg.name.endswith(".tar.bz2")
    (problem,) = check_package(pkg)
    assert str(problem).startswith(f"noarch/{pkg.name} holds {SP}/x/_c.pyd, native code (PE/COFF x86-64) in a "
                                   "noarch package; make the recipe a compiled one")


def test_extracted_folder_and_refusal_sentence(tmp_path: Path) -> None:
    from rattler.package_streaming import extract

    pkg = make_package(tmp_path, {f"{SP}/a.so": ELF_X86_64, f"{SP}/b.pyd": pe(0x8664)})
    folder = tmp_path / "extracted"
    extract(pkg, folder)
    assert [p.file for p in check_package(folder)] == [f"{SP}/a.so", f"{SP}/b.pyd"]
    assert check_package(folder)[0].package == "noarch/x-1.0-pyh_0"
    refuse_package(make_package(tmp_path, {f"{SP}/ok.py": b""}, name="ok"), recipe="ok")
    with pytest.raises(ForgeError) as exc:
        refuse_package(pkg, recipe="x", file="recipes/x/recipe.yaml")
    text = str(exc.value)
    assert text.startswith(f"recipe 'x' (recipes/x/recipe.yaml): noarch/x-1.0-pyh_0.conda holds {SP}/a.so, native "
                           f"code (ELF x86-64) in a noarch package (and 1 more file(s), e.g. {SP}/b.pyd); make the")
    assert text.count("\n") == 0
