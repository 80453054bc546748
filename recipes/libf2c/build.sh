#!/bin/bash
# libf2c as a static archive of wasm objects, compiled in the build root with Pyodide's flags by
# `forge-pyodide-build --run` (position-independent: they end up in side modules). The members are
# makefile.u's OFILES without main.o (f2c'd code in a side module is called, never started as a
# program) and getarg_.o/iargc_.o (they read main's argv). libgfortran.a is the same archive under
# the name meson links when a C or C++ linker links Fortran objects (it takes forge-f77 for gfortran).
set -euo pipefail
grep -q 'LIBF77 VERSION' f77vers.c
# What arithchk.c prints for wasm32 (`emcc -DNO_FPINIT arithchk.c -lm`, run under node): a cross
# build cannot run it, and these facts do not change (IEEE little-endian doubles, 8-byte aligned).
cat > arith.h <<'EOF'
#define IEEE_8087
#define Arith_Kind_ASL 1
#define Double_Align
#define QNaN0 0x0
#define QNaN1 0x7ff80000
EOF
for h in f2c signal1 sysdep1 fio; do cp "$h.h0" "$h.h"; done
objs=$(printf 'forge-objs:\n\t@echo $(OFILES)\n' | make -s -f makefile.u -f - forge-objs \
       | tr ' ' '\n' | grep -v -x -e main.o -e getarg_.o -e iargc_.o | tr '\n' ' ')
test "$(echo $objs | wc -w)" -gt 140
forge-pyodide-build --env "F2C_OBJS=$objs" --run -- sh -ec '
  printf "%s\n" $F2C_OBJS | xargs -P 2 -I OBJ sh -ec "emcc \$CFLAGS -w -DSkip_f2c_Undefs -DIEEE_COMPLEX_DIVIDE -c \$(basename OBJ .o).c -o OBJ"
  rm -f libf2c.a
  emar rcs libf2c.a $F2C_OBJS'
mkdir -p "$PREFIX/lib" "$PREFIX/include"
cp libf2c.a "$PREFIX/lib/"
ln -s libf2c.a "$PREFIX/lib/libgfortran.a"
cp f2c.h "$PREFIX/include/"
forge-pyodide-build --pkgconfig f2c --version "$PKG_VERSION" \
  --description "f2c's Fortran 77 runtime (static archive for emscripten-wasm32)" \
  --libs='-L${libdir} -lf2c'
