#!/usr/bin/env bash
# Installs the Debian 12 packages hjbtt needs (when missing) and builds it in Release mode.
# Usage: scripts/setup.sh [BUILD_DIR]   (default: build). Uses at most 2 parallel jobs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-"$root/build"}

packages=(
  g++ make cmake pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-filesystem1.81-dev
  libarmadillo-dev libopenblas-dev liblapack-dev
  doctest-dev python3 python3-numpy
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2
