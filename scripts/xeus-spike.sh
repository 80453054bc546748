#!/usr/bin/env bash
# xeus-python spike (issue 22, item 2): how far a xeus-python kernel for jupyterlite-xeus gets
# with Debian sources and the build root's emscripten 6.0.5. Measured record: docs/lite.md,
# "xeus-python spike". Scratch only: nothing here touches the channel, the recipes or the root.
#
#   bash scripts/xeus-spike.sh [STEP...]     steps: fetch native zlib cross smoke probe lite
#
# WORK (default /tmp/xeus) holds everything: private apt lists, sources, .debs, builds, and a
# private emscripten cache (EM_CACHE=$WORK/emcache: the shared root's /var/cache/emscripten is
# not written). Every build is `nice -n 15`, make -j2 at most. Runs as root on the host; the
# compilers run in the build root through `forge toolchain run`.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${WORK:-/tmp/xeus}"
VENV="${VENV:-$HERE/.venv}"   # the forge's venv (in a git worktree: VENV=<main checkout>/.venv)
FORGE="$VENV/bin/python -m forge"
ROOT="${FORGE_BUILDROOT:-$HOME/.cache/wasm-forge/buildroot}"
PYV=3.13.15
PYSRC="$WORK/Python-$PYV"
mkdir -p "$WORK"
cd "$WORK"

t0=0
tick() { t0=$(date +%s.%N); echo "== $*"; }
tock() { printf '   %.1f s\n' "$(echo "$(date +%s.%N) - $t0" | bc)"; }
inroot() { $FORGE toolchain run --bind "$WORK" -e EM_CACHE="$WORK/emcache" -- "$@"; }

apt_opts() {
  # a private apt view of the archive the build root uses (its sources.list, read now:
  # no mirror is written here), as forge/sources.py does for recipes' orig tarballs
  local uri
  uri=$(awk '/^deb /{print $2; exit}' "$ROOT/etc/apt/sources.list")
  mkdir -p apt/lists/partial apt/archives/partial
  touch apt/status
  printf 'deb-src %s sid main\ndeb [arch=amd64] %s sid main\n' "$uri" "$uri" > apt/sources.list
  echo "-o Dir::Etc::SourceList=$WORK/apt/sources.list -o Dir::Etc::SourceParts=/dev/null" \
       "-o Dir::State::Lists=$WORK/apt/lists -o Dir::Cache=$WORK/apt -o Dir::State::status=$WORK/apt/status" \
       "-o APT::Sandbox::User=root -o Debug::NoLocking=1 -o Acquire::Check-Valid-Until=false -q"
}

orig_sha() {  # sha256 the Sources index lists for FILE of source package PKG
  apt-cache $(apt_opts) showsrc "$1" | awk -v f="$2" '/^Checksums-Sha256/{s=1;next} /^[A-Z]/{s=0} s&&$3==f{print $1; exit}'
}

