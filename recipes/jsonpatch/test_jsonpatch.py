# the sdist ships no tests: RFC 6902 patches applied, diffed and validated in wasm
import jsonpatch
src = {"a": 1, "b": [1, 2, 3], "c": {"d": "x"}}
patch = jsonpatch.JsonPatch([
    {"op": "add", "path": "/b/1", "value": 9},
    {"op": "remove", "path": "/a"},
    {"op": "replace", "path": "/c/d", "value": "y"},
    {"op": "copy", "from": "/c", "path": "/e"},
    {"op": "move", "from": "/e/d", "path": "/f"},
    {"op": "test", "path": "/f", "value": "y"},
])
dst = patch.apply(src)
assert dst == {"b": [1, 9, 2, 3], "c": {"d": "y"}, "e": {}, "f": "y"}, dst
assert src["a"] == 1  # not in place
dst2 = {"b": [3, 2], "c": {"d": "z"}, "new": True}
diff = jsonpatch.make_patch(src, dst2)
assert diff.apply(src) == dst2
assert jsonpatch.apply_patch(src, diff.to_string()) == dst2
try:
    jsonpatch.apply_patch(src, [{"op": "test", "path": "/a", "value": 2}])
except jsonpatch.JsonPatchTestFailed:
    pass
else:
    raise AssertionError("a failing test op must raise")
print("jsonpatch ok")
