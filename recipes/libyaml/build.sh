#!/bin/bash
# LibYAML as an emscripten side module, compiled in the build root with Pyodide's flags by
# `forge-pyodide-build --run` (no autotools run: the eight files of src/ with the version
# macros configure.ac would put in config.h). Upstream's C test programs are not built: linking
# a wasm executable makes Emscripten compile its non-PIC libc first (~6 min on a fresh root);
# recipes/pyyaml's test suite exercises this library through _yaml instead.
set -euo pipefail
grep -q 'm4_define(\[YAML_MAJOR\], 0)' configure.ac
grep -q 'm4_define(\[YAML_MINOR\], 2)' configure.ac
grep -q 'm4_define(\[YAML_PATCH\], 5)' configure.ac
forge-pyodide-build --run -- sh -ec '
  DEFS="-DYAML_VERSION_MAJOR=0 -DYAML_VERSION_MINOR=2 -DYAML_VERSION_PATCH=5 -DYAML_VERSION_STRING=\"0.2.5\""
  mkdir -p objs/wasm
  for f in src/*.c; do
    emcc $CFLAGS -O2 $DEFS -Iinclude -c "$f" -o "objs/wasm/$(basename "$f" .c).o"
  done
  emcc $SIDE_MODULE_LDFLAGS -Wl,-soname,libyaml-0.so objs/wasm/*.o -o objs/wasm/libyaml.so'
mkdir -p "$PREFIX/lib" "$PREFIX/include"
cp objs/wasm/libyaml.so "$PREFIX/lib/libyaml-0.so"
# the soname is libyaml-0.so (libtool's name on Linux is libyaml-0.so.2); -lyaml finds libyaml.so
ln -s libyaml-0.so "$PREFIX/lib/libyaml.so"
cp include/yaml.h "$PREFIX/include/"
forge-pyodide-build --pkgconfig yaml-0.1 --version 0.2.5 \
  --description "Library to parse and emit YAML (emscripten-wasm32 side module)" \
  --libs='-L${libdir} -lyaml'
