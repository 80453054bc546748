#!/usr/bin/env bash
# The project's test command (README, .ci/run and pixi's `test` task call this).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
# two workers: most tests are single-threaded (node, rattler-build); builds shared by a
# folder run once (tests/conftest.py GROUPS). FORGE_TEST_WORKERS=0 runs in one process.
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 -n "${FORGE_TEST_WORKERS:-2}" "$@"
