#!/usr/bin/env bash
# The LONGER compression experiments behind docs/compression.md (same 5,000 training and
# 2,000 test samples as run-reduced.sh, more epochs, 3 seeds; a 2-core machine shared with
# another heavy experiment). One command at a time (nice -n 10); each line is one
# `mutua-client --local-mutual` command whose JSON, CSV and log go under
# docs/results/compression-*-long/. Usage: scripts/compression/run-longer.sh [SECTION...]
# with SECTION among size80, probe, two, size5090, k3 (default: all, in that order);
# T=<temperature> for two and k3 (default 1).
set -u
# MUTUA_ROOT: the checkout to run in (for running a copy of this script from elsewhere).
cd "${MUTUA_ROOT:-$(dirname "$0")/../..}"
BIN=${BIN:-client-node/bin/mutua-client.js}
run() { # name dir args...
  local name=$1 dir=$2; shift 2
  mkdir -p "$dir"
  echo "$(date -u +%FT%TZ) start $name"
  nice -n 10 node "$BIN" "$@" --quiet --out "$dir/$name.json" --csv "$dir/$name.csv" >"$dir/$name.log" 2>&1
  echo "$(date -u +%FT%TZ) done $name (exit $?)"
}
SIZE=docs/results/compression-size-long
TWO=docs/results/compression-two-network-long
EXP=/tmp/mutua-compress-exports-long
# (b) size–accuracy: mlp,mlp on MNIST, 10 epochs (pruning between 20% and 70% of the steps,
# so 3 epochs of recovery with frozen masks), the dense run being the same-budget baseline.
SIZE_COMMON="--local-mutual mlp,mlp --data builtin:mnist --train-size 5000 --test-size 2000 --epochs 10 --seeds 3"
size80() {
  run dense $SIZE $SIZE_COMMON --export-dir $EXP/dense
  run sparse80 $SIZE $SIZE_COMMON --prune 0.8 --export-dir $EXP/sparse80
}
size5090() {
  run sparse50 $SIZE $SIZE_COMMON --prune 0.5 --export-dir $EXP/sparse50
  run sparse90 $SIZE $SIZE_COMMON --prune 0.9 --export-dir $EXP/sparse90
}
# (a) two-network table: 20 epochs on the 5,000 samples; the teacher (cnn-fedavg, 1.66M
# params) is trained 5 epochs per seed by the command itself (its predictions are then
# computed once and are every one-way student's targets).
TWO_COMMON="--train-size 5000 --test-size 2000 --epochs 20"
# A one-seed probe of the temperature on the mutual setting alone (Fashion-MNIST, seed 1).
probe() {
  run probe-fashion-k2-T1 $TWO --local-mutual mlp-tiny,cnn-tiny --no-alone --data builtin:fashion-mnist $TWO_COMMON --seeds 1 --temperature 1
  run probe-fashion-k2-T3 $TWO --local-mutual mlp-tiny,cnn-tiny --no-alone --data builtin:fashion-mnist $TWO_COMMON --seeds 1 --temperature 3
}
T=${T:-1}
two() {
  run fashion-k2 $TWO --local-mutual mlp-tiny,cnn-tiny --teacher cnn-fedavg --teacher-epochs 5 --data builtin:fashion-mnist $TWO_COMMON --seeds 3 --temperature $T
  run mnist-k2 $TWO --local-mutual mlp-tiny,cnn-tiny --teacher cnn-fedavg --teacher-epochs 5 --data builtin:mnist $TWO_COMMON --seeds 3 --temperature $T
}
k3() {
  run fashion-k3 $TWO --local-mutual mlp-tiny,cnn-tiny,cnn-tiny --no-alone --data builtin:fashion-mnist $TWO_COMMON --seeds 3 --temperature $T
  run mnist-k3 $TWO --local-mutual mlp-tiny,cnn-tiny,cnn-tiny --no-alone --data builtin:mnist $TWO_COMMON --seeds 3 --temperature $T
}
sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(size80 probe two size5090 k3)
for s in "${sections[@]}"; do "$s"; done
