"""The Pyodide ABI this forge targets. One place, so build metadata, the cross
environment and the tests agree on the same numbers."""

from __future__ import annotations

PYODIDE_VERSION = "314.0.7"
PYTHON_VERSION = "3.14.2"
PYTHON_XY = "3.14"
EMSCRIPTEN_VERSION = "5.0.3"  # what Pyodide itself was built with
PYODIDE_ABI_VERSION = "2026_0"
PLATFORM_TAG = f"pyemscripten_{PYODIDE_ABI_VERSION}_wasm32"
EXT_SUFFIX = ".cpython-314-wasm32-emscripten.so"

# Pyodide's flags: side modules built with these load in its main module.
CFLAGS = ("-O2", "-g0", "-fPIC", "-fwasm-exceptions", "-sSUPPORT_LONGJMP=wasm")
LDFLAGS = ("-sSIDE_MODULE=1", "-sWASM_BIGINT", "-fwasm-exceptions", "-sSUPPORT_LONGJMP=wasm")
