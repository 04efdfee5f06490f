#!/usr/bin/env bash
# Fuzzing (issue 19): builds the targets in fuzz/ with libFuzzer and AddressSanitizer (swiftc -sanitize=fuzzer,address;
# the library modules compiled with the same instrumentation) and runs each for SECONDS (default 60) from its seed
# corpus: fuzz/corpus/TARGET (committed) plus seeds made from the committed fixtures (their GGUF files, config.json
# and safetensors, tokenizer files). usage: tools/fuzz.sh [SECONDS] [TARGET...]
# Targets: gguf (reader + model load + one token), safetensors (header + HF config → conversion plan), json,
# tokenizer (every tokenizer kind on arbitrary bytes), flags (the CLI's parser), quantize (a mutated HF directory).
# A crash, hang (-timeout), leak or out-of-memory exits 1 naming the reproducer; run it again with
#   SWIFTLET_FUZZ_DATA=$build/fuzz/data $build/fuzz/fuzz-TARGET REPRODUCER
# Uses $SWIFTLET_BUILD_PATH (default .build): its release quantize makes the GGUF seeds (built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gguf safetensors json tokenizer flags quantize)
build=${SWIFTLET_BUILD_PATH:-.build}
out=$build/fuzz
mkdir -p "$out/modules" "$out/data/hf" "$out/crashes"
flags=(-O -target-cpu haswell -sanitize=fuzzer,address -parse-as-library -I "$out/modules")

# The library modules, in import order, each one object file and a module for the next.
module() {  # NAME SOURCES...
    local name=$1
    shift
    local stamp="$out/modules/$name.o"
    if [ -f "$stamp" ] && [ -z "$(find "$@" -newer "$stamp" | head -1)" ]; then return; fi
    swiftc "${flags[@]}" -wmo -module-name "$name" -emit-module -emit-module-path "$out/modules/$name.swiftmodule" \
        -c "$@" -o "$stamp"
}
module Quant Sources/Quant/*.swift
module TensorFile Sources/TensorFile/*.swift
module Kernels Sources/Kernels/*.swift
module Tokenizer Sources/Tokenizer/*.swift
module Engine Sources/Engine/*.swift Sources/Engine/Models/*.swift
module Converter Sources/Converter/*.swift
engine=("$out"/modules/{Quant,TensorFile,Kernels,Tokenizer,Engine}.o)

declare -A sources=(
    [gguf]="fuzz/GGUFTarget.swift ${engine[*]}"
    [safetensors]="fuzz/SafetensorsTarget.swift ${engine[*]}"
    [json]="fuzz/JSONTarget.swift $out/modules/Quant.o $out/modules/TensorFile.o"
    [tokenizer]="fuzz/TokenizerTarget.swift ${engine[*]}"
    [flags]="fuzz/FlagsTarget.swift Sources/swiftlet/Flags.swift"
    [quantize]="fuzz/QuantizeTarget.swift ${engine[*]} $out/modules/Converter.o"
)
for t in "${targets[@]}"; do
    [ -n "${sources[$t]:-}" ] || { echo "error: no fuzz target '$t' (targets: ${!sources[*]})" >&2; exit 2; }
    # shellcheck disable=SC2086
    swiftc "${flags[@]}" -use-ld=lld fuzz/Support.swift ${sources[$t]} -o "$out/fuzz-$t"
done

# Data and generated seeds: the fixtures as GGUF (q8_0; the models' own checks see real files) and as HF directories.
quantize=$build/release/quantize
[ -x "$quantize" ] || swift build -c release --product quantize --build-path "$build" > /dev/null
fixtures=(llama gpt2 ctrl xlnet bert albert t5 bart marian mistral roberta)
mkdir -p "$out/seeds"/{gguf,safetensors,quantize}
for f in "${fixtures[@]}"; do
    dir=Tests/Fixtures/$f-tiny
    [ -f "$out/data/$f.gguf" ] || "$quantize" "$dir" "$out/data/$f.gguf" --type q8_0 --quiet
    ln -sfn "$PWD/$dir" "$out/data/hf/$f"
    cp "$out/data/$f.gguf" "$out/seeds/gguf/$f.gguf"
    { cat "$dir/config.json"; printf '\0'; cat "$dir/model.safetensors"; } > "$out/seeds/safetensors/$f"
done
# The quantize target's seeds: byte 0 the directory (QuantizeTarget.swift's order), byte 1 the file replaced, then
# the file as the fixture has it (all but the safetensors, file 3).
directories=(llama gpt2 ctrl xlnet bert albert t5 bart marian roberta)
names=(config.json tokenizer.json tokenizer_config.json model.safetensors generation_config.json special_tokens_map.json)
for d in "${!directories[@]}"; do
    for i in 0 1 2 4 5; do
        file=Tests/Fixtures/${directories[$d]}-tiny/${names[$i]}
        [ -f "$file" ] || continue
        { printf "\\x$(printf %02x "$d")\\x$(printf %02x "$i")"; cat "$file"; } > "$out/seeds/quantize/${directories[$d]}-$i"
    done
done

export SWIFTLET_FUZZ_DATA=$PWD/$out/data ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
status=0
for t in "${targets[@]}"; do
    mkdir -p "$out/corpus/$t"
    seeds=()
    [ -d "fuzz/corpus/$t" ] && seeds+=("fuzz/corpus/$t")
    [ -d "$out/seeds/$t" ] && seeds+=("$out/seeds/$t")
    log=$out/$t.log
    echo "fuzz $t: ${seconds}s"
    # New inputs go to the first corpus directory, kept between runs; a reproducer to crashes/. LeakSanitizer is off:
    # it reports objects whose only references sit in Swift enum payloads (tag bits in the pointer), which it does not
    # follow (the tokenizer target's one-time tables); growth per input still hits -rss_limit_mb, and the C tests run
    # valgrind's leak check.
    if ! "$out/fuzz-$t" "$out/corpus/$t" "${seeds[@]}" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2560 -detect_leaks=0 \
            -malloc_limit_mb=2048 -max_len=1048576 -artifact_prefix="$out/crashes/$t-" -print_final_stats=1 > "$log" 2>&1; then
        echo "error: fuzz $t failed: $(grep -m1 -E 'ERROR|WARNING: .*Sanitizer|deadly signal|timeout|out-of-memory' "$log" || tail -1 "$log")" >&2
        echo "  reproducer: $(grep -o -m1 "Test unit written to .*" "$log" | sed 's/Test unit written to //')  log: $log" >&2
        status=1
    else
        grep -E "stat::number_of_executed_units|stat::new_units_added" "$log" | tr '\n' ' ' | sed 's/^/  /'
        echo
    fi
done
exit $status
