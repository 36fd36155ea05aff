#!/usr/bin/env bash
# Maps the GitHub Action's inputs / the CircleCI orb's parameters (INPUT_* environment) to `ecsgate wait`,
# or to `ecsgate deploy` when an image, a task definition or a forced new deployment is given, or to
# `ecsgate run` (one-off tasks) when INPUT_COMMAND=run.
# On GitHub (GITHUB_ACTIONS=true) ecsgate itself writes the step outputs, the job summary and the
# annotations; the record file is kept for actions/upload-artifact or store_artifacts.
set -euo pipefail

# Lists: one item per line (a YAML block) or comma-separated; ecsgate takes them comma-separated.
list() { printf '%s' "$1" | tr '\n' ',' | tr -d ' \r' | sed 's/,,*/,/g; s/^,//; s/,$//'; }
# Webhook URLs are secrets: through the environment, never on the command line (process lists, logs).
# The orb names the variable (from a context) that holds them.
if [ -z "${INPUT_NOTIFY:-}" ] && [ -n "${INPUT_NOTIFY_VAR:-}" ]; then INPUT_NOTIFY="${!INPUT_NOTIFY_VAR:-}"; fi
if [ -n "${INPUT_NOTIFY:-}" ]; then ECSGATE_NOTIFY=$(list "$INPUT_NOTIFY"); export ECSGATE_NOTIFY; fi

if [ "${INPUT_COMMAND:-}" = "run" ]; then
  # One-off tasks: the service lends its task definition and network, or a task definition is given.
  args=(run)
  if [ -n "${INPUT_SERVICE:-}" ]; then args+=(--service "$(list "$INPUT_SERVICE")"); fi
  if [ -n "${INPUT_TASK_DEFINITION:-}" ]; then args+=(--task-definition "$INPUT_TASK_DEFINITION"); fi
  if [ -n "${INPUT_CLUSTER:-}" ]; then args+=(--cluster "$INPUT_CLUSTER"); fi
  if [ -n "${INPUT_CONTAINER:-}" ]; then args+=(--container "$INPUT_CONTAINER"); fi
  if [ -n "${INPUT_COUNT:-}" ]; then args+=(--count "$INPUT_COUNT"); fi
  # `auto` is the deployment gate's default; a run's own default (30m) applies then.
  if [ -n "${INPUT_TIMEOUT:-}" ] && [ "${INPUT_TIMEOUT}" != "auto" ]; then args+=(--timeout "$INPUT_TIMEOUT"); fi
  if [ -n "${INPUT_REGION:-}" ]; then args+=(--region "$INPUT_REGION"); fi
  if [ -n "${INPUT_NOTIFY_ON:-}" ]; then args+=(--notify-on "$INPUT_NOTIFY_ON"); fi
  if [ -n "${INPUT_JUNIT_FILE:-}" ]; then args+=(--junit "$INPUT_JUNIT_FILE"); fi
  # NAME=VALUE, one per line (a value may hold commas).
  while IFS= read -r line; do
    line="${line%$'\r'}"
    if [ -n "${line// /}" ]; then args+=(--env "$line"); fi
  done <<< "${INPUT_ENV:-}"
  # The task's command: one word per line when it has several lines, else split on spaces.
  words=()
  if [[ "${INPUT_RUN_COMMAND:-}" == *$'\n'* ]]; then
    while IFS= read -r line; do if [ -n "$line" ]; then words+=("${line%$'\r'}"); fi; done <<< "$INPUT_RUN_COMMAND"
  elif [ -n "${INPUT_RUN_COMMAND:-}" ]; then
    read -r -a words <<< "$INPUT_RUN_COMMAND"
  fi
  if [ "${#words[@]}" -gt 0 ]; then args+=(-- "${words[@]}"); fi
  exec "${ECSGATE_BIN:-ecsgate}" "${args[@]}"
fi

services=$(list "${INPUT_SERVICE:?the service input is required}")
images=$(list "${INPUT_IMAGE:-}")
if [ -n "$images" ] || [ -n "${INPUT_TASK_DEFINITION:-}" ] || [ "${INPUT_FORCE_NEW_DEPLOYMENT:-false}" = "true" ]; then
  args=(deploy --service "$services")
  if [ -n "$images" ]; then args+=(--image "$images"); fi
  if [ -n "${INPUT_TASK_DEFINITION:-}" ]; then args+=(--task-definition "$INPUT_TASK_DEFINITION"); fi
  if [ "${INPUT_FORCE_NEW_DEPLOYMENT:-false}" = "true" ]; then args+=(--force-new-deployment); fi
else
  args=(wait --service "$services")
fi
if [ -n "${INPUT_CLUSTER:-}" ]; then args+=(--cluster "$INPUT_CLUSTER"); fi
if [ -n "${INPUT_DEPLOYMENT_ID:-}" ]; then args+=(--deployment-id "$INPUT_DEPLOYMENT_ID"); fi
if [ -n "${INPUT_TIMEOUT:-}" ]; then args+=(--timeout "$INPUT_TIMEOUT"); fi
if [ -n "${INPUT_MAX_TASK_FAILURES:-}" ]; then args+=(--max-task-failures "$INPUT_MAX_TASK_FAILURES"); fi
if [ -n "${INPUT_REGION:-}" ]; then args+=(--region "$INPUT_REGION"); fi
if [ "${INPUT_FAIL_FAST:-false}" = "true" ]; then args+=(--fail-fast); fi
if [ -n "${INPUT_UNTIL:-}" ]; then args+=(--until "$INPUT_UNTIL"); fi
if [ "${INPUT_ROLLBACK_ON_FAILURE:-false}" = "true" ]; then args+=(--rollback-on-failure); fi
if [ -n "${INPUT_NOTIFY_ON:-}" ]; then args+=(--notify-on "$INPUT_NOTIFY_ON"); fi
if [ -n "${INPUT_JUNIT_FILE:-}" ]; then args+=(--junit "$INPUT_JUNIT_FILE"); fi
if [ -n "${INPUT_GITHUB_DEPLOYMENT:-}" ]; then args+=(--github-deployment "$INPUT_GITHUB_DEPLOYMENT"); fi
if [ -n "${INPUT_DETACH_AT:-}" ]; then args+=(--detach-at "$INPUT_DETACH_AT"); fi
record="${INPUT_RECORD_FILE:-${RUNNER_TEMP:-/tmp}/ecsgate-record.jsonl}"
mkdir -p "$(dirname "$record")"
# The wrapper owns this file (a re-run of the step in the same job finds the last one): replace it.
args+=(--record "$record" --force)
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "record-file=$record" >> "$GITHUB_OUTPUT"; fi

exec "${ECSGATE_BIN:-ecsgate}" "${args[@]}"
