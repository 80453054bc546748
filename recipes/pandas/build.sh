#!/usr/bin/env bash
# Both outputs run this; forge-pyodide-build compiles once per job and reuses the wheel.
set -euo pipefail
# pandas reads the internals of CPython's pure-Python zoneinfo (zoneinfo._zoneinfo), which
# Pyodide's stdlib leaves out: vendor the build root's CPython 3.14 copy (PSF-2.0) as
# pandas/compat/_pyzoneinfo.py (the patch makes pandas fall back to it; meson installs compat/ whole)
root=$(python -c "from forge.toolchain import default_root_dir; print(default_root_dir())")
sed -e 's/^from \. import _common, _tzpath$/from zoneinfo import _common, _tzpath/' \
    "$root/usr/lib/python3.14/zoneinfo/_zoneinfo.py" > pandas/compat/_pyzoneinfo.py
grep -q "^from zoneinfo import _common, _tzpath$" pandas/compat/_pyzoneinfo.py
forge-pyodide-build
