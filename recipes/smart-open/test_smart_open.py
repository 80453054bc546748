# the sdist ships no tests: local files through smart_open with transparent compression
# (gzip, bz2, xz), text and binary modes, line iteration and seeking in wasm
import os
import tempfile
import smart_open
from smart_open import open as sopen
d = tempfile.mkdtemp()
for ext in ("txt", "gz", "bz2", "xz"):
    p = os.path.join(d, "f." + ext)
    with sopen(p, "w", encoding="utf-8") as f:
        for i in range(1000):
            f.write(f"line {i} é\n")
    with sopen(p, encoding="utf-8") as f:
        lines = list(f)
    assert len(lines) == 1000 and lines[-1] == "line 999 é\n", ext
    if ext != "txt":
        raw = open(p, "rb").read(3)
        assert raw[:2] in (b"\x1f\x8b", b"BZ", b"\xfd7"), (ext, raw)
with sopen(os.path.join(d, "f.gz"), "rb", compression="disable") as f:
    assert f.read(2) == b"\x1f\x8b"
with sopen("file://" + os.path.join(d, "f.txt"), "rb") as f:
    f.seek(5)
    assert f.read(3) == b"0 \xc3"
print("smart_open ok", smart_open.__version__)
