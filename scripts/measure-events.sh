#!/usr/bin/env bash
# Typed events on a generated preset: do views and carts, weighted, beat purchases alone? (docs/shop-loop.md)
# Usage: scripts/measure-events.sh PRESET "SEEDS" OUT.json   (e.g. small "1 2 3" docs/bench/events-small.json)
# Every arm trains on the same prepared split (test pairs are purchases only) and differs only in --event-weights.
set -euo pipefail
preset=$1; seeds=$2; out=$3
work=$(mktemp -d)
vasg="node $(dirname "$0")/../bin/vasg.js"
arms=("purchases-only:purchase=1,cart=0,view=0" "weighted:purchase=1,cart=0.5,view=0.05" "unweighted:purchase=1,cart=1,view=1")
{
  echo '['
  first=1
  for seed in $seeds; do
    $vasg generate --preset "$preset" --seed "$seed" --views-per-purchase 3 --carts-per-purchase 0.5 --out "$work/data-$seed" --json >&2
    $vasg prepare --data "$work/data-$seed" --out "$work/split-$seed" --seed "$seed" --json >&2
    for arm in "${arms[@]}"; do
      name=${arm%%:*}; weights=${arm#*:}
      $vasg train --data "$work/split-$seed" --out "$work/model-$seed-$name" --threads 1 --seed "$seed" --event-weights "$weights" --json >&2
      metrics=$($vasg evaluate --model "$work/model-$seed-$name" --data "$work/split-$seed" --threads 1 --json)
      [ $first = 1 ] || echo ','
      first=0
      node -e 'const m = JSON.parse(process.argv[1]); console.log(JSON.stringify({ preset: process.argv[2], seed: +process.argv[3], arm: process.argv[4], weights: process.argv[5], auc: m.auc, recall20: m["recall@20"], ndcg20: m["ndcg@20"] }))' \
        "$metrics" "$preset" "$seed" "$name" "$weights"
    done
  done
  echo ']'
} > "$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$work"
