#!/usr/bin/env bash
# The project's test command (README, .ci/run and pixi's `test` task call this).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 "$@"
