#!/usr/bin/env bash
# Set up wasm-forge on a fresh machine: system packages, the Python environment, and the
# emscripten build root. Idempotent: a second run only verifies.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(debootstrap redis-server pkgconf patch sudo)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "== python venv"
  python3 -m venv .venv
fi
echo "== pip install -e .[farm,lite,test]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[farm,lite,test]'

echo "== chromium, playwright-core, JupyterLite (scripts/setup-lite.sh)"
bash scripts/setup-lite.sh

if [ "${FORGE_SKIP_TOOLCHAIN:-0}" != "1" ] && .venv/bin/forge toolchain --help >/dev/null 2>&1; then
  echo "== emscripten build root (forge toolchain)"
  .venv/bin/forge toolchain
fi
echo "== ready: . .venv/bin/activate && forge build pytest"
