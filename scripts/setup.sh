#!/usr/bin/env bash
# Create .venv with Python 3.12 and install the project (idempotent; re-run after pulling).
# Arguments name more extras to install, e.g. `bash scripts/setup.sh jax` for the sampler benchmark.
# Python 3.12 because PyMC 6 and ArviZ 1.x need >= 3.12 (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
ok_python() { "$1" -c 'import sys; assert (3, 12) <= sys.version_info[:2] < (3, 14)' 2>/dev/null; }
# Python 3.12 (or 3.13) as this machine offers it: on PATH first, then any version pyenv has
# installed (newest 3.12 first); a pyenv shim on PATH that is not selected fails ok_python.
find_python() {
  for candidate in python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && ok_python "$candidate"; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    root=$(pyenv root)
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[23](\.[0-9]+)?$' | sort -t. -k2,2n -k3,3nr); do
      candidate="$root/versions/$version/bin/python"
      if [ -x "$candidate" ] && ok_python "$candidate"; then
        echo "$candidate"; return 0
      fi
    done
  fi
  echo "no Python 3.12 or 3.13 found on PATH or under pyenv (PyMC 6 needs >= 3.12)" >&2; return 1
}
if [ ! -x .venv/bin/python ]; then
  py=$(find_python)
  "$py" -m venv .venv
fi
extras="test,dask"
for extra in "$@"; do extras="$extras,$extra"; done
stamp=".venv/.installed-${extras//,/-}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[$extras]"
  touch "$stamp"
fi
