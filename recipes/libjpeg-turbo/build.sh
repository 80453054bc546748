#!/bin/bash
# libjpeg-turbo as an emscripten side module (libjpeg.so, the libjpeg 6b API), compiled in the
# build root with Pyodide's flags by `forge-pyodide-build --run`. The build root has no cmake,
# so this does what CMakeLists.txt does for ENABLE_SHARED with WITH_SIMD=0 (no SIMD on wasm32),
# WITH_ARITH_ENC/DEC=1 and the default JPEG_LIB_VERSION 62: configure_file() of the three
# headers (below, with the values CMake's checks find for wasm32) and the JPEG_SOURCES list
# (src/wrapper/*-{8,12,16}.c are the 8/12/16-bit sample builds). No TurboJPEG API, no tools.
set -euo pipefail
grep -q '^set(VERSION 3.1.3)' CMakeLists.txt
grep -q '^set(COPYRIGHT_YEAR "1991-2025")' CMakeLists.txt
mkdir -p objs/wasm
# CMake's configure_file: @VAR@ substitution, then #cmakedefine VAR -> #define VAR / #undef VAR
configure() {  # configure IN OUT
  sed -e 's|@JPEG_LIB_VERSION@|62|; s|@VERSION@|3.1.3|; s|@LIBJPEG_TURBO_VERSION_NUMBER@|3001003|' \
      -e 's|@BUILD@|forge|; s|@HIDDEN@|__attribute__((visibility("hidden")))|' \
      -e 's|@INLINE@|__inline__ __attribute__((always_inline))|; s|@THREAD_LOCAL@|__thread|' \
      -e 's|@CMAKE_PROJECT_NAME@|libjpeg-turbo|; s|@SIZE_T@|4|; s|@COPYRIGHT_YEAR@|1991-2025|' \
      -e 's,^#cmakedefine \(C_ARITH_CODING_SUPPORTED\|D_ARITH_CODING_SUPPORTED\|HAVE_BUILTIN_CTZL\)\b,#define \1,' \
      -e 's,^#cmakedefine \([A-Z_0-9]*\).*,#undef \1,' "$1" > "$2"
  if grep -q '@[A-Z_]*@' "$2"; then echo "unsubstituted variables in $2" >&2; exit 1; fi
}
configure src/jconfig.h.in objs/wasm/jconfig.h
configure src/jconfigint.h.in objs/wasm/jconfigint.h
configure src/jversion.h.in objs/wasm/jversion.h
# JPEG_SOURCES of CMakeLists.txt (the same list, with the arithmetic coder's three files)
sources=$(sed -n '/^set(JPEG_SOURCES src\/jcapimin.c/,/)$/p' CMakeLists.txt | tr -d '()' | sed 's/^setJPEG_SOURCES//')
sources="$sources src/jaricom.c src/jcarith.c src/jdarith.c"
test "$(echo $sources | wc -w)" -gt 90
echo $sources > objs/wasm/sources.txt  # `--run` passes only its own environment on
forge-pyodide-build --run -- sh -ec '
  for f in $(cat objs/wasm/sources.txt); do
    emcc $CFLAGS -O2 -Iobjs/wasm -Isrc -c "$f" -o "objs/wasm/$(basename "$f" .c).o"
  done
  emcc $SIDE_MODULE_LDFLAGS -Wl,-soname,libjpeg.so objs/wasm/*.o -o objs/wasm/libjpeg.so'
mkdir -p "$PREFIX/lib" "$PREFIX/include"
cp objs/wasm/libjpeg.so "$PREFIX/lib/"
cp objs/wasm/jconfig.h src/jerror.h src/jmorecfg.h src/jpeglib.h "$PREFIX/include/"
forge-pyodide-build --pkgconfig libjpeg --version 3.1.3 \
  --description "A SIMD-accelerated JPEG codec that provides the libjpeg API (emscripten-wasm32 side module, no SIMD)" \
  --libs='-L${libdir} -ljpeg'
