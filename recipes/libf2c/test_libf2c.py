"""libf2c.a, read in wasm: relocatable wasm objects (a `linking` section; not host objects, not side
modules) with the f2c runtime's entry points, and no main program (a side module is never started)."""

import os

LIB = os.path.join(os.environ["PREFIX"], "lib")
NEEDED = {"s_copy", "s_cmp", "s_cat", "pow_dd", "pow_di", "d_sign", "i_dnnt", "z_abs", "c_div",
          "s_wsle", "do_lio", "e_wsle", "s_wsfe", "do_fio", "f_init", "s_stop"}


def members(data: bytes) -> dict[str, bytes]:
    """The members of a System V / GNU ar archive by name ('/' is the symbol table)."""
    assert data[:8] == b"!<arch>\n", data[:8]
    out, pos = {}, 8
    while pos < len(data):
        header = data[pos:pos + 60]
        name, size = header[:16].decode().rstrip(), int(header[48:58])
        out[name] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size & 1)
    return out


def symbols(table: bytes) -> set[str]:
    """The names in a GNU ar symbol table (a big-endian count, the offsets, then the names)."""
    count = int.from_bytes(table[:4], "big")
    return {s.decode() for s in table[4 + 4 * count:].split(b"\0") if s}


with open(os.path.join(LIB, "libf2c.a"), "rb") as fh:
    archive = members(fh.read())
objects = {n: b for n, b in archive.items() if n not in ("/", "//")}
names = symbols(archive["/"])
print(len(objects), "objects,", len(names), "symbols")
assert len(objects) > 140, sorted(objects)
for name, body in objects.items():
    assert body[:8] == b"\0asm\x01\0\0\0", (name, body[:8])
    assert b"linking" in body and b"dylink" not in body, name
assert NEEDED <= names, sorted(NEEDED - names)
assert not {"main", "MAIN__", "getarg_", "iargc_"} & names, sorted({"main", "MAIN__"} & names)
assert os.path.realpath(os.path.join(LIB, "libgfortran.a")) == os.path.realpath(os.path.join(LIB, "libf2c.a"))
