#!/usr/bin/env bash
# Runs every experiment of docs/experiments.md and redraws its figures and tables.
# Usage: scripts/experiments.sh [OUT_DIR]   (default /tmp/hjbtt-experiments)
#
# Each run writes its report.json under OUT_DIR/runs/NAME (its samples and solution are deleted
# afterwards), and each score study writes OUT_DIR/study/NAME.json. Only the figures go into the repository (docs/figures); the
# tables are printed and saved as OUT_DIR/tables.md. A run whose folder already contains a finished
# report of the same command is reused, so a second call only redraws; set
# HJBTT_EXPERIMENTS_RERUN=1 to run everything again.
#
# The build goes into HJBTT_BUILD (default build-experiments in the repository, which git
# ignores), configured in Release mode with the benchmarks, because the score study is a
# benchmark program. scripts/setup.sh installs the build packages when missing, and this script
# installs python3-matplotlib the same way. The runs took 20 minutes on 2 cores that other jobs
# shared (load average 5 to 7); docs/experiments.md lists the times.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-/tmp/hjbtt-experiments}" && cd "${1:-/tmp/hjbtt-experiments}" && pwd)
build=${HJBTT_BUILD:-"$root/build-experiments"}
rerun=${HJBTT_EXPERIMENTS_RERUN:-0}
run_limit=240  # seconds per run, see run_limited
python=/usr/bin/python3

# Installs the Debian packages given when missing, as scripts/setup.sh does.
install_missing() {
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  echo "experiments: installing ${missing[*]}" >&2
  local sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Build: setup.sh installs the packages and builds the host and plugins, then the benchmark
# option adds the score study.
start_seconds=$SECONDS
"$root/scripts/setup.sh" "$build" >&2
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DHJBTT_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j2 --target hjbtt hjbtt_study_gaussian >&2
install_missing python3-matplotlib python3-numpy
build_seconds=$((SECONDS - start_seconds))

hjbtt="$build/bin/hjbtt"
study_program="$build/bin/hjbtt_study_gaussian"
gaussian="$root/examples/gaussian-20.json"
mixed="$root/examples/mixed-20.json"
mkdir -p "$out/runs" "$out/study"

# Sample counts: 20 000 for the two main runs, 10 000 for the sensitivity and efficiency runs,
# 40 000 for the stabilisation runs (d = 2).
# Every run keeps the pipeline's seed, so runs that differ in one parameter share their random
# numbers and their differences come from the solution rather than from sampling noise.
main_samples=(--set /sampler/params/samples=20000)
sweep_samples=(--set /sampler/params/samples=10000)

# The MALA chain of mixed-20 with statistics after 0, 5, 20, 50 and 100 steps in total.
# Consecutive MALA postprocessors continue one Markov chain, so the statistics after k steps in
# total have the law of a single k-step run.
langevin_chain='[{"plugin":"statistics","params":{"label":"langevin_0"}}'
previous=0
for total in 5 20 50 100; do
  langevin_chain+=',{"plugin":"langevin","params":{"steps":'$((total - previous))',"step_size":0.05,"metropolis":true}}'
  langevin_chain+=',{"plugin":"statistics","params":{"label":"langevin_'$total'"}}'
  previous=$total
done
langevin_chain+=']'

# A fixed step h: every step has length h, and no criterion shortens it.
fixed_step() {
  printf '%s\n' --set "/integrator/params/fixed_step=$1"
}

# Runs `hjbtt run PIPELINE ARGS...` into OUT/runs/NAME, unless a finished report of the same
# command is there. A failed solve (for example a divergence) is a result and does not stop the
# script. Its report keeps the history up to the failure. A run still going after LIMIT seconds
# gets SIGTERM, and its report (status "interrupted") keeps the history up to then, because a
# solve whose steps collapse towards min_step would otherwise run for hours.
run_limited() {
  local limit=$1 name=$2 pipeline=$3
  shift 3
  local folder="$out/runs/$name" command="$pipeline $*"
  local finished='"status":"\(complete\|failed\|interrupted\)"'
  if [ "$rerun" != 1 ] && [ -f "$folder/command.txt" ] && [ "$(cat "$folder/command.txt")" = "$command" ] &&
    grep -q "$finished" "$folder/report.json" "$folder/report.failed.json" 2>/dev/null; then
    echo "experiments: $name reused" >&2
    return 0
  fi
  echo "experiments: $name" >&2
  executed=$((executed + 1))
  rm -rf "$folder"
  local status=0
  timeout --signal=TERM --kill-after=30 "$limit" "$hjbtt" run "$pipeline" --out "$folder" "$@" \
    >"$out/runs/$name.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ] && [ "$status" -ne 1 ] && [ "$status" -ne 124 ]; then
    echo "experiments: $name stopped with status $status; see $out/runs/$name.log" >&2
    exit "$status"
  fi
  echo "$command" >"$folder/command.txt"
  # The figures need only the report.
  rm -f "$folder/samples.npy" "$folder/solution.bin" "$folder/solution.bin.partial" "$folder/checkpoint.bin"
}

run() { run_limited "$run_limit" "$@"; }

# Runs the score study of a Gaussian pipeline into OUT/study/NAME.json, with the same reuse rule.
study() {
  local name=$1 pipeline=$2
  shift 2
  local file="$out/study/$name.json" command="$pipeline $*"
  if [ "$rerun" != 1 ] && [ -f "$file" ] && [ -f "$file.command" ] && [ "$(cat "$file.command")" = "$command" ]; then
    echo "experiments: study $name reused" >&2
    return 0
  fi
  echo "experiments: study $name" >&2
  executed=$((executed + 1))
  "$study_program" "$pipeline" "$@" >"$file.partial"
  mv "$file.partial" "$file"
  echo "$command" >"$file.command"
}

runs_start=$SECONDS
executed=0
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)
revision="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), modified files:\
 $(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"

