"""Content checks of a built conda package before it is published.

A recipe can say `noarch: python` and still compile (the build machine's compiler turns an
optional C extension into an x86-64 `.so`), and a cross build can slip a host binary into
an emscripten-wasm32 package. Neither shows in the recipe or its tests, so the forge looks
at the bytes of every file: magic numbers, not suffixes, decide what is native code.

- `noarch`: no native code at all (ELF, Mach-O incl. universal, PE/COFF, WebAssembly, `ar`
  static libraries) and no `.so`/`.so.N`/`.pyd`/`.dylib`/`.dll` file, whatever it holds;
- `emscripten-wasm32`: every `.so`/`.so.N` is a Pyodide-loadable side module
  (`forge.toolchain.wasmcheck.check_so`) and no ELF or Mach-O file is anywhere in it;
- every package but a `<name>-tests` one: no test files (at most `testpayload.limit()` bytes)
  (what rattler-build packs for `tests: files:`), so users do not download test suites.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import testpayload
from .errors import ForgeError

NOARCH = "noarch"
WASM = "emscripten-wasm32"

_NATIVE_SUFFIX = re.compile(r"\.(so(\.\d+)*|pyd|dylib|dll)$", re.IGNORECASE)
_SO = re.compile(r"\.so(\.\d+)*$")
_COMPILED_FIX = ("make the recipe a compiled one (`script: forge-pyodide-build`, `skip: [not emscripten]`, no "
                 "`noarch:`; see CONTRIBUTING.md), or delete the file in the build script if the package does not need it")
_WASM_FIX = ("build it with emscripten through forge-pyodide-build (docs/platform.md), or delete it in the build "
             "script if the package does not need it")

_ELF_MACHINES = {0x03: "i386", 0x08: "MIPS", 0x14: "PowerPC", 0x15: "PowerPC64", 0x16: "s390", 0x28: "ARM",
                 0x3E: "x86-64", 0xB7: "aarch64", 0xF3: "RISC-V", 0x102: "LoongArch"}
_MACHO_CPUS = {7: "i386", 0x01000007: "x86-64", 12: "ARM", 0x0100000C: "arm64", 0x0200000C: "arm64_32",
               18: "PowerPC", 0x01000012: "PowerPC64"}
_PE_MACHINES = {0x14C: "i386", 0x8664: "x86-64", 0xAA64: "ARM64", 0x1C0: "ARM", 0x1C4: "ARMv7"}
_MACHO = {b"\xfe\xed\xfa\xce": "big", b"\xce\xfa\xed\xfe": "little",
          b"\xfe\xed\xfa\xcf": "big", b"\xcf\xfa\xed\xfe": "little"}
_FAT = {b"\xca\xfe\xba\xbe": "big", b"\xbe\xba\xfe\xca": "little",
        b"\xca\xfe\xba\xbf": "big", b"\xbf\xba\xfe\xca": "little"}


@dataclass(frozen=True)
class ArtifactProblem:
    """One refused file: the package, the file inside it, what it is and the fix."""

    package: str  # e.g. "noarch/x-1.0-pyh_0.conda"
    file: str     # path inside the package
    what: str     # e.g. "native code (ELF x86-64) in a noarch package"
    fix: str

    def __str__(self) -> str:
        return f"{self.package} holds {self.file}, {self.what}; {self.fix}"


def binary_kind(head: bytes) -> str | None:
    """What native code a file's first bytes (4 KiB, or the whole file) announce, or None.

    Java class files share the universal Mach-O magic; a count of architectures below 45
    (a class file's major version) tells them apart, as file(1) and Apple's tools do.
    """
    if head[:4] == b"\x7fELF":
        order = "big" if head[5:6] == b"\x02" else "little"
        machine = int.from_bytes(head[18:20], order)
        return f"ELF {_ELF_MACHINES.get(machine, f'machine {machine:#x}')}"
    if head[:4] in _MACHO:
        cpu = int.from_bytes(head[4:8], _MACHO[head[:4]])
        return f"Mach-O {_MACHO_CPUS.get(cpu, f'cpu {cpu:#x}')}"
    if head[:4] in _FAT and 0 < int.from_bytes(head[4:8], _FAT[head[:4]]) < 45:
        return "Mach-O universal binary"
    if head[:4] == b"\0asm":
        return "WebAssembly module"
    if head[:8] == b"!<arch>\n":
        return "ar static library"
    if head[:2] == b"MZ" and len(head) >= 64:
        off = int.from_bytes(head[0x3C:0x40], "little")
        if head[off:off + 4] == b"PE\0\0":
            machine = int.from_bytes(head[off + 4:off + 6], "little")
            return f"PE/COFF {_PE_MACHINES.get(machine, f'machine {machine:#x}')}"
    return None


def _head(path: Path) -> bytes:
    """The first 4 KiB: every magic number, and the PE header MZ points at in practice."""
    with path.open("rb") as fh:
        return fh.read(4096)


def _files(root: Path) -> list[tuple[str, Path]]:
    """(path inside the package, path on disk) of the installed files; info/ is metadata."""
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if rel == "info" or rel.startswith("info/") or p.is_dir():
            continue
        out.append((rel, p))
    return out


def _noarch_problems(label: str, root: Path) -> list[ArtifactProblem]:
    problems = []
    for rel, path in _files(root):
        kind = binary_kind(_head(path)) if path.is_file() and not path.is_symlink() else None
        if kind:
            what = f"native code ({kind}) in a noarch package"
        elif _NATIVE_SUFFIX.search(path.name):
            what = "a shared-library file name in a noarch package"
        else:
            continue
        problems.append(ArtifactProblem(label, rel, what, _COMPILED_FIX))
    return problems


def _wasm_problems(label: str, root: Path) -> list[ArtifactProblem]:
    from .toolchain.wasmcheck import check_so  # noqa: PLC0415

    problems = []
    for rel, path in _files(root):
        if path.is_symlink() or not path.is_file():
            continue
        if _SO.search(path.name):
            for found in check_so(path, rel):
                what = found[len(rel):].strip() if found.startswith(rel) else found
                problems.append(ArtifactProblem(label, rel, f"which {what}", _WASM_FIX))
            continue
        kind = binary_kind(_head(path))
        if kind and kind.startswith(("ELF", "Mach-O")):
            problems.append(ArtifactProblem(label, rel, f"a host binary ({kind}) in an emscripten-wasm32 package",
                                            _WASM_FIX))
    return problems


def _payload_problems(label: str, root: Path, name: str) -> list[ArtifactProblem]:
    """A runtime package carrying more test files than testpayload.limit() (users would download them)."""
    if testpayload.is_tests_output(name):
        return []
    found = testpayload.package_payload([(rel, p.stat().st_size) for rel, p in _files(root) if p.is_file()])
    if found.bytes <= testpayload.limit():
        return []
    what = (f"{testpayload.human(found.bytes)} of test files (a runtime package may carry {testpayload.allowance()}; "
            f"{testpayload.human(found.largest_bytes)} in {found.largest})")
    return [ArtifactProblem(label, testpayload.TEST_FILES + found.largest, what,
                            f"{testpayload.FIX}: `forge split-tests RECIPE` does it for a single-output recipe")]


def _check_dir(root: Path, label: str | None) -> list[ArtifactProblem]:
    index = json.loads((root / "info" / "index.json").read_text())
    subdir = index.get("subdir", "")
    if label is None:
        label = f"{subdir}/{index.get('name')}-{index.get('version')}-{index.get('build')}"
    payload = _payload_problems(label, root, str(index.get("name", "")))
    if subdir == NOARCH or index.get("noarch"):
        return payload + _noarch_problems(label, root)
    if subdir == WASM:
        return payload + _wasm_problems(label, root)
    return payload


def check_package(pkg: Path) -> list[ArtifactProblem]:
    """Problems that must keep a built package out of the channel (empty: publish it).

    `pkg` is a `.conda`/`.tar.bz2` file or an extracted package folder (with info/index.json).
    Each problem's str() is one sentence naming the package, the file inside it and the fix.
    """
    pkg = Path(pkg)
    if pkg.is_dir():
        return _check_dir(pkg, None)
    from rattler.package_streaming import extract  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="forge-artifact-") as tmp:
        extract(pkg, Path(tmp))
        subdir = json.loads((Path(tmp) / "info" / "index.json").read_text()).get("subdir", "")
        return _check_dir(Path(tmp), f"{subdir}/{pkg.name}")


def refuse_package(pkg: Path, *, recipe: str, file: str | None = None) -> None:
    """Raise a ForgeError naming the recipe, the first refused file and the fix (+ how many more)."""
    problems = check_package(pkg)
    if not problems:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more file(s), e.g. {problems[1].file})" if len(problems) > 1 else ""
    raise ForgeError(f"{first.package} holds {first.file}, {first.what}{more}", recipe=recipe, file=file,
                     fix=first.fix)
