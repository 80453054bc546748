# the sdist ships no tests: RFC 6901 resolution, escaping, setting and errors in wasm
import jsonpointer
from jsonpointer import JsonPointer, resolve_pointer, set_pointer, JsonPointerException
doc = {"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8}
assert resolve_pointer(doc, "") == doc
assert resolve_pointer(doc, "/foo") == ["bar", "baz"]
assert resolve_pointer(doc, "/foo/0") == "bar"
assert resolve_pointer(doc, "/") == 0
assert resolve_pointer(doc, "/a~1b") == 1
assert resolve_pointer(doc, "/m~0n") == 8
assert resolve_pointer(doc, "/nope", None) is None
p = JsonPointer("/foo/1")
assert p.parts == ["foo", "1"] and p.resolve(doc) == "baz"
assert JsonPointer.from_parts(["a/b", "m~n"]).path == "/a~1b/m~0n"
set_pointer(doc, "/foo/-", "qux")
assert doc["foo"][-1] == "qux"
try:
    resolve_pointer(doc, "/foo/7")
except JsonPointerException:
    pass
else:
    raise AssertionError("out of range must raise")
print("jsonpointer ok", jsonpointer.__version__)
