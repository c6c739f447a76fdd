#!/usr/bin/env bash
# The REDUCED compression experiments behind docs/compression.md (5,000 training and 2,000
# test samples, 3 epochs, 3 seeds; a 2-core machine shared with other jobs). Two queues run
# in parallel; each line is one `mutua-client --local-mutual` command whose JSON and CSV go
# under docs/results/compression-*/. Usage: scripts/compression/run-reduced.sh [BIN]
set -u
cd "$(dirname "$0")/../.."
BIN=${1:-client-node/bin/mutua-client.js}
COMMON="--train-size 5000 --test-size 2000 --epochs 3 --seeds 3 --quiet"
run() { # name dir args...
  local name=$1 dir=$2; shift 2
  mkdir -p "$dir"
  echo "$(date -u +%FT%TZ) start $name"
  node "$BIN" "$@" $COMMON --out "$dir/$name.json" --csv "$dir/$name.csv" >"$dir/$name.log" 2>&1
  echo "$(date -u +%FT%TZ) done $name (exit $?)"
}
TWO=docs/results/compression-two-network
SIZE=docs/results/compression-size
(
  run mnist-k2 $TWO --local-mutual mlp-tiny,cnn-tiny --teacher cnn-fedavg --data builtin:mnist
  run fashion-k2 $TWO --local-mutual mlp-tiny,cnn-tiny --teacher cnn-fedavg --data builtin:fashion-mnist
) &
(
  run dense $SIZE --local-mutual mlp,mlp --data builtin:mnist --export-dir /tmp/mutua-compress-exports/dense
  run sparse80 $SIZE --local-mutual mlp,mlp --data builtin:mnist --prune 0.8 --export-dir /tmp/mutua-compress-exports/sparse80
  run mnist-k3 $TWO --local-mutual mlp-tiny,cnn-tiny,cnn-tiny --no-alone --data builtin:mnist
  run sparse90 $SIZE --local-mutual mlp,mlp --data builtin:mnist --prune 0.9 --export-dir /tmp/mutua-compress-exports/sparse90
  run sparse50 $SIZE --local-mutual mlp,mlp --data builtin:mnist --prune 0.5 --export-dir /tmp/mutua-compress-exports/sparse50
  run fashion-k3 $TWO --local-mutual mlp-tiny,cnn-tiny,cnn-tiny --no-alone --data builtin:fashion-mnist
) &
wait
