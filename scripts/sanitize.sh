#!/usr/bin/env bash
# Builds hjbtt, its plugins and its tests with AddressSanitizer and UndefinedBehaviorSanitizer
# into build-asan and runs the whole test suite under them.
# Usage: scripts/sanitize.sh [EXTRA ctest OPTIONS...], e.g. scripts/sanitize.sh -R legendre
# HJBTT_JOBS sets the number of build jobs (default 2).
# Needs the packages that scripts/setup.sh installs. Exits non-zero if a test fails or a
# sanitizer reports an error.
#
# The host and the tests dlopen plugin modules. The modules are built with the same flags but
# are not linked with the sanitizer runtime themselves: the runtime comes from the executable,
# which is linked with -fsanitize, so it is loaded before any plugin.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-asan"
flags="-fsanitize=address,undefined -fno-omit-frame-pointer"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" \
  -DCMAKE_SHARED_LINKER_FLAGS="$flags" \
  -DCMAKE_MODULE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$build" -j"${HJBTT_JOBS:-2}"

# halt_on_error turns every undefined-behaviour report into a failed test, not just a line in
# the test's output.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Tests run one at a time: each instrumented executable needs a few times its usual memory.
ctest --test-dir "$build" --output-on-failure "$@"
