#!/usr/bin/env bash
# Checks the installed SDK end to end, as a plugin author would use it. It installs a built hjbtt
# tree into a temporary prefix and builds a copy of examples/custom_potential against that prefix
# only. Then it runs the example pipeline with the installed host.
# Usage: scripts/check_sdk.sh [BUILD_DIR]   (default: build, which must already be built).
# Takes about 15 s on 2 cores after the main build. The temporary folder is removed on success
# and kept for inspection on failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build"}
[ -d "$build" ] || { echo "check_sdk: build folder $build not found; build hjbtt first (scripts/setup.sh)" >&2; exit 1; }
build=$(cd "$build" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/hjbtt-sdk-check.XXXXXX")
prefix="$work/prefix"
example="$work/custom_potential"
out="$work/out"
trap 'status=$?; if [ $status -eq 0 ]; then rm -rf "$work"; else echo "check_sdk: failed; files kept in $work" >&2; fi' EXIT

fail() {
  echo "check_sdk: $*" >&2
  exit 1
}

# Only the prefix may provide hjbtt: no plugin folders or library paths from the environment.
unset HJBTT_PLUGIN_PATH LD_LIBRARY_PATH

echo "check_sdk: installing $build into $prefix" >&2
cmake --install "$build" --prefix "$prefix" >/dev/null

# The installed host must find the installed libhjbtt.so through its run path, not the build tree's.
host="$prefix/bin/hjbtt"
[ -x "$host" ] || fail "the install put no host at $host"
core_library=$(ldd "$host" | awk '$1 == "libhjbtt.so" { print $3 }')
case "$core_library" in
  "$prefix"/*) ;;
  *) fail "the installed host loads libhjbtt.so from '${core_library:-nowhere}', expected a file under $prefix; check CMAKE_INSTALL_RPATH" ;;
esac

# The example is a standalone project, so a copy of it builds anywhere. Its pipeline finds the
# module through plugin_paths ["build"], which is relative to the pipeline file.
echo "check_sdk: building examples/custom_potential against $prefix" >&2
cp -r "$root/examples/custom_potential" "$example"
rm -rf "$example/build"
cmake -S "$example" -B "$example/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$example/build" -j2 >/dev/null
[ -f "$example/build/libhjbtt_quartic.so" ] || fail "the example build made no $example/build/libhjbtt_quartic.so"

echo "check_sdk: running the example pipeline with $host" >&2
status=0
"$host" run "$example/pipeline.json" --out "$out" || status=$?
[ "$status" -eq 0 ] || fail "hjbtt run exited with status $status"
[ -f "$out/samples.npy" ] || fail "hjbtt run wrote no $out/samples.npy"

# The samples must have the pipeline's shape, and the statistics postprocessor must have compared
# them with the plugin's own reference. At N = 4000 the relative covariance error of exact draws
# is 0.01 to 0.03, and this pipeline measured 0.05 before MALA and 0.015 after it. An error above
# 0.5 therefore means the samples are not from this target (a polynomial form with the wrong
# signs measured 0.83), not sampling noise or solver inaccuracy.
python3 - "$out" <<'EOF'
import array
import ast
import json
import math
import sys

out = sys.argv[1]
report = json.load(open(f"{out}/report.json"))
pipeline = report["pipeline"]
expected_shape = (pipeline["sampler"]["params"]["samples"], pipeline["potential"]["params"]["dimension"])
if report["status"] != "complete":
    sys.exit(f"check_sdk: report status is {report['status']!r}, expected 'complete'")

# NPY version 1.0: magic, version, 2-byte header length, header dictionary, then the raw data.
# Read with the standard library only, so the check needs no numpy.
with open(f"{out}/samples.npy", "rb") as file:
    if file.read(8) != b"\x93NUMPY\x01\x00":
        sys.exit("check_sdk: samples.npy is not an NPY version 1.0 file")
    header = ast.literal_eval(file.read(int.from_bytes(file.read(2), "little")).decode("latin1"))
    values = array.array("d")
    values.frombytes(file.read())
if header["descr"] != "<f8" or header["fortran_order"] or header["shape"] != expected_shape:
    sys.exit(f"check_sdk: samples.npy holds {header}, expected '<f8' of shape {expected_shape} in C order")
if len(values) != expected_shape[0] * expected_shape[1]:
    sys.exit(f"check_sdk: samples.npy holds {len(values)} numbers, expected {expected_shape[0] * expected_shape[1]}")
if not all(math.isfinite(x) for x in values):
    sys.exit("check_sdk: samples.npy contains non-finite values")

statistics = report["postprocessors"][-1]["langevin"]
error = statistics.get("covariance_relative_error")
if error is None:
    sys.exit("check_sdk: the statistics report has no covariance error, so the plugin's reference was not used")
if not error < 0.5:
    sys.exit(f"check_sdk: covariance error {error:.3g} against the exact quartic_chain covariance exceeds 0.5")
print(f"check_sdk: passed ({expected_shape[0]} x {expected_shape[1]} samples, covariance error {error:.3g})")
EOF
