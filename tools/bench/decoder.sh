#!/usr/bin/env bash
# Swiftlet against llama.cpp on the same GGUF files, same machine, same thread count, in one run:
# pp512 and tg128 (swiftlet bench vs llama-bench) for SmolLM2-135M at Q4_1 (the shipped file), Q4_0 and Q8_0
# (both re-quantized from it by `quantize`), and peak RSS of one generation (swiftlet generate vs
# llama-simple, same prompt, same context). Prints the ratios swiftlet/llama.cpp.
#
# usage: tools/bench/decoder.sh [LLAMA_CPP_BIN_DIR]     (default: ../llamacpp/*/vendor/llama.cpp/build/bin)
# llama.cpp comes from the llama-cpp-python sdist, see tools/bench/README.md.
# Env: THREADS (2), REPS (3), TYPES ("q4_1 q4_0 q8_0").
set -euo pipefail
cd "$(dirname "$0")/../.."
llama=${1:-$(ls -d ../llamacpp/*/vendor/llama.cpp/build/bin 2>/dev/null | head -1)}
[ -x "$llama/llama-bench" ] || { echo "error: no llama-bench in '$llama' (pass llama.cpp's build/bin)" >&2; exit 1; }
threads=${THREADS:-2}
reps=${REPS:-3}
types=${TYPES:-q4_1 q4_0 q8_0}

swift build -c release --product swiftlet >&2
swift build -c release --product quantize >&2
bin=.build/release
source_model=$(bash tools/smollm2-model.sh)
models=$(dirname "$(dirname "$source_model")")

export LD_LIBRARY_PATH="$llama${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
prompt="The history of the printing press begins in"
n_predict=64
peak_kib() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }

printf "%-5s %12s %12s %6s   %12s %12s %6s   %10s %10s %6s\n" type "swiftlet pp" "llama pp" ratio "swiftlet tg" "llama tg" ratio \
    "swiftlet KiB" "llama KiB" ratio
for type in $types; do
    model=$models/SmolLM2-135M-Instruct.${type^^}.gguf
    if [ "$type" = q4_1 ]; then model=$source_model; fi
    [ -f "$model" ] || "$bin/quantize" "$source_model" "$model" --type "$type" --quiet
    ours=$("$bin/swiftlet" bench -m "$model" -p 512 -n 128 -t "$threads" -r "$reps" --json 2>/dev/null)
    theirs=$("$llama/llama-bench" -m "$model" -p 512 -n 128 -t "$threads" -r "$reps" -o json 2>/dev/null)
    # The same context for both: llama-simple sizes its context to the prompt plus n_predict.
    n_prompt=$("$bin/swiftlet" tokenize -m "$model" --json "$prompt" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["ids"]))')
    rss_ours=$(peak_kib "$bin/swiftlet" generate -m "$model" -p "$prompt" -n $n_predict --temp 0 --ignore-eos \
        --ctx $((n_prompt + n_predict)) -t "$threads")
    rss_theirs=$(peak_kib "$llama/llama-simple" -m "$model" -n $n_predict "$prompt")
    python3 - "$type" "$ours" "$theirs" "$rss_ours" "$rss_theirs" <<'PY'
import json, sys
t, ours, theirs, rss_ours, rss_theirs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ref = {("pp" if e["n_prompt"] else "tg"): e["avg_ts"] for e in theirs}
o_pp, o_tg = ours["pp"]["tokens_per_s"], ours["tg"]["tokens_per_s"]
print(f"{t:5} {o_pp:12.1f} {ref['pp']:12.1f} {o_pp / ref['pp']:6.2f}   {o_tg:12.1f} {ref['tg']:12.1f} {o_tg / ref['tg']:6.2f}"
      f"   {rss_ours:10d} {rss_theirs:10d} {rss_ours / rss_theirs:6.2f}")
PY
done
echo "($(nproc) cores; $threads threads; $reps repetitions; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
