#!/usr/bin/env bash
# Set up what `forge lite` and tests/lite need: Debian's chromium (driven headless by npm
# playwright-core), playwright-core itself (into ./node_modules, no package-lock written),
# and jupyterlite-core/-pyodide-kernel in .venv. Idempotent: a second run only verifies.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s chromium >/dev/null 2>&1; then
  echo "== apt-get install chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null

want=$(node -p "require('./package.json').devDependencies['playwright-core']")
have=$(node -p "try { require('./node_modules/playwright-core/package.json').version } catch (e) { '' }")
if [ "$have" != "$want" ]; then
  echo "== npm install playwright-core@$want (node_modules/, no package-lock)"
  npm install --no-package-lock --no-audit --no-fund --silent
fi
echo "playwright-core $(node -p "require('./node_modules/playwright-core/package.json').version")"

if [ -x .venv/bin/python ] && ! .venv/bin/python -c "import jupyterlite_core, jupyterlite_pyodide_kernel, jupyter_server" 2>/dev/null; then
  echo "== pip install jupyterlite-core[contents] jupyterlite-pyodide-kernel"
  .venv/bin/python -m pip install -q --disable-pip-version-check \
    'jupyterlite-core[contents]==0.8.6' 'jupyterlite-pyodide-kernel==0.8.6'
fi
