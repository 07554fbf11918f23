#!/usr/bin/env bash
# Sets up and builds hjbtt with its tests, runs the whole test suite through CTest, then checks
# that the installed SDK builds and runs the out-of-tree example plugin.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" "$root/build"
cd "$root/build"
ctest --output-on-failure -j2 --timeout 600
"$root/scripts/check_sdk.sh" "$root/build"
