#!/usr/bin/env bash
# Sets up and builds hjbtt, then samples the bundled mixed-20 target (d = 20: double wells,
# bananas and a correlated Gaussian block) and prints where the samples went.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" "$root/build"

out=${HJBTT_OUT:-"$root/out/mixed-20"}
"$root/build/bin/hjbtt" run "$root/examples/mixed-20.json" --out "$out" --force
