"""zipp's tests need jaraco.itertools and jaraco.functools (not in the channel): walk and read
an in-memory archive through zipp.Path in wasm instead."""
import io
import zipfile

import zipp

buf = io.BytesIO()
with zipfile.ZipFile(buf, "w") as zf:
    zf.writestr("a.txt", "content of a")
    zf.writestr("b/c.txt", "content of c")
    zf.writestr("b/d/e.txt", "content of e")

root = zipp.Path(zipfile.ZipFile(buf))
assert sorted(p.name for p in root.iterdir()) == ["a.txt", "b"], [p.name for p in root.iterdir()]
assert (root / "b" / "c.txt").read_text() == "content of c"
assert (root / "b" / "d").is_dir()
assert [p.name for p in (root / "b" / "d").iterdir()] == ["e.txt"]
print("zipp.Path ok")
