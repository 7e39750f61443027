#!/usr/bin/env bash
# Set up and run the main job: the 2018 forecast (presidency, Congress, governors) and its report
# in reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/forecast run polls/mx2018 --out reports "$@"
