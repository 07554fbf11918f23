#!/usr/bin/env bash
# Builds hjbtt_bench in Release mode into build-bench and runs every subcommand, writing
# bench/results/YYYY-MM-DD.jsonl (UTC date; a rerun on the same day replaces the file).
# Usage: scripts/bench.sh [EXTRA hjbtt_bench OPTIONS...], e.g. scripts/bench.sh --repeats 3
# Needs the packages that scripts/setup.sh installs. Takes about 3 minutes on 2 cores after the build.
#
# Everything runs on one thread (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1), the setting of the
# single-thread reference times in docs/performance.md, except that `sampler` also runs with two
# OpenMP threads (it sets the count itself; OpenBLAS stays at one thread).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
results="$root/bench/results/$(date -u +%F).jsonl"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHJBTT_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j2 --target hjbtt_bench

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
mkdir -p "$(dirname "$results")"
revision=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
modified=$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
printf '{"bench":"revision","commit":"%s","modified_files":%d,"host":"%s","cpu":"%s"}\n' \
  "$revision" "$modified" "$(hostname)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" >"$results"

for subcommand in round rhs gradient linear-d sampler; do
  echo "bench: $subcommand" >&2
  "$build/bin/hjbtt_bench" "$subcommand" "$@" | tee -a "$results"
done

# rhs, gradient, linear-d and sampler again with glibc's trim and mmap thresholds raised to 256 MiB, so
# freed temporaries stay mapped. The difference is the time spent returning memory to the
# kernel and faulting it back in. These rows carry a GLIBC_TUNABLES field.
tunables=glibc.malloc.trim_threshold=268435456:glibc.malloc.mmap_threshold=268435456
for subcommand in rhs gradient linear-d sampler; do
  echo "bench: $subcommand with GLIBC_TUNABLES=$tunables" >&2
  GLIBC_TUNABLES=$tunables "$build/bin/hjbtt_bench" "$subcommand" "$@" | tee -a "$results"
done
echo "bench: results in $results" >&2
