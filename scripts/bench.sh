#!/usr/bin/env bash
# Benchmarks: replay throughput/memory, and the live gate's latency on the emulator against
# `aws ecs wait services-stable` in the same run. Prints figures; passes or fails nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/emulator.sh
source scripts/emulator.sh
ensure_venv
cargo bench --locked --bench replay
start_emulator
export ECSGATE_AWS_CLI="$ECSGATE_VENV/bin/aws"
cargo bench --locked --bench latency
cargo bench --locked --bench scale
