#!/bin/bash
# zlib for emscripten-wasm32 extensions: headers only. Pyodide's main module (pyodide.asm.wasm)
# already contains zlib 1.3.1 and exports its whole API (deflate, inflate, crc32, gz*, ...), and
# a side module's undefined symbols are resolved against the main module when it is loaded.
# A second copy in a libz.so side module would only add weight, so `-lz` resolves to an empty
# archive: build systems that insist on finding a library (Pillow's setup.py) find one, and the
# zlib calls stay imports that the main module satisfies.
set -euo pipefail
grep -q '#define ZLIB_VERSION "1.3.2"' zlib.h
mkdir -p "$PREFIX/lib" "$PREFIX/include"
cp zlib.h zconf.h "$PREFIX/include/"
printf '!<arch>\n' > "$PREFIX/lib/libz.a"
forge-pyodide-build --pkgconfig zlib --version "$PKG_VERSION" \
  --description "zlib compression library (headers; the code is in Pyodide's main module)" \
  --libs='-L${libdir} -lz'
