#!/usr/bin/env bash
# Checks of the CI integrations: the action, the workflows and the packed orb against their schemas
# (check-jsonschema's vendored GitHub and CircleCI schemas), shellcheck on every script they run, and
# the installer's behaviour. Needs the venv scripts/test.sh builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${ECSGATE_VENV:-.venv}"
mkdir -p target

"$venv/bin/shellcheck" scripts/*.sh tests/integrations/*.sh .ci/run
echo "ok: shellcheck"
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/release.yml examples/github/deploy.yml
"$venv/bin/python" tests/integrations/pack_orb.py orb/src > target/orb.yml
"$venv/bin/check-jsonschema" --builtin-schema vendor.circle-ci target/orb.yml
grep -q "checksum mismatch" target/orb.yml || { echo "the packed orb does not embed the installer"; exit 1; }
echo "ok: schemas"
bash tests/integrations/install_test.sh
