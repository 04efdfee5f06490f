#!/usr/bin/env bash
# Quantized decoders and encoder-decoders against transformers' float32 logits (one-off measurement for notes, not a test): for each
# fixture and type, `quantize` then `swiftlet logits` at every prompt position, and the top-1 agreement and the
# largest absolute difference with reference.json. Tiny random-weight models have small margins, so low agreement
# at Q4 is expected; the kernels themselves are checked against a float computation over the same dequantized
# weights (QuantizedDecoderTests).
# usage: tools/reference/quantized_agreement.sh [FIXTURE...]   (default: mixtral-tiny mistral-tiny ctrl-tiny xlnet-tiny;
#        encoder-decoders: t5-tiny flan-t5-tiny bart-tiny marian-tiny)
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product swiftlet >&2 && swift build -c release --product quantize >&2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for m in "${@:-mixtral-tiny mistral-tiny ctrl-tiny xlnet-tiny}"; do for m in $m; do for t in q8_0 q4_0 q4_1; do
    .build/release/quantize "Tests/Fixtures/$m" "$work/$m-$t.gguf" --type "$t" --quiet 2>/dev/null
    # Decoders: the logits at every prompt position; encoder-decoders: at every --decoder-ids position.
    read -r -a args < <(python3 -c "
import json; r = json.load(open('Tests/Fixtures/$m/reference.json')); j = lambda k: ','.join(map(str, r[k]))
print('--ids', j('encoder_ids'), '--decoder-ids', j('decoder_ids'), '--cache-type', 'f32') if 'encoder_ids' in r else print('--ids', j('prompt_ids'), '--cache-type', 'f32')")
    .build/release/swiftlet logits -m "$work/$m-$t.gguf" "${args[@]}" --out "$work/$m-$t.bin" >/dev/null 2>&1
    python3 - "$m" "$t" "$work/$m-$t.bin" <<'PY'
import array, json, sys
m, t, path = sys.argv[1:]
ref = json.load(open(f"Tests/Fixtures/{m}/reference.json"))["logits"]
a = array.array("f"); a.frombytes(open(path, "rb").read())
v = len(ref[0]); rows = [a[i * v:(i + 1) * v] for i in range(len(ref))]
top = lambda r: max(range(v), key=lambda k: r[k])
agree = sum(top(r) == top(g) for r, g in zip(ref, rows))
d = max(abs(x - y) for r, g in zip(ref, rows) for x, y in zip(r, g))
print(f"{m:13} {t:5} top-1 {agree}/{len(ref)} positions  max |diff| {d:.3f}")
PY
done; done; done
