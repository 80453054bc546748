#!/bin/bash
# libqhull_r (the reentrant Qhull library) as an emscripten side module, compiled in the build
# root with Pyodide's flags by `forge-pyodide-build --run`: the objects of libqhullstatic_r
# (src/libqhull_r/Makefile's LIBQHULLS_OBJS) linked as one shared library.
set -euo pipefail
grep -q 'qhull_r 8.0.2' src/libqhull_r/global_r.c
forge-pyodide-build --run -- sh -ec '
  cd src/libqhull_r
  for f in global_r stat_r geom2_r poly2_r merge_r libqhull_r geom_r poly_r qset_r mem_r random_r \
           usermem_r userprintf_r io_r user_r rboxlib_r userprintf_rbox_r; do
    emcc $CFLAGS -O2 -c $f.c -o $f.o
  done
  emcc $SIDE_MODULE_LDFLAGS -Wl,-soname,libqhull_r.so *.o -o libqhull_r.so'
mkdir -p "$PREFIX/lib" "$PREFIX/include/libqhull_r"
cp src/libqhull_r/libqhull_r.so "$PREFIX/lib/"
cp src/libqhull_r/*.h "$PREFIX/include/libqhull_r/"
forge-pyodide-build --pkgconfig qhull_r --version 8.0.2 \
  --description "Qhull reentrant library (emscripten-wasm32 side module)" \
  --libs='-L${libdir} -lqhull_r'
