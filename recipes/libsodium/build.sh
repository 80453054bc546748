#!/bin/bash
# libsodium as an emscripten side module: its own configure for the wasm32-unknown-emscripten
# host with the target's compilers and flags (`forge-pyodide-build --run`), the options of its
# dist-build/emscripten.sh (no threads, no stack protector, no assembly), a static build, then
# the archive linked whole into one side module.
set -euo pipefail
forge-pyodide-build --run -- sh -ec '
  ./configure --host=wasm32-unknown-emscripten --prefix="$PWD/_install" --disable-shared --enable-static \
    --without-pthreads --disable-ssp --disable-asm --disable-pie --disable-dependency-tracking
  make -j2
  make install
  emcc $SIDE_MODULE_LDFLAGS -Wl,-soname,libsodium.so -Wl,--whole-archive _install/lib/libsodium.a \
    -Wl,--no-whole-archive -o _install/lib/libsodium.so'
mkdir -p "$PREFIX/lib" "$PREFIX/include"
cp _install/lib/libsodium.so "$PREFIX/lib/"
cp -r _install/include/sodium.h _install/include/sodium "$PREFIX/include/"
forge-pyodide-build --pkgconfig libsodium --version "$PKG_VERSION" \
  --description "A modern and easy-to-use crypto library (emscripten-wasm32 side module)" \
  --libs='-L${libdir} -lsodium'
