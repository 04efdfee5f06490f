#!/usr/bin/env bash
# The C library from C (run by tools/test.sh, so by CI): builds libswiftlet.a, compiles the C examples and
# Tests/C/api_test.c with gcc -std=c99 -Wall -Wextra -Werror, checks that C generates the same greedy tokens
# as `swiftlet generate --temp 0` on the tiny Llama fixture, then runs the 100-round open/generate/close
# loop under valgrind (leaks are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/c
bash tools/build-lib.sh "$out" > /dev/null
link="-I $out/include -L $out/lib -lswiftlet $(cat $out/lib/swiftlet.link)"
cflags="-std=c99 -Wall -Wextra -Werror -O1 -g"
gcc $cflags examples/c/generate.c -o "$out/generate" $link
gcc $cflags -pthread Tests/C/api_test.c -o "$out/api_test" $link

model=$out/llama-tiny.gguf
.build/release/quantize Tests/Fixtures/llama-tiny "$model" --type q8_0 --quiet
prompt="def add(a, b):"
expected=$(.build/release/swiftlet generate -m "$model" -p "$prompt" -n 12 --temp 0 --ctx 128 --json 2>/dev/null \
    | python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["ids"])))')
"$out/api_test" "$model" "$prompt" "$expected" 100
"$out/generate" "$model" "$prompt" 12 > /dev/null
valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
    "$out/api_test" "$model" "$prompt" "$expected" 100 --no-rss