step_fetch() {
  local O; O=$(apt_opts)
  tick "apt-get update (private lists)"; apt-get $O update >/dev/null; tock
  mkdir -p src debs
  tick "apt-get source --download-only python3.13=$PYV-1 zlib nlohmann-json3 pybind11-json"
  (cd src && for s in python3.13=$PYV-1 zlib nlohmann-json3 pybind11-json; do apt-get $O source --download-only "$s" >/dev/null 2>&1 || true; done)
  tock
  for f in "python3.13_$PYV.orig.tar.xz:python3.13" "zlib_1.3.dfsg+really1.3.2.orig.tar.gz:zlib"; do
    local file=${f%%:*} pkg=${f##*:} want have
    want=$(orig_sha "$pkg" "$file"); have=$(sha256sum "src/$file" | cut -d' ' -f1)
    [ "$want" = "$have" ] || { echo "sha256 mismatch for $file: index $want, file $have"; exit 1; }
    echo "   $file sha256 $have = Sources index"
  done
  tick "apt-get download: header-only -dev debs, xeus-dev, cmake and its libraries"
  (cd debs && apt-get $O download xtl-dev pybind11-dev pybind11-json-dev nlohmann-json3-dev xeus-dev \
      python3-xeus-python-shell cmake cmake-data libarchive13t64 librhash1 libjsoncpp26 >/dev/null)
  tock
  rm -rf hdr cmake-root; mkdir -p hdr cmake-root
  for d in debs/xtl-dev_* debs/pybind11-dev_* debs/pybind11-json-dev_* debs/nlohmann-json3-dev_* debs/xeus-dev_*; do dpkg-deb -x "$d" hdr; done
  for d in debs/cmake_* debs/cmake-data_* debs/libarchive13t64_* debs/librhash1_* debs/libjsoncpp26_*; do dpkg-deb -x "$d" cmake-root; done
  [ -d "$PYSRC" ] || tar xf "src/python3.13_$PYV.orig.tar.xz"
}

step_probe() {  # the sources the spike needs but cannot get (record the exact errors)
  local O; O=$(apt_opts)
  mkdir -p probe
  for s in xeus=6.0.6-1 xtl pybind11=3.1.0-2 xeus-python; do
    echo "== apt-get source --download-only $s"
    (cd probe && apt-get $O source --download-only "$s" 2>&1 | grep -E '^E:' | sed -E 's#https?://[^ ]*/pool/#<archive>/pool/#' || true)
  done
  for p in xeus-python==0.18.1 xeus xtl; do
    echo "== pip download --no-deps --no-binary :all: $p"
    "$VENV/bin/pip" download -q --no-deps --no-binary :all: -d probe "$p" 2>&1 | grep -E '^ERROR' | head -1 || true
  done
  for p in xeus-lite xeus-python @jupyterlite/xeus; do
    echo "== npm view $p version"; npm view "$p" version 2>&1 | grep -E '^[0-9]|E404' | head -1 || true
  done
}

step_native() {  # the build Python (same 3.13.15), inside the root with its gcc
  mkdir -p "$PYSRC/builddir/build"
  tick "native build python: configure -C && make -j2"
  inroot bash -c "cd $PYSRC/builddir/build && nice -n 15 ../../configure -C >configure.log 2>&1 && nice -n 15 make -j2 >make.log 2>&1"
  tock
}

step_zlib() {  # emscripten ports are downloaded at build time: zlib from Debian's orig tarball
  rm -rf zlib-src; mkdir -p zlib-src prefix/lib prefix/include
  tar xf src/zlib_1.3.dfsg+really1.3.2.orig.tar.gz -C zlib-src --strip-components=1
  tick "zlib 1.3.2: emcc -fPIC, 15 files, emar"
  inroot bash -c "cd $WORK/zlib-src && for f in adler32 compress crc32 deflate gzclose gzlib gzread gzwrite infback inffast inflate inftrees trees uncompr zutil; do nice -n 15 emcc -O2 -fPIC -DZ_HAVE_UNISTD_H -DHAVE_UNISTD_H -c \$f.c -o \$f.o; done; emar rcs $WORK/prefix/lib/libz.a *.o; cp zlib.h zconf.h $WORK/prefix/include/"
  tock
}

step_cross() {  # CPython 3.13 for wasm32-emscripten (node flavour, dynamic linking, no pthreads)
  mkdir -p "$PYSRC/builddir/emscripten-node-dl"
  cat > cross-build.sh <<EOF
set -e
cd $PYSRC/builddir/emscripten-node-dl
export CONFIG_SITE=../../Tools/wasm/config.site-wasm32-emscripten
export ZLIB_CFLAGS="-I$WORK/prefix/include" ZLIB_LIBS="-L$WORK/prefix/lib -lz"
export BZIP2_CFLAGS="-DNO_BZIP2_PORT" BZIP2_LIBS=" " LIBSQLITE3_CFLAGS="-DNO_SQLITE3_PORT" LIBSQLITE3_LIBS=" "
export py_cv_module__bz2=n/a py_cv_module__sqlite3=n/a
nice -n 15 emconfigure ../../configure -C --host=wasm32-unknown-emscripten --build=x86_64-pc-linux-gnu \\
  --with-emscripten-target=node --enable-wasm-dynamic-linking --disable-wasm-pthreads \\
  --with-build-python=$PYSRC/builddir/build/python --prefix=$WORK/py313 > configure.log 2>&1
# zlib is named by both the zlib and the binascii module: -lz twice on python.js's link line,
# and a MAIN_MODULE link takes every archive whole: "duplicate symbol: deflateInit_". Once is enough.
sed -i 's/^MODULE_BINASCII_LDFLAGS=.*/MODULE_BINASCII_LDFLAGS=/' Makefile
nice -n 15 emmake make -j2 > make.log 2>&1
nice -n 15 emmake make install > install.log 2>&1
# emscripten 6.0.5's NODERAWFS fstat() reads stream.node.node_ops, but NODERAWFS streams of real
# files have no node: "TypeError: Cannot read properties of undefined (reading 'node_ops')" at
# start-up. Patched in the generated JS (one occurrence).
sed -i 's/stream\.node\.node_ops?\.getattr/stream.node?.node_ops?.getattr/g' python.js
EOF
  tick "cross build: emconfigure + emmake make -j2 + make install"
  inroot bash "$WORK/cross-build.sh"
  tock
  inroot bash -c "node $PYSRC/builddir/emscripten-node-dl/python.js -c \"import sys, zlib; print(sys.version, sys.platform, zlib.ZLIB_RUNTIME_VERSION)\" < /dev/null"
}

step_smoke() {  # xpython-shaped main module: pybind11 embed + pybind11_json + xtl + xeus headers
  mkdir -p embed
  cp "$HERE/scripts/xeus-spike/main.cpp" "$HERE/scripts/xeus-spike/CMakeLists.txt" embed/
  local libs; libs=$(cd "$PYSRC/builddir/emscripten-node-dl" && echo "$WORK/py313/lib/libpython3.13.a" \
      $(ls "$PWD"/Modules/_decimal/libmpdec/libmpdec.a "$PWD"/Modules/expat/libexpat.a "$PWD"/Modules/_hacl/libHacl_*.a 2>/dev/null) \
      "$WORK/prefix/lib/libz.a" | tr ' ' ';')
  tick "cmake (Debian's 4.3.4 from its .deb) configure + build"
  inroot bash -c "export LD_LIBRARY_PATH=$WORK/cmake-root/usr/lib/x86_64-linux-gnu CMAKE_ROOT=$WORK/cmake-root/usr/share/cmake-4.3; cd $WORK/embed && rm -rf build && \
    nice -n 15 emcmake $WORK/cmake-root/usr/bin/cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=$WORK/hdr/usr \
      -DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=BOTH -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=BOTH -DPYBIND11_NOPYTHON=ON \
      -DXEUS_INCLUDE=$WORK/hdr/usr/include -DPY_INCLUDE=$WORK/py313/include/python3.13 '-DPY_LIBS=$libs' > cmake-configure.log && \
    nice -n 15 $WORK/cmake-root/usr/bin/cmake --build build -j2 > cmake-build.log"
  tock
  sed -i 's/stream\.node\.node_ops?\.getattr/stream.node?.node_ops?.getattr/g' embed/build/xpython_smoke.js  # as for python.js
  inroot bash -c "node $WORK/embed/build/xpython_smoke.js < /dev/null"
}

step_lite() {  # jupyterlite-xeus 5.1.0 (+ empack 6.0.1) on a prefix that has no kernel
  [ -x venv/bin/jupyter ] || { python3 -m venv venv; nice -n 15 venv/bin/pip install -q jupyterlite-core==0.8.6 jupyterlite-xeus==5.1.0; }
  rm -rf lite-try; mkdir -p lite-try/prefix/conda-meta
  printf '# cmd: forge env create ./prefix --platform emscripten-wasm32 -c ./channel python\n# update specs: ["python"]\n' > lite-try/prefix/conda-meta/history
  (cd lite-try && ../venv/bin/jupyter lite build --XeusAddon.prefix="$PWD/prefix" --output-dir site 2>&1 | grep -E 'UserWarning' || true)
  echo "   kernels.json: $(cat lite-try/site/xeus/kernels.json)"
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(fetch probe native zlib cross smoke lite)
for s in "${steps[@]}"; do "step_$s"; done
