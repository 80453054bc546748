# the sdist's tests need unittest2: deprecated and removed-in versions, warnings and docstrings in wasm
import warnings
import deprecation

@deprecation.deprecated(deprecated_in="1.0", removed_in="2.0", current_version="1.5", details="use g")
def f() -> int:
    """Do f."""
    return 1

with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    assert f() == 1
assert len(w) == 1 and issubclass(w[0].category, deprecation.DeprecatedWarning)
assert "use g" in str(w[0].message) and "deprecated" in f.__doc__.lower()

@deprecation.deprecated(deprecated_in="1.0", removed_in="2.0", current_version="2.1")
def gone() -> int:
    return 2

with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    gone()
assert issubclass(w[0].category, deprecation.UnsupportedWarning)

@deprecation.fail_if_not_removed
def test_gone() -> None:
    gone()
try:
    test_gone()
except AssertionError:
    pass
else:
    raise AssertionError("fail_if_not_removed must fail")
print("deprecation ok")
