#!/usr/bin/env bash
# The C library from C (run by tools/test.sh, so by CI): builds libswiftlet.a, compiles the C examples and
# Tests/C/api_test.c and Tests/C/embed_test.c (an encoder's bad arguments and threads) with gcc -std=c99 -Wall
# -Wextra -Werror, checks that C generates the same greedy tokens
# as `swiftlet generate --temp 0` on the tiny Llama fixture and the same sentence vectors as
# `swiftlet embed --normalize` on the tiny sentence-transformers fixture, then runs the 100-round
# open/generate/close loop and the embedding example under valgrind (leaks are errors).
# Uses the release quantize and swiftlet already built in $SWIFTLET_BUILD_PATH (default .build, as tools/test.sh
# builds them); another path keeps concurrent builds apart.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SWIFTLET_BUILD_PATH:-.build}
out=$build/c
bash tools/build-lib.sh "$out" > /dev/null
link="-I $out/include -L $out/lib -lswiftlet $(cat $out/lib/swiftlet.link)"
cflags="-std=c99 -Wall -Wextra -Werror -O1 -g"
gcc $cflags examples/c/generate.c -o "$out/generate" $link
gcc $cflags examples/c/embed.c -o "$out/embed" $link
gcc $cflags -pthread Tests/C/api_test.c -o "$out/api_test" $link
gcc $cflags -pthread Tests/C/embed_test.c -o "$out/embed_test" $link

model=$out/llama-tiny.gguf
"$build"/release/quantize Tests/Fixtures/llama-tiny "$model" --type q8_0 --quiet
prompt="def add(a, b):"
expected=$("$build"/release/swiftlet generate -m "$model" -p "$prompt" -n 12 --temp 0 --ctx 128 --json 2>/dev/null \
    | python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["ids"])))')
"$out/api_test" "$model" "$prompt" "$expected" 100
"$out/generate" "$model" "$prompt" 12 > /dev/null
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
    "$out/api_test" "$model" "$prompt" "$expected" 100 --no-rss

encoder=$out/bert-st-tiny.gguf
"$build"/release/quantize Tests/Fixtures/bert-st-tiny "$encoder" --type q8_0 --quiet
texts=("The quick brown fox jumps over the lazy dog." "" "She sells sea shells by the sea shore.")
"$out/embed" "$encoder" --vectors "${texts[@]}" > "$out/embed-c.txt"
"$build"/release/swiftlet embed -m "$encoder" --normalize "${texts[@]}" > "$out/embed-cli.txt" 2>/dev/null
python3 - "$out/embed-c.txt" "$out/embed-cli.txt" <<'PY'
import sys
c, cli = ([[float(x) for x in line.split()] for line in open(p)] for p in sys.argv[1:])
assert len(c) == len(cli) == 3 and all(len(a) == len(b) > 0 for a, b in zip(c, cli)), "vector counts or sizes differ"
worst = max(abs(x - y) for a, b in zip(c, cli) for x, y in zip(a, b))
assert worst < 1e-6, f"C and CLI vectors differ by {worst}"
PY
"$out/embed_test" "$encoder"
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
    "$out/embed" "$encoder" "${texts[@]}" > /dev/null 2>&1

# Encoder-decoders from C: the same greedy translation as the CLI's (BART with its forced tokens and n-gram rule,
# Marian with its own tokenizer and banned pad token).
source_text="translate English to German: The quick brown fox."
for m in t5-tiny bart-tiny marian-tiny; do
    gguf=$out/$m.gguf
    "$build"/release/quantize "Tests/Fixtures/$m" "$gguf" --type q8_0 --quiet
    c_text=$("$out/generate" "$gguf" "$source_text" 8)
    cli_text=$("$build"/release/swiftlet generate -m "$gguf" -p "$source_text" -n 8 --temp 0 2>/dev/null)
    [ "$c_text" = "$cli_text" ] || { echo "error: $m: C translated '$c_text', the CLI '$cli_text'" >&2; exit 1; }
done

