#!/bin/bash
# libpng 1.6 as an emscripten side module (libpng16.so), compiled in the build root with
# Pyodide's flags by `forge-pyodide-build --run`: the OBJS of scripts/makefile.std with the
# default configuration libpng ships (scripts/pnglibconf.h.prebuilt), no hardware filter code
# (none exists for wasm32). Its zlib calls are imports that Pyodide's main module satisfies
# (recipes/zlib ships the headers).
set -euo pipefail
grep -q '#define PNG_LIBPNG_VER_STRING "1.6.58"' png.h
cp scripts/pnglibconf.h.prebuilt pnglibconf.h
forge-pyodide-build --run -- sh -ec '
  mkdir -p objs/wasm
  for f in png pngerror pngget pngmem pngpread pngread pngrio pngrtran pngrutil pngset \
           pngtrans pngwio pngwrite pngwtran pngwutil; do
    emcc $CFLAGS -O2 -I. -I"$PREFIX/include" -c "$f.c" -o "objs/wasm/$f.o"
  done
  emcc $SIDE_MODULE_LDFLAGS -Wl,-soname,libpng16.so objs/wasm/*.o -o objs/wasm/libpng16.so'
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include/libpng16"
cp objs/wasm/libpng16.so "$PREFIX/lib/"
# -lpng finds libpng16.so; pyodide-build's compiler wrapper (pywasmcross) rewrites `-lpng` to
# `-lpng-legacysjlj`, the name of Emscripten's own libpng port: answer to that name too
ln -s libpng16.so "$PREFIX/lib/libpng.so"
ln -s libpng16.so "$PREFIX/lib/libpng-legacysjlj.so"
cp png.h pngconf.h pnglibconf.h "$PREFIX/include/libpng16/"
for h in png.h pngconf.h pnglibconf.h; do ln -s "libpng16/$h" "$PREFIX/include/$h"; done
forge-pyodide-build --pkgconfig libpng16 --version "$PKG_VERSION" \
  --description "Loads and saves PNG files (emscripten-wasm32 side module)" \
  --libs='-L${libdir} -lpng16' --cflags='-I${includedir}/libpng16' --requires-private zlib
ln -s libpng16.pc "$PREFIX/lib/pkgconfig/libpng.pc"
