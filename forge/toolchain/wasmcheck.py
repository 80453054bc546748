"""Is this `.so` something Pyodide can load? A reader of the WebAssembly binary format,
enough to check a side module's ABI without running it.

A Pyodide extension module or shared library must be an emscripten *side module* (it has
a `dylink.0` custom section first), and, because Pyodide is built with `-fwasm-exceptions
-sSUPPORT_LONGJMP=wasm`, it must not use emscripten's JavaScript exception / longjmp ABI
(imports such as `env.invoke_vii` or `env.__cxa_find_matching_catch_2`). An ELF file is a
host build that slipped in. Extension modules must carry the target's EXT_SUFFIX.

A C/C++ function cast to another signature works natively but traps in wasm, where
`call_indirect` checks the callee's type ("null function or function signature mismatch").
The commonest case is a type slot (`PyType_Slot`) whose function CPython calls with another
signature, e.g. a `void` tp_clear (kiwisolver 1.5). `slot_mismatches` finds them statically:
the side module's data relocations (`__wasm_apply_data_relocs`) say which data words receive a
function's table index, the data says which slot id precedes it, the type section says what
the function really takes and returns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import target

WASM_MAGIC = b"\0asm"
#: custom sections of debug information (DWARF, source maps, split-DWARF links), never shipped
_DEBUG_SECTIONS = (".debug_", "sourceMappingURL", "external_debug_info")
_JS_EH_IMPORTS = re.compile(r"^(invoke_\w+|__cxa_find_matching_catch(_\d+)?|__resumeException|emscripten_longjmp|"
                            r"_emscripten_throw_longjmp|setThrew|__cxa_throw_js)$")


@dataclass
class SideModule:
    """What the binary says about itself."""

    dylink: bool = False
    needed: list[str] = field(default_factory=list)
    runpath: list[str] = field(default_factory=list)  # WASM_DYLINK_RUNTIME_PATH
    imports: list[tuple[str, str, int]] = field(default_factory=list)  # (module, name, kind)
    exports: list[str] = field(default_factory=list)
    export_funcs: dict[str, int] = field(default_factory=dict)  # exported function -> function index
    types: list[tuple[int, int]] = field(default_factory=list)  # (params, results); every value is i32/i64/f*
    func_types: list[int] = field(default_factory=list)  # type index per function (imports first)
    global_imports: list[str] = field(default_factory=list)  # global index -> imported name
    elements: list[tuple[tuple[str, int] | None, list[int]]] = field(default_factory=list)  # (base, funcs)
    data: list[tuple[tuple[str, int] | None, bytes]] = field(default_factory=list)  # (base, bytes)
    code: dict[int, tuple[int, int]] = field(default_factory=dict)  # function index -> body (start, end)
    custom: dict[str, int] = field(default_factory=dict)  # custom section name -> bytes (summed)


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

    def sleb(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result - (1 << shift) if b & 0x40 else result

    def const_expr(self) -> tuple[str, int] | None:
        """An init expression as (global name or "", constant): `global.get g [i32.const c i32.add]`,
        `i32.const c`; None for anything else."""
        base, const = "", 0
        while True:
            op = self.byte()
            if op == 0x0B:
                return base, const
            if op == 0x23:
                base = f"#{self.uleb()}"
            elif op in (0x41, 0x42):
                const += self.sleb()
            elif op != 0x6A:
                return None

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
            mod.custom[name] = mod.custom.get(name, 0) + size
            if name == "dylink.0" and first:
                mod.dylink = True
                while sec.pos < body_end:
                    sub, sub_len = sec.byte(), sec.uleb()
                    sub_end = sec.pos + sub_len
                    if sub == 2:  # WASM_DYLINK_NEEDED
                        mod.needed += [sec.name() for _ in range(sec.uleb())]
                    elif sub == 5:  # WASM_DYLINK_RUNTIME_PATH
                        mod.runpath += [sec.name() for _ in range(sec.uleb())]
                    sec.pos = sub_end
        elif sid == 2:  # imports
            for _ in range(sec.uleb()):
                module, field_name, kind = sec.name(), sec.name(), sec.byte()
                if kind == 0:
                    mod.func_types.append(sec.uleb())
                elif kind == 1:
                    sec.byte()
                    sec.limits()
                elif kind == 2:
                    sec.limits()
                elif kind == 3:
                    mod.global_imports.append(field_name)
                    sec.byte()
                    sec.byte()
                elif kind == 4:
                    sec.byte()
                    sec.uleb()
                mod.imports.append((module, field_name, kind))
        elif sid in (1, 3, 7, 9, 10, 11):
            try:
                _parse_section(mod, sid, sec, data, body_end)
            except (ValueError, IndexError):
                pass  # a form this reader does not follow (a newer proposal): only the slot check loses it
        first = False
        r.pos = body_end
    return mod


def _parse_section(mod: SideModule, sid: int, sec: _Reader, data: bytes, body_end: int) -> None:
    """Types, functions, exports, elements, code and data: what the slot check reads."""
    if sid == 1:  # types
        for _ in range(sec.uleb()):
            if sec.byte() != 0x60:
                break
            params = sec.uleb()
            sec.pos += params
            results = sec.uleb()
            sec.pos += results
            mod.types.append((params, results))
    elif sid == 3:  # functions
        mod.func_types += [sec.uleb() for _ in range(sec.uleb())]
    elif sid == 7:  # exports
        for _ in range(sec.uleb()):
            name = sec.name()
            mod.exports.append(name)
            kind, idx = sec.byte(), sec.uleb()
            if kind == 0:
                mod.export_funcs[name] = idx
    elif sid == 9:  # elements: the active function-index form only (flags 0)
        for _ in range(sec.uleb()):
            if sec.uleb() != 0:
                break
            base = sec.const_expr()
            mod.elements.append((base, [sec.uleb() for _ in range(sec.uleb())]))
    elif sid == 10:  # code
        first_defined = len(mod.func_types) - sec.uleb() if mod.func_types else 0
        idx = first_defined
        while sec.pos < body_end:
            size = sec.uleb()
            mod.code[idx] = (sec.pos, sec.pos + size)
            sec.pos += size
            idx += 1
    elif sid == 11:  # data
        for _ in range(sec.uleb()):
            flags = sec.uleb()
            base = None
            if flags == 2:
                sec.uleb()
            if flags in (0, 2):
                base = sec.const_expr()
            n = sec.uleb()
            mod.data.append((base, data[sec.pos:sec.pos + n]))
            sec.pos += n


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
    built_here = [p for p in mod.runpath if not p.startswith("$ORIGIN")]
    if built_here:
        problems.append(f"{rel} keeps the build's RUNPATH {built_here[0]!r} in its dylink.0 section, which the "
                        "channel's prefix rewriting corrupts; drop it (forge-pyodide-build does for wheels: "
                        "forge.toolchain.dylink.without_build_runpath) or link without -rpath")
    debug = {n: b for n, b in mod.custom.items() if n.startswith(_DEBUG_SECTIONS)}
    if debug:
        problems.append(f"{rel} carries {sum(debug.values())} bytes of debug information ({', '.join(sorted(debug))}) "
                        "that users would download; Pyodide's side modules have none: build without -g (the "
                        "forge's flags have -g0) or strip it (`llvm-strip --strip-debug`)")
    js_eh = sorted({name for module, name, kind in mod.imports if kind == 0 and _JS_EH_IMPORTS.match(name)})
    if js_eh:
        problems.append(
            f"{rel} uses emscripten's JavaScript exception/longjmp ABI (imports {', '.join(js_eh[:3])}), but "
            f"Pyodide {target.PYODIDE_VERSION} is built with -fwasm-exceptions -sSUPPORT_LONGJMP=wasm; "
            "rebuild it with those flags")
    bad = sorted(set(slot_mismatches(mod, data)))
    if bad:
        fname = {idx: name for name, idx in mod.export_funcs.items()}
        desc = "; ".join(f"{slot} {fname.get(func, f'function {func}')} is {_signature(have)} but CPython calls "
                         f"it as {_signature(want)}" for slot, func, want, have in bad[:3])
        problems.append(
            f"{rel} registers type slot functions with the wrong signature ({desc}); natively the cast is "
            "harmless, in wasm the call traps with \"null function or function signature mismatch\"; "
            "patch the source so each slot function has the signature its slot expects")
    return problems


def side_module_info(path: Path) -> SideModule:
    return parse(path.read_bytes())


# Signatures CPython calls each PyType_Slot with, as (parameters, results); every parameter is
# a pointer, Py_ssize_t or int (i32 in wasm32). Slots holding data (tp_doc, tp_methods, ...)
# are absent.
_UNARY, _BINARY, _TERNARY, _DESTRUCTOR = (1, 1), (2, 1), (3, 1), (1, 0)
SLOT_SIGNATURES: dict[int, tuple[str, tuple[int, int]]] = {
    3: ("mp_ass_subscript", _TERNARY), 4: ("mp_length", _UNARY), 5: ("mp_subscript", _BINARY),
    **{i: (n, _UNARY) for i, n in ((6, "nb_absolute"), (9, "nb_bool"), (11, "nb_float"), (13, "nb_index"),
                                    (26, "nb_int"), (27, "nb_invert"), (30, "nb_negative"), (32, "nb_positive"))},
    **{i: (n, _BINARY) for i, n in ((7, "nb_add"), (8, "nb_and"), (10, "nb_divmod"), (12, "nb_floor_divide"),
                                     (14, "nb_inplace_add"), (15, "nb_inplace_and"), (16, "nb_inplace_floor_divide"),
                                     (17, "nb_inplace_lshift"), (18, "nb_inplace_multiply"), (19, "nb_inplace_or"),
                                     (21, "nb_inplace_remainder"), (22, "nb_inplace_rshift"),
                                     (23, "nb_inplace_subtract"), (24, "nb_inplace_true_divide"),
                                     (25, "nb_inplace_xor"), (28, "nb_lshift"), (29, "nb_multiply"), (31, "nb_or"),
                                     (34, "nb_remainder"), (35, "nb_rshift"), (36, "nb_subtract"),
                                     (37, "nb_true_divide"), (38, "nb_xor"), (75, "nb_matrix_multiply"),
                                     (76, "nb_inplace_matrix_multiply"))},
    20: ("nb_inplace_power", _TERNARY), 33: ("nb_power", _TERNARY),
    39: ("sq_ass_item", _TERNARY), 40: ("sq_concat", _BINARY), 41: ("sq_contains", _BINARY),
    42: ("sq_inplace_concat", _BINARY), 43: ("sq_inplace_repeat", _BINARY), 44: ("sq_item", _BINARY),
    45: ("sq_length", _UNARY), 46: ("sq_repeat", _BINARY),
    47: ("tp_alloc", _BINARY), 50: ("tp_call", _TERNARY), 51: ("tp_clear", _UNARY), 52: ("tp_dealloc", _DESTRUCTOR),
    53: ("tp_del", _DESTRUCTOR), 54: ("tp_descr_get", _TERNARY), 55: ("tp_descr_set", _TERNARY),
    57: ("tp_getattr", _BINARY), 58: ("tp_getattro", _BINARY), 59: ("tp_hash", _UNARY), 60: ("tp_init", _TERNARY),
    61: ("tp_is_gc", _UNARY), 62: ("tp_iter", _UNARY), 63: ("tp_iternext", _UNARY), 65: ("tp_new", _TERNARY),
    66: ("tp_repr", _UNARY), 67: ("tp_richcompare", _TERNARY), 68: ("tp_setattr", _TERNARY),
    69: ("tp_setattro", _TERNARY), 70: ("tp_str", _UNARY), 71: ("tp_traverse", _TERNARY), 74: ("tp_free", _DESTRUCTOR),
    80: ("tp_finalize", _DESTRUCTOR), 82: ("tp_vectorcall", (4, 1)),
}
_DATA_SLOTS = {48, 49, 56, 64, 72, 73, 83}  # tp_base, tp_bases, tp_doc, tp_methods, tp_members, tp_getset, tp_token


def data_relocations(mod: SideModule, data: bytes) -> dict[int, tuple[str, int]]:
    """What `__wasm_apply_data_relocs` stores where: data offset (from __memory_base) ->
    ("table", element index from __table_base) | ("mem", offset) | ("global", name).
    Empty when the function is absent or uses instructions this reader does not follow."""
    idx = mod.export_funcs.get("__wasm_apply_data_relocs")
    if idx is None or idx not in mod.code:
        return {}
    start, end = mod.code[idx]
    r = _Reader(data, start, end)
    for _ in range(r.uleb()):  # locals
        r.uleb()
        r.byte()
    names = {"__memory_base": "mem", "__table_base": "table"}
    stack: list[tuple[str, int]] = []
    local: dict[int, tuple[str, int]] = {}
    out: dict[int, tuple[str, int]] = {}
    try:
        while r.pos < end:
            op = r.byte()
            if op == 0x23:  # global.get
                g = r.uleb()
                name = mod.global_imports[g] if g < len(mod.global_imports) else f"#{g}"
                stack.append((names.get(name, "global:" + name), 0))
            elif op in (0x41, 0x42):  # i32.const / i64.const
                stack.append(("", r.sleb()))
            elif op in (0x6A, 0x7C):  # i32.add / i64.add
                (kb, b), (ka, a) = stack.pop(), stack.pop()
                stack.append(("?", 0) if ka and kb else (ka or kb, a + b))
            elif op in (0x6B, 0x7D):  # i32.sub / i64.sub
                (kb, b), (ka, a) = stack.pop(), stack.pop()
                stack.append((ka, a - b) if not kb else ("", a - b) if ka == kb else ("?", 0))
            elif op == 0xAD:  # i64.extend_i32_u
                continue
            elif op == 0x20:  # local.get
                stack.append(local[r.uleb()])
            elif op in (0x21, 0x22):  # local.set / local.tee
                local[r.uleb()] = stack[-1] if op == 0x22 else stack.pop()
            elif op in (0x36, 0x37):  # i32.store / i64.store
                r.uleb()
                offset = r.uleb()
                value, (kind, addr) = stack.pop(), stack.pop()
                if kind == "mem":
                    out[addr + offset] = value
            elif op == 0x0B:
                continue
            else:
                return {}
    except (IndexError, KeyError, ValueError):
        return {}
    return out


def slot_mismatches(mod: SideModule, data: bytes) -> list[tuple[str, int, tuple[int, int], tuple[int, int]]]:
    """Type slots whose function has another wasm signature than CPython calls it with:
    (slot name, function index, expected (params, results), actual). A slot array is 8-byte
    {int slot; void *pfunc} records ending in {0, NULL}; only runs of at least two records
    whose every function pointer is relocated are read, so other data is not mistaken for one."""
    relocs = data_relocations(mod, data)
    if not relocs:
        return []
    def based_on(base: tuple[str, int] | None, name: str) -> bool:
        g = int(base[0][1:]) if base and base[0] else -1
        return 0 <= g < len(mod.global_imports) and mod.global_imports[g] == name

    memory = bytearray()  # the module's initial memory, from __memory_base
    for base, seg in mod.data:
        if not based_on(base, "__memory_base"):
            continue
        off = base[1]
        if len(memory) < off + len(seg):
            memory.extend(bytes(off + len(seg) - len(memory)))
        memory[off:off + len(seg)] = seg
    table: list[int] = []
    for base, funcs in mod.elements:
        if based_on(base, "__table_base"):
            if len(table) < base[1] + len(funcs):
                table.extend([-1] * (base[1] + len(funcs) - len(table)))
            table[base[1]:base[1] + len(funcs)] = funcs

    def word(addr: int) -> int | None:
        return int.from_bytes(memory[addr:addr + 4], "little") if 0 <= addr and addr + 4 <= len(memory) else None

    # a PyType_Spec is {const char *name; int basicsize, itemsize; unsigned flags; PyType_Slot *slots}:
    # its name and slots are both relocated pointers into data, 16 bytes apart
    arrays = sorted({val for addr, (kind, val) in relocs.items()
                     if kind == "mem" and relocs.get(addr - 16, ("",))[0] == "mem"})
    found = []
    for start in arrays:
        rec = start
        records = []
        while (slot := word(rec)) and (slot in SLOT_SIGNATURES or slot in _DATA_SLOTS) and rec + 4 in relocs:
            records.append((slot, relocs[rec + 4]))
            rec += 8
        if not records or word(rec) != 0 or word(rec + 4) != 0 or rec + 4 in relocs:
            continue  # not a slot array
        for slot, (kind, val) in records:
            if slot not in SLOT_SIGNATURES or kind != "table" or not 0 <= val < len(table) or table[val] < 0:
                continue
            func = table[val]
            name, want = SLOT_SIGNATURES[slot]
            ftype = mod.func_types[func] if func < len(mod.func_types) else -1
            have = mod.types[ftype] if 0 <= ftype < len(mod.types) else None
            if have is not None and have != want:
                found.append((name, func, want, have))
    return found


def _signature(sig: tuple[int, int]) -> str:
    return f"({', '.join(['i32'] * sig[0])}) -> {'i32' if sig[1] else 'void'}"
