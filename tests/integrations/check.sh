#!/usr/bin/env bash
# Checks of the CI integrations: the action, the workflows and the packed orb against their schemas
# (check-jsonschema's vendored GitHub and CircleCI schemas), shellcheck on every script they run, and
# the installer's behaviour. Needs the venv scripts/test.sh builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${ECSGATE_VENV:-.venv}"
mkdir -p target

"$venv/bin/shellcheck" scripts/*.sh tests/integrations/*.sh .ci/run integrations/buildkite/hooks/command
echo "ok: shellcheck"
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/release.yml examples/github/deploy.yml
"$venv/bin/python" tests/integrations/pack_orb.py orb/src > target/orb.yml
"$venv/bin/check-jsonschema" --builtin-schema vendor.circle-ci target/orb.yml
grep -q "checksum mismatch" target/orb.yml || { echo "the packed orb does not embed the installer"; exit 1; }
# GitLab component: the spec header, then the job; the job document must be valid GitLab CI.
"$venv/bin/python" - <<'PY'
import yaml
docs = list(yaml.safe_load_all(open("integrations/gitlab/templates/ecsgate.yml")))
assert len(docs) == 2 and "inputs" in docs[0]["spec"], "spec header, then the job"
# Inputs are interpolated by GitLab; give them values so the job validates as written.
text = open("integrations/gitlab/templates/ecsgate.yml").read().split("\n---\n", 1)[1]
for name, spec in docs[0]["spec"]["inputs"].items():
    text = text.replace(f"$[[ inputs.{name} ]]", str(spec.get("default", "x")) if spec else "x")
open("target/gitlab-job.yml", "w").write(text)
PY
"$venv/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci target/gitlab-job.yml
"$venv/bin/check-jsonschema" --builtin-schema vendor.buildkite integrations/buildkite/example-pipeline.yml
echo "ok: schemas"
bash tests/integrations/install_test.sh
