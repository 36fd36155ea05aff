#!/usr/bin/env bash
# Benchmarks: replay throughput/memory, and the live gate's latency on the emulator against
# `aws ecs wait services-stable` in the same run. Prints figures; passes or fails nothing.
# `scripts/bench.sh --smoke` (CI, from .ci/run): every bench at small sizes, built with the dev profile,
# to prove each still runs and prints its figures (ECSGATE_BENCH_SMOKE=1); a bench that cannot run fails.
# The latency bench's smoke run does one run per scenario and leaves out the `aws ecs wait` baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
smoke=
if [ "${1:-}" = "--smoke" ]; then
  smoke=1
  export ECSGATE_BENCH_SMOKE=1
  profile=(--profile dev)
fi
# shellcheck source=scripts/emulator.sh
source scripts/emulator.sh
ensure_venv
cargo bench --locked "${profile[@]}" --bench replay
start_emulator
export ECSGATE_AWS_CLI="$ECSGATE_VENV/bin/aws"
cargo bench --locked "${profile[@]}" --bench latency
cargo bench --locked "${profile[@]}" --bench scale
cargo bench --locked "${profile[@]}" --bench hub_scale
if [ -n "$smoke" ]; then
  # The release-binary replay figures' script, on the dev binary at smoke sizes.
  cargo build --locked
  ECSGATE_BIN=target/debug/ecsgate scripts/bench-replay-binary.sh
fi
