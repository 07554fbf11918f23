#!/usr/bin/env bash
# Sets up and builds hjbtt with its tests, runs the whole test suite through CTest, checks that
# the installed SDK builds and runs the out-of-tree example plugin, then fuzzes the pipeline
# parser for 60 s.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" "$root/build"
cd "$root/build"
log=$(mktemp)
ctest --output-on-failure -j2 --timeout 600 | tee "$log"
"$root/scripts/check_sdk.sh" "$root/build"

# A short fuzzing run of the pipeline parser under AddressSanitizer and UndefinedBehaviorSanitizer.
# Without arguments, scripts/fuzz.sh runs the full 10^6 executions.
"$root/scripts/fuzz.sh" --seconds 60

# One closing summary line: the CTest count plus the installed-SDK check and the fuzzing run.
count=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log")
rm -f "$log"
echo "tests: $((count + 2)) passed, 0 failed"
