# the sdist ships no tests: schema validation, round trips and errors in wasm
from strictyaml import Map, Seq, Str, Int, Bool, Datetime, Optional, load, as_document, YAMLValidationError
schema = Map({"name": Str(), "age": Int(), "admin": Bool(), Optional("tags"): Seq(Str()), "born": Datetime()})
doc = load("name: Ada\nage: 36\nadmin: yes\ntags:\n- math\n- engines\nborn: 1815-12-10\n", schema)
assert doc.data["name"] == "Ada" and doc.data["age"] == 36 and doc.data["admin"] is True
assert doc.data["tags"] == ["math", "engines"] and doc.data["born"].year == 1815
doc["age"] = 37
assert "age: 37" in doc.as_yaml()
try:
    load("name: Ada\nage: old\nadmin: no\nborn: 1815-12-10\n", schema)
except YAMLValidationError as e:
    assert "found arbitrary text" in str(e) or "integer" in str(e), e
else:
    raise AssertionError("validation error expected")
out = as_document({"a": 1, "b": ["x", "y"]}).as_yaml()
assert load(out).data == {"a": "1", "b": ["x", "y"]}
print("strictyaml ok")
