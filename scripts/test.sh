#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the pinned test tools (moto 5.2.5,
# check-jsonschema, the shellcheck binary) into .venv, starts the emulator on a free 127.0.0.1 port, runs the integration checks and
# every Rust test against it, stops the emulator, and prints how many tests of each kind ran.
# Fails when a test fails or when no test ran at all (a filter that matches nothing is not a pass).
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing run from here can reach AWS or read the developer's setup, unit tests included: a dead local
# endpoint (the discard port), no instance metadata, empty config and credentials files. The e2e tests
# and the emulator harness name the emulator explicitly.
export AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ROLE_ARN \
  AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
# shellcheck source=scripts/emulator.sh
source scripts/emulator.sh
ensure_venv
start_emulator

echo "==> integration checks (action, orb, scripts)"
bash tests/integrations/check.sh

echo "==> cargo test"
log=target/test-run.log
cargo test --locked "$@" 2>&1 | tee "$log"
# One total, per kind: each "Running <target>" line names the binary whose "test result:" follows.
scripts/test-totals.sh "$log"
