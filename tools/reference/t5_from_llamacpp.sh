#!/usr/bin/env bash
# One-off check (not CI): T5 GGUF files written by llama.cpp's convert_hf_to_gguf.py run in Swiftlet as
# transformers runs the same weights. llama.cpp's files lack keys Swiftlet writes (relative_max_distance, which
# llama.cpp fixes at 128; hidden_activation; logit_scale), so the fixtures are rebuilt with max_distance 128 and
# equal stack depths (llama.cpp's converter needs them), their reference logits recomputed by transformers, and
# both files (llama.cpp's and `quantize`'s, F32) compared with them at every decoder position.
# usage: tools/reference/t5_from_llamacpp.sh [LLAMA_CPP_DIR (with convert_hf_to_gguf.py)] [PYTHON with torch, transformers, gguf]
set -euo pipefail
cd "$(dirname "$0")/../.."
llama=${1:-$(ls -d ../llamacpp/*/vendor/llama.cpp 2>/dev/null | head -1)}
python=${2:-python3}
[ -f "$llama/convert_hf_to_gguf.py" ] || { echo "error: no convert_hf_to_gguf.py in '$llama'" >&2; exit 1; }
swift build -c release --product swiftlet >&2 && swift build -c release --product quantize >&2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for m in t5-tiny flan-t5-tiny; do
    "$python" - "Tests/Fixtures/$m" "$work/$m" <<'PY'
import json, shutil, sys
import torch
from transformers import T5ForConditionalGeneration
src, out = sys.argv[1:]
model = T5ForConditionalGeneration.from_pretrained(src).eval()
cfg = model.config
depth = min(cfg.num_layers, cfg.num_decoder_layers)
cfg.relative_attention_max_distance, cfg.num_layers, cfg.num_decoder_layers = 128, depth, depth
model.encoder.block = model.encoder.block[:depth]
model.decoder.block = model.decoder.block[:depth]
model.save_pretrained(out)
for f in ["spiece.model", "tokenizer.json", "tokenizer_config.json", "generation_config.json"]:
    shutil.copy(f"{src}/{f}", out)
model = T5ForConditionalGeneration.from_pretrained(out).eval()  # its attention layers built with the new distance
ref = json.load(open(f"{src}/reference.json"))
with torch.no_grad():
    logits = model(input_ids=torch.tensor([ref["encoder_ids"]]), decoder_input_ids=torch.tensor([ref["decoder_ids"]])).logits[0]
json.dump({"encoder_ids": ref["encoder_ids"], "decoder_ids": ref["decoder_ids"], "logits": logits.tolist()}, open(f"{out}/check.json", "w"))
PY
    "$python" "$llama/convert_hf_to_gguf.py" "$work/$m" --outfile "$work/$m-llamacpp.gguf" --outtype f32 >/dev/null 2>&1
    .build/release/quantize "$work/$m" "$work/$m-swiftlet.gguf" --type f32 --quiet
    for file in llamacpp swiftlet; do
        args=$("$python" -c "import json; r = json.load(open('$work/$m/check.json')); print('--ids', ','.join(map(str, r['encoder_ids'])), '--decoder-ids', ','.join(map(str, r['decoder_ids'])))")
        # shellcheck disable=SC2086
        .build/release/swiftlet logits -m "$work/$m-$file.gguf" $args --cache-type f32 --out "$work/$m-$file.bin" >/dev/null 2>&1
        "$python" - "$work/$m/check.json" "$work/$m-$file.bin" "$m" "$file" <<'PY'
import array, json, sys
ref = json.load(open(sys.argv[1]))["logits"]
a = array.array("f"); a.frombytes(open(sys.argv[2], "rb").read())
v = len(ref[0])
d = max(abs(a[i * v + j] - x) for i, row in enumerate(ref) for j, x in enumerate(row))
spread = max(map(max, ref)) - min(map(min, ref))
print(f"{sys.argv[3]:13} {sys.argv[4]:8} file: max |diff| {d:.2e} of a spread {spread:.2f} over {len(ref)} positions")
sys.exit(0 if d <= 1e-4 * max(1, spread) else "differs from transformers")
PY
    done
done
