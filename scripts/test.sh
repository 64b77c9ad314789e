#!/usr/bin/env bash
# The README's test command: set up, then run the whole test suite (pytest exit 5, no tests, is a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/system-deps.sh
exec .venv/bin/python -m pytest "$@"
