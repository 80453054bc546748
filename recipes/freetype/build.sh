#!/bin/bash
# FreeType as an emscripten side module, compiled in the build root with Pyodide's flags by
# `forge-pyodide-build --run` (no cmake/meson in the root; FreeType documents this plain
# compile in docs/INSTALL.ANY: the base files plus one unity file per module of
# include/freetype/config/ftmodule.h). gzip support uses FreeType's own bundled inflate;
# no png, bzip2, brotli or harfbuzz.
set -euo pipefail
grep -q '#define FREETYPE_MINOR  14' include/freetype/freetype.h
grep -q '#define FREETYPE_PATCH  3' include/freetype/freetype.h
forge-pyodide-build --run -- sh -ec '
  mkdir -p objs/wasm
  for f in src/base/ftsystem.c src/base/ftinit.c src/base/ftdebug.c src/base/ftbase.c \
           src/base/ftbbox.c src/base/ftbdf.c src/base/ftbitmap.c src/base/ftcid.c src/base/ftfstype.c \
           src/base/ftgasp.c src/base/ftglyph.c src/base/ftgxval.c src/base/ftmm.c src/base/ftotval.c \
           src/base/ftpatent.c src/base/ftpfr.c src/base/ftstroke.c src/base/ftsynth.c src/base/fttype1.c \
           src/base/ftwinfnt.c \
           src/autofit/autofit.c src/truetype/truetype.c src/type1/type1.c src/cff/cff.c src/cid/type1cid.c \
           src/pfr/pfr.c src/type42/type42.c src/winfonts/winfnt.c src/pcf/pcf.c src/bdf/bdf.c \
           src/psaux/psaux.c src/psnames/psnames.c src/pshinter/pshinter.c src/sfnt/sfnt.c \
           src/smooth/smooth.c src/raster/raster.c src/sdf/sdf.c src/svg/svg.c \
           src/gzip/ftgzip.c src/lzw/ftlzw.c src/cache/ftcache.c; do
    emcc $CFLAGS -O2 -DFT2_BUILD_LIBRARY -Iinclude -c "$f" -o "objs/wasm/$(basename "$f" .c).o"
  done
  emcc $SIDE_MODULE_LDFLAGS -Wl,-soname,libfreetype.so objs/wasm/*.o -o objs/wasm/libfreetype.so'
mkdir -p "$PREFIX/lib" "$PREFIX/include/freetype2"
cp objs/wasm/libfreetype.so "$PREFIX/lib/"
# pyodide-build's compiler wrapper (pywasmcross) rewrites `-lfreetype` to
# `-lfreetype-legacysjlj`, the name of Emscripten's own FreeType port: answer to that name too.
# The soname stays libfreetype.so, so extensions record that one as needed.
ln -s libfreetype.so "$PREFIX/lib/libfreetype-legacysjlj.so"
cp -r include/ft2build.h include/freetype "$PREFIX/include/freetype2/"
# the libtool version FreeType 2.14.3 reports (builds/unix/configure.raw: version_info 26:6:20),
# which is what pkg-config users such as matplotlib compare against
grep -q "version_info='26:6:20'" builds/unix/configure.raw
forge-pyodide-build --pkgconfig freetype2 --version 26.6.20 \
  --description "A free, high-quality, and portable font engine (emscripten-wasm32 side module)" \
  --libs='-L${libdir} -lfreetype' --cflags='-I${includedir}/freetype2'
