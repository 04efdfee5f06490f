#!/usr/bin/env bash
# One-off check (not CI): the Mixtral fixture, converted by `quantize` to Q8_0, loads in llama.cpp, and
# llama-simple's 8 greedy tokens are Swiftlet's `generate --temp 0` tokens, compared as the bytes they spell
# (llama-simple prints text only; byte-fallback pieces make that exact).
# usage: tools/reference/mixtral_llamacpp.sh [LLAMA_CPP_BIN_DIR] [PYTHON with sentencepiece]
set -euo pipefail
cd "$(dirname "$0")/../.."
llama=${1:-$(ls -d ../llamacpp/*/vendor/llama.cpp/build/bin 2>/dev/null | head -1)}
python=${2:-python3}
[ -x "$llama/llama-simple" ] || { echo "error: no llama-simple in '$llama'" >&2; exit 1; }
export LD_LIBRARY_PATH="$llama${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
swift build -c release --product swiftlet >&2 && swift build -c release --product quantize >&2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fixture=Tests/Fixtures/mixtral-tiny
.build/release/quantize "$fixture" "$work/mixtral.gguf" --type q8_0 --quiet
prompt=$("$python" -c "import json; print(json.load(open('$fixture/reference.json'))['prompt_text'])")
ids=$("$llama/llama-tokenize" -m "$work/mixtral.gguf" -p "$prompt" --ids 2>/dev/null | tail -1 | tr -d '[] ')
"$llama/llama-simple" -m "$work/mixtral.gguf" -n 8 "$prompt" 2>/dev/null > "$work/llama.txt"
.build/release/swiftlet generate -m "$work/mixtral.gguf" --ids "$ids" -n 8 --temp 0 --json 2>/dev/null > "$work/ours.json"
"$python" - "$fixture/tokenizer.model" "$work/ours.json" "$work/llama.txt" "$prompt" <<'PY'
import json, sys
import sentencepiece
sp = sentencepiece.SentencePieceProcessor(model_file=sys.argv[1])
ids = json.load(open(sys.argv[2]))["ids"]
ours = b"".join(bytes([int(p[3:5], 16)]) if p.startswith("<0x") else p.replace("\u2581", " ").encode()
                for p in map(sp.id_to_piece, ids))
printed = open(sys.argv[3], "rb").read()
theirs = printed[len(("<s> " + sys.argv[4]).encode()):-1]  # after the echoed prompt, before llama-simple's final newline
print(f"swiftlet ids {ids}\nswiftlet  {ours!r}\nllama.cpp {theirs!r}")
sys.exit(0 if ours == theirs else "the greedy continuations differ")
PY
