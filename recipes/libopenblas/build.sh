#!/bin/bash
# One side module, lib/libopenblas.so: OpenBLAS's BLAS and CBLAS (WASM128_GENERIC kernels, wasm SIMD)
# and LAPACK 3.12.1 through forge-f77's route (f2c, gfortran's ABI, emcc; build_lapack.py), with
# libf2c linked in statically. Compiled in the build root with Pyodide's flags by
# `forge-pyodide-build --run`. Sources (recipe.yaml): openblas/, lapack/, libflame/.
set -euo pipefail
grep -q '^VERSION = 0.3.34$' openblas/Makefile.rule
test -f lapack/SRC/dgeqp3rk.f   # LAPACK 3.12 (3.12.1's ilaver and CMakeLists.txt still say 3.12.0)
test -f libflame/src/map/lapack2flamec/f2c/c/dgebal.c

# gfortran's ABI for XERBLA, as LAPACK (and every other caller compiled by forge-f77) declares it:
# a subroutine, void. OpenBLAS makes it return int; wasm-ld would then replace one side of every
# call with a trap ("function signature mismatch: xerbla_").
sed -i 's/^int    BLASFUNC(xerbla)(char \*, blasint \*info, blasint);/void   BLASFUNC(xerbla)(char *, blasint *info, blasint);/' \
  openblas/common_interface.h
sed -i -e 's/^int __xerbla(/void __xerbla(/' -e 's/^int BLASFUNC(xerbla)(/void BLASFUNC(xerbla)(/' \
  -e 's/^  return openblas_xerbla_dispatch(message, info, length);/  openblas_xerbla_dispatch(message, info, length);/' \
  openblas/driver/others/xerbla.c
grep -q '^void   BLASFUNC(xerbla)' openblas/common_interface.h
test "$(grep -c '^void BLASFUNC(xerbla)(char \*message' openblas/driver/others/xerbla.c)" = 1
! grep -q 'return openblas_xerbla_dispatch' openblas/driver/others/xerbla.c

forge-f77 --launcher "$SRC_DIR/f77" >/dev/null   # forge-f77's translate() for build_lapack.py
cp "$RECIPE_DIR/build_lapack.py" "$RECIPE_DIR/lapack_install.c" "$RECIPE_DIR/cblas_check.c" .
forge-pyodide-build --run -- sh -ec '
  # BLAS + CBLAS only (the orig tarball has no lapack-netlib/); -j2: a shared 2-core machine
  t=$(date +%s)
  make -C openblas -j2 libs CC=emcc HOSTCC=clang-21 AR=emar RANLIB=emranlib TARGET=WASM128_GENERIC \
    NOFORTRAN=1 NO_LAPACK=1 NO_LAPACKE=1 USE_THREAD=0 NO_SHARED=1 BINARY=32 COMMON_OPT="$CFLAGS" > openblas-make.log 2>&1 \
    || { tail -40 openblas-make.log; exit 1; }
  make -C openblas install PREFIX="$SRC_DIR/stage" CC=emcc HOSTCC=clang-21 AR=emar RANLIB=emranlib \
    TARGET=WASM128_GENERIC NOFORTRAN=1 NO_LAPACK=1 NO_LAPACKE=1 USE_THREAD=0 NO_SHARED=1 BINARY=32 > /dev/null
  echo "OpenBLAS (BLAS, CBLAS): $(( $(date +%s) - t )) s"; t=$(date +%s)
  python3.14 build_lapack.py --lapack lapack --flame libflame/src/map/lapack2flamec/f2c --f77 f77 \
    --extra-c lapack_install.c --out lapack-build -j 2
  echo "LAPACK (f2c + emcc): $(( $(date +%s) - t )) s"; t=$(date +%s)
  # OpenBLAS c_abs returns float, libf2c (and f2c'"'"'d code) double: take libf2c'"'"'s (z_abs agrees; same source)
  cp openblas/libopenblas_wasm128-r0.3.34.a blas.a
  emar d blas.a c_abs.o z_abs.o
  emcc $SIDE_MODULE_LDFLAGS -Wl,-soname,libopenblas.so -o libopenblas.so \
    -Wl,--whole-archive blas.a -Wl,--no-whole-archive @lapack-build/objects.txt -L"$PREFIX/lib" -lf2c 2> link.log \
    || { cat link.log; exit 1; }
  if grep -A2 "signature mismatch" link.log; then echo "libopenblas.so: calls whose signature disagrees (above)"; exit 1; fi
  echo "link: $(( $(date +%s) - t )) s"
  # a C caller links against it as a package would (headers, -lopenblas): no disagreeing signature
  emcc $CFLAGS -I"$SRC_DIR/stage/include" -c cblas_check.c -o cblas_check.o
  emcc $SIDE_MODULE_LDFLAGS -o cblas_check.so cblas_check.o -L. -lopenblas 2> check-link.log \
    || { cat check-link.log; exit 1; }
  if grep -A2 "signature mismatch" check-link.log; then exit 1; fi
'
cat lapack-build/summary.txt
mkdir -p "$PREFIX/lib" "$PREFIX/include" "$PREFIX/share/libopenblas"
cp libopenblas.so "$PREFIX/lib/"
for name in blas cblas lapack; do ln -s libopenblas.so "$PREFIX/lib/lib$name.so"; done
cp stage/include/cblas.h stage/include/f77blas.h stage/include/openblas_config.h "$PREFIX/include/"
cp lapack-build/omitted.txt "$PREFIX/share/libopenblas/lapack-omitted.txt"
cp lapack-build/summary.txt "$PREFIX/share/libopenblas/lapack-summary.txt"
desc="OpenBLAS BLAS/CBLAS and LAPACK 3.12.1 (emscripten-wasm32 side module)"
forge-pyodide-build --pkgconfig openblas --version "$PKG_VERSION" --description "$desc" --libs='-L${libdir} -lopenblas'
for name in blas cblas lapack; do
  forge-pyodide-build --pkgconfig "$name" --version "$PKG_VERSION" --description "$name: $desc" \
    --libs='-L${libdir} -lopenblas'
done
