"""A curated part of pandas' own test suite in python-wasm (the test of `pandas-tests`).

`--rootdir` is the pandas package so pandas/conftest.py (fixtures, markers, hypothesis
profile) loads. Slow, network and single_cpu tests are left out, like pandas' own CI.
"""

import os
import sys

import pandas
import pytest

HERE = os.path.dirname(pandas.__file__)

SELECTED = [
    "tests/frame/test_arithmetic.py",
    "tests/groupby/test_groupby.py",
    "tests/tslibs",
    "tests/reshape/test_pivot.py",
]

# Known wasm failures deselected on top of pandas' own `is_platform_wasm` skips
# (node id relative to the pandas package -> reason).
KNOWN_WASM_FAILURES: dict[str, str] = {
    "tests/tslibs/test_timezones.py::test_zoneinfo_boundary_at_last_cached_transition":
        "imports zoneinfo._zoneinfo (CPython's pure-Python zoneinfo), which Pyodide's stdlib "
        "leaves out; pandas itself uses the copy the recipe vendors (pandas/compat/_pyzoneinfo.py)",
    "tests/tslibs/test_timezones.py::test_zoneinfo_nonexistent_at_last_cached_transition":
        "the same: imports zoneinfo._zoneinfo",
}


def main(argv: list[str]) -> int:
    args = ["-q", "-p", "no:cacheprovider", f"--rootdir={HERE}",
            "-m", "not slow and not network and not single_cpu and not db"]
    for node in KNOWN_WASM_FAILURES:
        args += ["--deselect", node]  # a node id prefix, relative to --rootdir
    return int(pytest.main(args + [os.path.join(HERE, p) for p in SELECTED] + argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
