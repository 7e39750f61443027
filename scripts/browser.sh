#!/usr/bin/env bash
# Install headless Chromium (Debian package) for the report test, if missing.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; the browser test will be skipped" >&2
fi
