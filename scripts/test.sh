#!/usr/bin/env bash
# Sets up and builds hjbtt with its tests, runs the whole test suite through CTest, then checks
# that the installed SDK builds and runs the out-of-tree example plugin.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" "$root/build"
cd "$root/build"
log=$(mktemp)
ctest --output-on-failure -j2 --timeout 600 | tee "$log"
"$root/scripts/check_sdk.sh" "$root/build"

# One closing summary line: the CTest count plus the installed-SDK check.
count=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log")
rm -f "$log"
echo "tests: $((count + 1)) passed, 0 failed"