# gaussian-20: the default pipeline, and the score error of its solution.
run gaussian-20 "$gaussian" "${main_samples[@]}"
study gaussian-20 "$gaussian"

# Efficiency on gaussian-20: the adaptive controller at four stability factors against fixed steps.
for factor in 0.25 0.5 2; do
  study "gaussian-20-stability-$factor" "$gaussian" --set "/integrator/params/stability_factor=$factor"
done
for h in 0.01 0.005 0.0025; do
  mapfile -t fixed < <(fixed_step "$h")
  study "gaussian-20-fixed-$h" "$gaussian" "${fixed[@]}"
done

# mixed-20: the default pipeline with the MALA chain.
run mixed-20 "$mixed" "${main_samples[@]}" --set "/postprocessors=$langevin_chain"

# Sensitivity on mixed-20: one parameter at a time, from the default pipeline.
run mixed-20-default "$mixed" "${sweep_samples[@]}"
for value in 1e-4 1e-5 1e-7 1e-8; do
  run "mixed-20-rank_tolerance-$value" "$mixed" "${sweep_samples[@]}" --set "/integrator/params/rank_tolerance=$value"
done
# retraction_tolerance matters only where max_rank truncates: with the cap above the ranks the
# rounding error stays below rank_tolerance, so it is varied under binding caps.
for pair in 5:1e-4 4:1e-4 4:1e-2; do
  rank=${pair%%:*} tolerance=${pair##*:}
  run "mixed-20-max_rank-$rank-retraction_tolerance-$tolerance" "$mixed" "${sweep_samples[@]}" \
    --set "/integrator/params/max_rank=$rank" --set "/integrator/params/retraction_tolerance=$tolerance"
done
for value in 0.25 0.5 2; do
  run "mixed-20-stability_factor-$value" "$mixed" "${sweep_samples[@]}" \
    --set "/integrator/params/stability_factor=$value"
done
for value in 4 6 10; do
  run "mixed-20-degree-$value" "$mixed" "${sweep_samples[@]}" --set "/basis/params/degree=$value"
done
for value in 1e-2 1e-4 1e-6; do
  run "mixed-20-projection_tolerance-$value" "$mixed" "${sweep_samples[@]}" --set /basis/params/degree=4 \
    --set /integrator/params/max_degree=8 --set "/integrator/params/projection_tolerance=$value"
done
run "mixed-20-projection_tolerance-all-1e-4" "$mixed" "${sweep_samples[@]}" --set /basis/params/degree=4 \
  --set /integrator/params/max_degree=8 --set /integrator/params/projection_tolerance=1e-4 \
  --set /integrator/params/degree_raise=all
for value in 30 100; do
  run "mixed-20-viscosity-$value" "$mixed" "${sweep_samples[@]}" --set "/integrator/params/viscosity=$value"
done

# Stabilisation: spectral viscosity where the Galerkin system has growing modes. mixture-2
# (three Gaussians in d = 2, exact reference) diverges above degree 16 on [-6, 6]. One block of
# many-well-32 (the tilted double well and a Gaussian) diverges at degree 12 on [-5, 5] and
# degree 16 on [-6, 6]. The many-well runs use exponential_euler, whose steps the viscosity
# does not shorten.
mixture="$root/examples/mixture-2.json"
many_well="$root/examples/many-well-32.json"
stabilisation_samples=(--set /sampler/params/samples=40000)
for pair in 16:0 16:100 20:0 20:100 20:300 24:0 24:300; do
  degree=${pair%%:*} nu=${pair##*:}
  run "stab-mixture-2-degree-$degree-viscosity-$nu" "$mixture" "${stabilisation_samples[@]}" \
    --set "/basis/params/degree=$degree" --set "/integrator/params/viscosity=$nu"
done
for box in 5 6; do
  for degree in 8 12 16; do
    for nu in 0 100 300 1000; do
      run "stab-many-well-2-box-$box-degree-$degree-viscosity-$nu" "$many_well" "${stabilisation_samples[@]}" \
        --set /potential/params/pairs=1 --set "/basis/params/domain=[-$box,$box]" \
        --set "/basis/params/degree=$degree" --set /integrator/plugin=exponential_euler \
        --set "/integrator/params/viscosity=$nu"
    done
  done
done

# Efficiency on mixed-20: the largest fixed step that the stiffness at t = 0 allows.
mapfile -t fixed < <(fixed_step 3e-4)
run_limited 1200 mixed-20-fixed-3e-4 "$mixed" "${sweep_samples[@]}" "${fixed[@]}"

# The machine record describes the last call that ran something, so a call that only redraws
# keeps it.
runs_seconds=$((SECONDS - runs_start))
((executed == 0)) || {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "load average (1, 5, 15 min) at the start: $load_at_start, at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "build: ${build_seconds} s, runs: ${runs_seconds} s"
  echo "commit at the start of the runs: $revision"
} >"$out/machine.txt"
cat "$out/machine.txt" >&2

"$python" "$root/scripts/experiments.py" "$out" --figures "$root/docs/figures" | tee "$out/tables.md"
