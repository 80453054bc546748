# fsspec in wasm: the memory and local filesystems, mappers, globbing, caching, url chaining
import os
import tempfile
import fsspec
from fsspec.implementations.memory import MemoryFileSystem

fs = fsspec.filesystem("memory")
fs.mkdir("/d")
with fs.open("/d/a.txt", "wb") as f:
    f.write(b"hello wasm")
fs.pipe("/d/b.bin", b"\x00" * 1000)
assert fs.cat("/d/a.txt") == b"hello wasm"
assert sorted(fs.ls("/d", detail=False)) == ["/d/a.txt", "/d/b.bin"]
assert fs.glob("/d/*.txt") == ["/d/a.txt"]
assert fs.size("/d/b.bin") == 1000
fs.mv("/d/b.bin", "/d/c.bin")
assert fs.exists("/d/c.bin") and not fs.exists("/d/b.bin")
m = fsspec.get_mapper("memory://store")
m["x/y"] = b"1"
assert list(m) == ["x/y"] and m["x/y"] == b"1"
assert isinstance(fsspec.filesystem("memory"), MemoryFileSystem)

tmp = tempfile.mkdtemp()
with fsspec.open(os.path.join(tmp, "f.txt.gz"), "wt", compression="gzip") as f:
    f.write("compressed\n" * 100)
with fsspec.open(os.path.join(tmp, "f.txt.gz"), "rt", compression="infer") as f:
    assert f.readline() == "compressed\n"
local = fsspec.filesystem("file")
assert local.ls(tmp, detail=False) == [local._strip_protocol(os.path.join(tmp, "f.txt.gz"))]
files = fsspec.open_files("memory://d/*.txt")
assert len(files) == 1
with fsspec.open("simplecache::memory://d/a.txt", "rb") as f:
    assert f.read() == b"hello wasm"
print("fsspec ok", fsspec.__version__)
