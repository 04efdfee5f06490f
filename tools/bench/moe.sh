#!/usr/bin/env bash
# Mixture-of-experts speed scales with the active parameters, not the total: `swiftlet bench` (pp128, tg64,
# 2 threads) on random-weight Q8_0 Llama-architecture files made by moe_models.py: 8 experts of 1024 with top 2,
# a dense model with a 2048 feed-forward (the mixture's active size) and one with 8192 (its total size).
# usage: tools/bench/moe.sh [PYTHON with numpy and gguf]      Env: THREADS (2), REPS (3).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${1:-python3}
threads=${THREADS:-2}
reps=${REPS:-3}
swift build -c release --product swiftlet >&2 && swift build -c release --product quantize >&2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
.build/release/quantize Tests/Fixtures/mixtral-tiny "$work/tokenizer.gguf" --type f32 --quiet
"$python" tools/bench/moe_models.py "$work" --tokenizer-from "$work/tokenizer.gguf"
printf "%-13s %10s %10s %12s\n" model "pp t/s" "tg t/s" "file MiB"
for m in moe dense-active dense-total; do
    .build/release/swiftlet bench -m "$work/$m.gguf" -p 128 -n 64 -t "$threads" -r "$reps" --json 2>/dev/null |
        python3 -c "import json,sys,os; r=json.load(sys.stdin); print(f\"{'$m':13} {r['pp']['tokens_per_s']:10.1f} {r['tg']['tokens_per_s']:10.1f} {os.path.getsize('$work/$m.gguf')/2**20:12.1f}\")"
done
