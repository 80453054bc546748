#!/usr/bin/env bash
# libffi's headers for wasm32-unknown-emscripten, as its configure would write them for that
# host (configure.host: TARGET=wasm32, TARGETDIR=wasm; long double is 128-bit there). No
# library: Pyodide's main module links libffi (for ctypes) and exports ffi_call, ffi_prep_cif,
# ffi_closure_alloc, ... so side modules resolve them at load time; libffi.pc has no -lffi.
set -euo pipefail
mkdir -p "$PREFIX/include"
IFS=. read -r major minor micro <<< "$PKG_VERSION"
number=$(printf '%d%02d%02d' "$major" "$minor" "$micro")  # configure.ac: 3.5.2 -> 30502
sed -e "s/@VERSION@/$PKG_VERSION/" -e "s/@FFI_VERSION_STRING@/$PKG_VERSION/" -e "s/@FFI_VERSION_NUMBER@/$number/" \
    -e 's/@TARGET@/wasm32/' -e 's/@HAVE_LONG_DOUBLE@/1/' -e 's/@FFI_EXEC_TRAMPOLINE_TABLE@/0/' \
    include/ffi.h.in > "$PREFIX/include/ffi.h"
if grep -q '@[A-Z_]*@' "$PREFIX/include/ffi.h"; then
  echo "ffi.h.in has placeholders this script does not fill:" >&2
  grep -n '@[A-Z_]*@' "$PREFIX/include/ffi.h" >&2
  exit 1
fi
cp src/wasm/ffitarget.h "$PREFIX/include/ffitarget.h"
# no Libs: nothing to link (cffi's setup.py takes its -l list from here)
forge-pyodide-build --pkgconfig libffi --version "$PKG_VERSION" --libs "" \
  --description "libffi headers for emscripten-wasm32 (the library is in Pyodide's main module)"
