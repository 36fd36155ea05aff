#!/usr/bin/env bash
# Checks of the CI integrations: the action, the workflows and the packed orb against their schemas
# (check-jsonschema's vendored GitHub and CircleCI schemas), shellcheck on every script they run, and
# the installer's behaviour, the hub's CloudFormation template. Needs the venv scripts/test.sh builds and
# its emulator (ECSGATE_EMULATOR).
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
# The JUnit report as GitLab, CircleCI, Buildkite and Jenkins read it: valid against the JUnit schema
# they share (tests/fixtures/junit/junit.xsd), for a failure, a success and a timeout; counts that match.
for rec in three-services breaker-rollback success; do
  cargo run -q --locked -- replay "examples/$rec.jsonl" -q --junit "target/junit-$rec.xml" > /dev/null || true
  "$venv/bin/python" -c "import sys, xmlschema; xmlschema.XMLSchema('tests/fixtures/junit/junit.xsd').validate(sys.argv[1])" "target/junit-$rec.xml"
done
head -n 4 examples/success.jsonl > target/unfinished.jsonl
cargo run -q --locked -- replay target/unfinished.jsonl -q --junit target/junit-timeout.xml > /dev/null || true
"$venv/bin/python" -c "import sys, xmlschema; xmlschema.XMLSchema('tests/fixtures/junit/junit.xsd').validate(sys.argv[1])" target/junit-timeout.xml
"$venv/bin/python" - <<'PY'
import xml.etree.ElementTree as ET
root = ET.parse("target/junit-three-services.xml").getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
assert len(suites) == 1
s = suites[0]
cases = s.findall("testcase")
assert int(s.get("tests")) == len(cases) == 3, s.attrib
fails = [c for c in cases if c.find("failure") is not None]
assert int(s.get("failures")) == len(fails) == 1
for c in cases:
    assert c.get("name") and c.get("classname"), c.attrib
    float(c.get("time"))
f = fails[0].find("failure")
assert f.get("message") and f.get("type") == "failed" and "hint:" in (f.text or ""), f.attrib
print("ok: JUnit report")
PY
echo "ok: schemas"
# The hub's CloudFormation template: lint-clean, and it deploys (two stacks, with and without forwarding)
# through moto's CloudFormation on the emulator scripts/test.sh started (ECSGATE_EMULATOR); the Terraform
# module beside it (hub/terraform) mirrors it: the same code, pattern, keys, settings and defaults.
"$venv/bin/cfn-lint" hub/template.yaml
echo "ok: cfn-lint"
"$venv/bin/python" tests/integrations/hub_template.py
"$venv/bin/python" tests/integrations/hub_terraform.py
bash tests/integrations/install_test.sh
