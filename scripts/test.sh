#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the pinned test tools (moto 5.2.5,
# check-jsonschema, the shellcheck binary) into .venv, starts the emulator on a free 127.0.0.1 port, runs the integration checks and
# every Rust test against it, and stops the emulator.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/emulator.sh
source scripts/emulator.sh
ensure_venv
start_emulator
export ECSGATE_REQUIRE_EMULATOR=1

echo "==> integration checks (action, orb, scripts)"
bash tests/integrations/check.sh

echo "==> cargo test"
cargo test --locked "$@"
