# the sdist ships no tests; pkg-config itself cannot run in wasm (no subprocesses), so the pure
# parts: version comparison, specifier parsing, and the documented EnvironmentError
import pkgconfig
from pkgconfig import pkgconfig as impl
assert impl._compare_versions("1.2.3", "1.2.10") == -1
assert impl._compare_versions("2.0", "2.0") == 0
assert impl._compare_versions("3.1", "3.0.9") == 1
assert impl._split_version_specifier(">= 1.2") == ("1.2", ">=")
try:
    pkgconfig.exists("zlib")
except EnvironmentError as e:
    print("no pkg-config in wasm:", e)
else:
    print("pkg-config answered")
print("pkgconfig ok")
