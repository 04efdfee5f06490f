#!/usr/bin/env bash
# Builds the C library: OUT/lib/libswiftlet.a, OUT/include/swiftlet.h and OUT/lib/pkgconfig/swiftlet.pc
# (default OUT: BUILD/c, BUILD being $SWIFTLET_BUILD_PATH, default .build). A C program then builds with
#   gcc prog.c -I OUT/include -L OUT/lib -lswiftlet $(cat OUT/lib/swiftlet.link)
# or, with PKG_CONFIG_PATH=OUT/lib/pkgconfig, `gcc prog.c $(pkg-config --cflags --libs --static swiftlet)`.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SWIFTLET_BUILD_PATH:-.build}
out=$(realpath -m "${1:-$build/c}")
swift build -c release --build-path "$build" --product Swiftlet >&2
mkdir -p "$out/lib/pkgconfig" "$out/include"
cp "$build/release/libSwiftlet.a" "$out/lib/libswiftlet.a"
cp include/swiftlet.h "$out/include/"
# The static Swift runtime: swiftrt.o registers the library's type metadata (without it a program links
# but crashes at its first dynamic cast); the engine uses Glibc and Synchronization, not Foundation.
runtime=$(dirname "$(dirname "$(realpath "$(command -v swiftc)")")")/lib/swift_static/linux
private="$runtime/x86_64/swiftrt.o -L$runtime -lswiftGlibc -lswiftSynchronization -lswiftCore -lstdc++ -lm -lpthread -ldl"
echo "$private" > "$out/lib/swiftlet.link"
cat > "$out/lib/pkgconfig/swiftlet.pc" <<PC
prefix=$out
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: swiftlet
Description: Swiftlet, a quantized transformer inference engine (static library)
Version: 0.4.0
Cflags: -I\${includedir}
Libs: -L\${libdir} -lswiftlet
Libs.private: $private
PC
echo "$out/lib/libswiftlet.a"
