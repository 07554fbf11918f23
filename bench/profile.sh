#!/usr/bin/env bash
# Records perf profiles of one HJB right-hand-side case and one sampler run of hjbtt_bench,
# single-threaded, and prints the top entries by self time and by inclusive time.
# Usage: bench/profile.sh   (after scripts/bench.sh has built build-bench; needs perf and the
# permission to record, e.g. root or kernel.perf_event_paranoid <= 1).
#
# The flat profiles (-g, frame pointers) give reliable self times. Inclusive times need DWARF
# unwinding (--call-graph dwarf), which cannot unwind through OpenBLAS's assembly kernels, so
# time inside dgemm_kernel_* is missing from its callers' inclusive share.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bench="$root/build-bench/bin/hjbtt_bench"
out="$root/build-bench/perf"
mkdir -p "$out"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

profile() {
  local name=$1
  shift
  perf record -q -F 2000 -g -o "$out/$name.flat.data" "$bench" "$@" >/dev/null
  perf record -q -F 500 --call-graph dwarf,32768 -o "$out/$name.dwarf.data" "$bench" "$@" >/dev/null
  echo "== $name: self time"
  perf report -i "$out/$name.flat.data" --no-children --percent-limit 1 --stdio -g none 2>/dev/null | grep -E '^ +[0-9]'
  echo "== $name: time by shared object"
  perf report -i "$out/$name.flat.data" --no-children --sort dso --percent-limit 0.5 --stdio 2>/dev/null | grep -E '^ +[0-9]'
  echo "== $name: inclusive time (DWARF call graphs)"
  perf report -i "$out/$name.dwarf.data" --children --percent-limit 3 --stdio -g none 2>/dev/null | grep -E '^ +[0-9]'
}

# 40 evaluations of F(v) at d = 20, r = 8, so that set-up is a small part of the profile.
profile rhs rhs --filter rhs/evaluate/d20/r8 --repeats 40 --no-dgemm
# One reverse-SDE run on one thread (16384 samples, 100 steps), after the solve that builds the
# gaussian-20 solution. The solve is about 15 % of the profile, and its entries are the round
# and QR ones.
profile sampler sampler --filter threads1 --threads 1 --repeats 1 --no-dgemm
