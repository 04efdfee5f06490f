#!/usr/bin/env bash
# Re-quantization time and peak memory, Swiftlet's `quantize` beside llama.cpp's `llama-quantize`, one run
# each on the same machine and model. Usage:
#   LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin tools/bench/quantize.sh MODEL.gguf [q8_0] [threads]
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:?usage: tools/bench/quantize.sh MODEL.gguf [type] [threads]}
type=${2:-q8_0}
threads=${3:-2}
swift build -c release > /dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

measure() {  # prints "seconds max_rss_kib"
    /usr/bin/time -f "%e %M" -o "$out/time" "$@" > /dev/null 2>&1
    cat "$out/time"
}
read -r s_sec s_kib < <(measure .build/release/quantize "$model" "$out/swiftlet.gguf" --type "$type" --threads "$threads" --quiet)
echo "swiftlet quantize: ${s_sec}s, peak ${s_kib} KiB"
if [ -n "${LLAMA_CPP_BIN:-}" ]; then
    upper=$(echo "$type" | tr a-z A-Z)
    read -r l_sec l_kib < <(measure "$LLAMA_CPP_BIN/llama-quantize" --allow-requantize "$model" "$out/llama.gguf" "$upper" "$threads")
    echo "llama-quantize:    ${l_sec}s, peak ${l_kib} KiB"
    awk -v a="$s_sec" -v b="$l_sec" -v c="$s_kib" -v d="$l_kib" \
        'BEGIN { printf "ratio swiftlet/llama.cpp: time %.2f, peak memory %.2f\n", a / b, c / d }'
fi
