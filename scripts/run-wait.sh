#!/usr/bin/env bash
# Maps the GitHub Action's inputs / the CircleCI orb's parameters (INPUT_* environment) to `ecsgate wait`.
# On GitHub (GITHUB_ACTIONS=true) ecsgate itself writes the step outputs, the job summary and the
# annotations; the record file is kept for actions/upload-artifact or store_artifacts.
set -euo pipefail

# Several services: one per line (a YAML block) or comma-separated; ecsgate takes them comma-separated.
services=$(printf '%s' "${INPUT_SERVICE:?the service input is required}" | tr '\n' ',' | tr -d ' \r' | sed 's/,,*/,/g; s/^,//; s/,$//')
args=(wait --service "$services")
if [ -n "${INPUT_CLUSTER:-}" ]; then args+=(--cluster "$INPUT_CLUSTER"); fi
if [ -n "${INPUT_DEPLOYMENT_ID:-}" ]; then args+=(--deployment-id "$INPUT_DEPLOYMENT_ID"); fi
if [ -n "${INPUT_TIMEOUT:-}" ]; then args+=(--timeout "$INPUT_TIMEOUT"); fi
if [ -n "${INPUT_MAX_TASK_FAILURES:-}" ]; then args+=(--max-task-failures "$INPUT_MAX_TASK_FAILURES"); fi
if [ -n "${INPUT_REGION:-}" ]; then args+=(--region "$INPUT_REGION"); fi
if [ "${INPUT_FAIL_FAST:-false}" = "true" ]; then args+=(--fail-fast); fi
record="${INPUT_RECORD_FILE:-${RUNNER_TEMP:-/tmp}/ecsgate-record.jsonl}"
mkdir -p "$(dirname "$record")"
args+=(--record "$record")
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "record-file=$record" >> "$GITHUB_OUTPUT"; fi

exec "${ECSGATE_BIN:-ecsgate}" "${args[@]}"
