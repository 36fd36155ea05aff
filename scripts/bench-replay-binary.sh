#!/usr/bin/env bash
# README "Performance", the release binary's replay figures: writes the replay bench's three generated
# deployments (the generator in benches/replay.rs, ECSGATE_BENCH_WRITE) and times `ecsgate replay FILE -q`
# on each with /usr/bin/time (wall time, peak RSS). Builds the release binary unless ECSGATE_BIN names one.
# Usage: scripts/bench-replay-binary.sh       (ECSGATE_BENCH_SMOKE=1: a tenth of the tasks)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${ECSGATE_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --locked --release
  bin=target/release/ecsgate
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# The generator needs no optimisation: the dev profile builds it in seconds.
ECSGATE_BENCH_WRITE="$dir" cargo bench --locked --profile dev --bench replay
echo "==> $bin replay FILE -q"
for f in base events2 tasks2; do
  size=$(du -m "$dir/$f.jsonl" | cut -f1)
  set +e
  /usr/bin/time -f "%e s, peak RSS %M KB" -o "$dir/time" "$bin" replay "$dir/$f.jsonl" -q
  code=$?
  set -e
  echo "  $f.jsonl (${size} MB): exit $code, $(tail -n1 "$dir/time")"
  # The generated deployment never completes or fails: the stream ends with no verdict (exit 3).
  # Anything else (a crash, a usage error) means the figure is not a replay's.
  if [ "$code" -ne 3 ]; then echo "error: expected exit 3 (stream ended with no verdict)"; exit 1; fi
done
