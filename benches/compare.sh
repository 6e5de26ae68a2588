#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: cutover's own figures (the console, idle and discovery benches),
# then cutover side by side with the Kubernetes TUIs that install from crates.io, each run as
# its real binary in tmux against the same `cutover demo --serve --fleet N` cluster
# (benches/peers.rs). Not part of `.ci/run`.
#
#   bash benches/compare.sh [--peers] [--shipped] [--releases 10,1000,5000] [--idle-secs 60]
#                           [--changes 20] [--log FILE]
#
#   --peers      also measure kdash and kubetui, installing them first with
#                `cargo install --locked --root "$CUTOVER_PEERS_ROOT"` unless bin/ holds them
#                (default root: ./target/peers; they are not dependencies of cutover)
#   --shipped    the shipped bench profile (fat LTO: 15–30 min to build on 2 cores) instead of
#                thin LTO with 16 codegen units
#   --releases   fleet sizes for the console curve and the side-by-side runs
#   --log FILE   also write everything printed to FILE (default: target/compare.log)
#
# Needs tmux (not kubectl). Takes about 45 minutes with --peers on 2 cores, 8 of them building
# the bench binaries (each tool: an idle minute and 20 changes at each fleet size), about 25
# without.
set -euo pipefail

peers=0
shipped=0
releases=10,1000,5000
idle_secs=60
changes=20
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log="${CARGO_TARGET_DIR:-$here/target}/compare.log"
while [ $# -gt 0 ]; do
  case "$1" in
    --peers) peers=1 ;;
    --shipped) shipped=1 ;;
    --releases) releases="$2"; shift ;;
    --idle-secs) idle_secs="$2"; shift ;;
    --changes) changes="$2"; shift ;;
    --log) log="$2"; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

command -v tmux >/dev/null || { echo "compare.sh: tmux is needed (apt-get install tmux)" >&2; exit 2; }
cd "$here"
if [ "$shipped" = 0 ]; then
  # Thin LTO: the shipped fat-LTO profile takes 15–30 min to build here (about 3–4 MB more RSS
  # without it).
  export CARGO_PROFILE_BENCH_LTO=false CARGO_PROFILE_BENCH_CODEGEN_UNITS=16
fi
mkdir -p "$(dirname "$log")"
exec > >(tee "$log") 2>&1
started=$(date +%s)

echo "## Machine"
echo
echo "- $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "- RAM: $(free -g | awk '/^Mem:/ {print $2}') GB; kernel $(uname -r); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- profile: $([ "$shipped" = 1 ] && echo 'bench (fat LTO, shipped)' || echo 'bench with CARGO_PROFILE_BENCH_LTO=false CARGO_PROFILE_BENCH_CODEGEN_UNITS=16')"
echo "- cutover $(git rev-parse --short HEAD); $(rustc --version); $(tmux -V)"
echo

if [ "$peers" = 1 ]; then
  export CUTOVER_PEERS_ROOT="${CUTOVER_PEERS_ROOT:-${CARGO_TARGET_DIR:-$here/target}/peers}"
  for tool in kdash kubetui; do
    if [ ! -x "$CUTOVER_PEERS_ROOT/bin/$tool" ]; then
      echo "installing $tool into $CUTOVER_PEERS_ROOT (a few minutes)"
      nice cargo install --locked --root "$CUTOVER_PEERS_ROOT" "$tool"
    fi
  done
  for tool in kdash kubetui; do
    echo "- $tool: $("$CUTOVER_PEERS_ROOT/bin/$tool" --version 2>&1 | head -1)"
  done
  echo
fi

bench() { nice cargo bench --locked --bench "$@"; }

echo "## cutover's own figures"
bench console -- --releases "$releases"
bench console -- --idle
CUTOVER_BENCH_RELEASES=1000 bench discovery

echo
echo "## Side by side"
side=(--releases "$releases" --idle-secs "$idle_secs" --changes "$changes")
[ "$peers" = 1 ] && side+=(--peers)
bench peers -- "${side[@]}"

echo
echo "compare.sh took $(( ($(date +%s) - started) / 60 )) min; log in $log"
