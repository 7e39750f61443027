#!/usr/bin/env bash
# Create .venv with Python 3.12 and install the project (idempotent; re-run after pulling).
# Arguments name more extras to install, e.g. `bash scripts/setup.sh jax` for the sampler benchmark.
# Python 3.12 because PyMC 6 and ArviZ 1.x need >= 3.12 (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
find_python() {
  for candidate in python3.12 "$HOME/.pyenv/versions/3.12.1/bin/python3.12" \
      /root/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
    # pyenv shims refuse unless the version is selected: ask for it explicitly.
    if PYENV_VERSION=3.12.1 "$candidate" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
      echo "PYENV_VERSION=3.12.1 $candidate"; return 0
    fi
  done
  echo "no Python >= 3.12 found (PyMC 6 needs it)" >&2; return 1
}
if [ ! -x .venv/bin/python ]; then
  py=$(find_python)
  env $py -m venv .venv
fi
extras="test,dask"
for extra in "$@"; do extras="$extras,$extra"; done
stamp=".venv/.installed-${extras//,/-}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[$extras]"
  touch "$stamp"
fi
