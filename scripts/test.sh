#!/usr/bin/env bash
# Sets up and builds hjbtt with its tests, then runs the whole test suite through CTest.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" "$root/build"
cd "$root/build"
ctest --output-on-failure -j2 --timeout 600
