#!/usr/bin/env bash
# Sanitizer runs (issue 19). asan: every test under AddressSanitizer (the tools the CLI tests run are instrumented
# too). tsan: under ThreadSanitizer, the thread pool, the kernels and sessions that use it, one session called from
# two threads, streaming generation, chat and generate through the CLI, and the C API test (threads sharing a model,
# two threads on one session) against a TSan-instrumented libswiftlet.a.
# usage: tools/sanitize.sh [asan] [tsan]   (default both). Builds under $SWIFTLET_BUILD_PATH (default .build)/asan
# and /tsan, apart from the normal builds. Exits non-zero on any report.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SWIFTLET_BUILD_PATH:-.build}
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(asan tsan)
# LeakSanitizer is off: it reports objects whose only references sit in Swift enum payloads (tag bits in the
# pointer), which it does not follow; the C tests run valgrind's leak check instead.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# Tests that run the tools under ulimit -v skip the limit (the sanitizers' shadow memory needs the address space).
export SWIFTLET_SANITIZER=1

for run in "${runs[@]}"; do
    case $run in
    asan)
        swift build --build-path "$build/asan" --sanitize=address --build-tests
        swift test --build-path "$build/asan" --sanitize=address --skip-build
        ;;
    tsan)
        swift build --build-path "$build/tsan" --sanitize=thread --build-tests
        swift test --build-path "$build/tsan" --sanitize=thread --skip-build --filter \
            'ThreadPoolTests|MatMulTests|FusedMatMulTests|DecoderTests|EncoderTests|Seq2SeqTests|SwiftletKitTests|oneSessionFromTwoThreads|absurdThreadCounts|chatKeepsTheCacheBetweenTurns|generateJSONGivesTheGreedyContinuation'
        # The C API test: the library built with -sanitize=thread, the program compiled by the toolchain's clang and
        # linked by swiftc, which brings the TSan runtime and what it needs (libdispatch).
        swift build -c release --build-path "$build/tsan" --product Swiftlet -Xswiftc -sanitize=thread
        clang -fsanitize=thread -g -O1 -I include -c Tests/C/api_test.c -o "$build/tsan/api_test.o"
        swiftc -sanitize=thread "$build/tsan/api_test.o" "$build/tsan/release/libSwiftlet.a" -o "$build/tsan/api_test"
        model=$build/tsan/llama-tiny.gguf
        "$build/tsan/debug/quantize" Tests/Fixtures/llama-tiny "$model" --type q8_0 --quiet
        prompt="def add(a, b):"
        expected=$("$build/tsan/debug/swiftlet" generate -m "$model" -p "$prompt" -n 12 --temp 0 --ctx 128 --json 2>/dev/null \
            | python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["ids"])))')
        "$build/tsan/api_test" "$model" "$prompt" "$expected" 3 --no-rss
        ;;
    *) echo "error: unknown run '$run' (asan, tsan)" >&2; exit 2 ;;
    esac
done
