#!/usr/bin/env bash
# Builds the libFuzzer target fuzz_pipeline with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz and runs it from the example pipelines.
# Usage: scripts/fuzz.sh [RUNS]   (default 1000000 executions)
#        scripts/fuzz.sh --seconds S   (run for S seconds instead; the test command runs 60)
# Installs clang with apt-get (as root or through sudo) when it is missing. Exits non-zero when
# the fuzzer finds a crash, a sanitizer report, a timeout or an unexpected exception. The input
# that caused it is written to build-fuzz/findings/.
# HJBTT_FUZZ_BUILD_ONLY=1 stops after the build.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-fuzz"
limit=(-runs="${1:-1000000}")
what="${1:-1000000} runs"
if [ "${1:-}" = "--seconds" ]; then
  limit=(-max_total_time="${2:?--seconds expects a number of seconds}")
  what="${2} s"
fi

# -fsanitize=fuzzer needs clang and its runtime libraries (libclang-rt-14-dev on Debian 12).
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update
  $sudo apt-get install -y clang libclang-rt-14-dev
fi

# The libraries the target links get coverage instrumentation and the sanitizers, but only the
# target itself links the libFuzzer driver. Tests, plugin modules and the host are not built.
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DHJBTT_BUILD_FUZZERS=ON -DHJBTT_BUILD_TESTS=OFF \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j2 --target fuzz_pipeline
[ "${HJBTT_FUZZ_BUILD_ONLY:-0}" = 1 ] && exit 0

# The corpus folder collects the inputs that reached new code. The examples seed it read-only.
corpus="$build/corpus"
findings="$build/findings"
mkdir -p "$corpus" "$findings"
seeds=$(mktemp -d "${TMPDIR:-/tmp}/hjbtt-fuzz-seeds.XXXXXX")
trap 'rm -rf "$seeds"' EXIT
cp "$root"/examples/*.json "$seeds"/
cp "$root"/examples/custom_potential/pipeline.json "$seeds"/custom_potential.json

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
start=$(date +%s)
status=0
"$build/bin/fuzz_pipeline" "$corpus" "$seeds" "${limit[@]}" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$findings/" || status=$?
echo "fuzz: $what of fuzzing finished in $(($(date +%s) - start)) s with status $status; corpus in $corpus" >&2
exit $status
