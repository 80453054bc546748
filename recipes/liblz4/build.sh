#!/bin/bash
# liblz4 as an emscripten side module: compiled and linked in the build root with Pyodide's
# flags by `forge-pyodide-build --run` ($CFLAGS, $SIDE_MODULE_LDFLAGS are the target's).
set -euo pipefail
grep -q 'LZ4_VERSION_MINOR    9' lz4libs/lz4.h && grep -q 'LZ4_VERSION_RELEASE  4' lz4libs/lz4.h
forge-pyodide-build --run -- sh -ec '
  cd lz4libs
  for f in lz4 lz4hc lz4frame xxhash; do emcc $CFLAGS -c $f.c -o $f.o; done
  emcc $SIDE_MODULE_LDFLAGS -Wl,-soname,liblz4.so lz4.o lz4hc.o lz4frame.o xxhash.o -o liblz4.so'
mkdir -p "$PREFIX/lib" "$PREFIX/include"
cp lz4libs/liblz4.so "$PREFIX/lib/"
cp lz4libs/lz4.h lz4libs/lz4hc.h lz4libs/lz4frame.h lz4libs/lz4frame_static.h lz4libs/xxhash.h "$PREFIX/include/"
forge-pyodide-build --pkgconfig liblz4 --version "$PKG_VERSION" \
  --description "LZ4 compression library (emscripten-wasm32 side module)" \
  --libs='-L${libdir} -llz4'
