#!/usr/bin/env bash
# Set up (venv + Chromium) and run the whole test suite, slow statistical checks at small size.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/browser.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
