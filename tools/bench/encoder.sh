#!/usr/bin/env bash
# Sentence embeddings per second on all-MiniLM-L6-v2, in one run on this machine with the same thread count:
# `swiftlet embed` on the Q8_0 GGUF (from `quantize`) against sentence-transformers (torch, CPU) and ONNX Runtime
# on the same texts, short (about 16 tokens) and long (about 256), batches of 1 and 32. Each Swiftlet figure is
# the median of REPS runs over the 64 texts ten times (tokenization included, model loading not); the Python
# side times each cell for at least 3 s (tools/bench/encoder_reference.py). Prints the ratios swiftlet/other.
#
# usage: tools/bench/encoder.sh [PYTHON]   (a Python with tools/bench/requirements-encoder.txt; default python3)
# Env: THREADS (2), REPS (5), TYPE (q8_0).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=${1:-python3}
threads=${THREADS:-2}
reps=${REPS:-5}
type=${TYPE:-q8_0}

swift build -c release --product swiftlet >&2
swift build -c release --product quantize >&2
bin=.build/release
source_dir=$(bash tools/minilm-model.sh)
model=.build/models/all-MiniLM-L6-v2.${type^^}.gguf
[ -f "$model" ] || "$bin/quantize" "$source_dir" "$model" --type "$type" --quiet

texts=$(mktemp -d)
trap 'rm -rf "$texts"' EXIT
reference=$("$python" tools/bench/encoder_reference.py --model "$source_dir" --threads "$threads" --write-texts "$texts")

ours() {  # FILE BATCH → sentences/s, median of REPS runs over the texts ten times (a run of a second or more)
    local n many="$texts/many-$(basename "$1")"
    for _ in $(seq 10); do cat "$1"; done > "$many"
    n=$(wc -l <"$many")
    for _ in $(seq "$reps"); do
        "$bin/swiftlet" embed -m "$model" -f "$many" --batch "$2" -t "$threads" --json 2>/dev/null |
            python3 -c "import json,sys; print($n * 1000 / json.load(sys.stdin)['timings']['ms'])"
    done | sort -g | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'
}
results=$(printf '{"short_b1":%s,"short_b32":%s,"long_b1":%s,"long_b32":%s}' \
    "$(ours "$texts/short.txt" 1)" "$(ours "$texts/short.txt" 32)" "$(ours "$texts/long.txt" 1)" "$(ours "$texts/long.txt" 32)")

python3 - "$results" "$reference" "$type" "$threads" <<'PY'
import json, sys
ours, ref, kind, threads = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
others = {"sentence-transformers": ref.get("sentence_transformers", {}), "onnxruntime": ref.get("onnxruntime", {})}
print(f"all-MiniLM-L6-v2, sentences/s, {threads} threads; swiftlet at {kind.upper()}")
header = f"{'case':10} {'swiftlet':>10}" + "".join(f" {name:>22} {'ratio':>6}" for name in others)
print(header)
for case in ["short_b1", "short_b32", "long_b1", "long_b32"]:
    row = f"{case:10} {ours[case]:10.1f}"
    for name, r in others.items():
        if case in r:
            row += f" {r[case]:22.1f} {ours[case] / r[case]:6.2f}"
        else:
            row += f" {'-':>22} {'-':>6}"
    print(row)
for name, r in others.items():
    if "error" in r:
        print(f"{name}: {r['error']}")
PY
