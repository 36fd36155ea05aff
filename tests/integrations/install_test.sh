#!/usr/bin/env bash
# The installer the action and the orb run, against a fake release directory (file:// URLs):
# good checksum → installed (then served from the cache); bad or missing checksum → refused with a
# clear error; no asset → the source-build path (with a stand-in cargo that records its arguments).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAILED: $1"; fail=$((fail + 1)); }

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/aarch64) target=aarch64-unknown-linux-musl ;;
  Darwin/arm64) target=aarch64-apple-darwin ;;
  *) echo "install tests: unsupported platform"; exit 1 ;;
esac

make_release() { # dir version
  local dir="$1/$2" asset="ecsgate-$2-$target.tar.gz"
  mkdir -p "$dir" "$work/pkg"
  printf '#!/bin/sh\necho "fake ecsgate %s"\n' "$2" > "$work/pkg/ecsgate"
  chmod +x "$work/pkg/ecsgate"
  tar -czf "$dir/$asset" -C "$work/pkg" ecsgate
  (cd "$dir" && sha256sum "$asset" > "$asset.sha256")
}

for script in scripts/install.sh orb/src/scripts/install.sh; do
  rel="$work/release-$(echo "$script" | tr / _)"
  make_release "$rel" v9.9.9
  run() { # extra env... ; runs the installer, captures output
    env -u CIRCLECI ECSGATE_BASE_URL="file://$rel" ECSGATE_VERSION=v9.9.9 "$@" bash "$root/$script" > "$work/out" 2> "$work/err"
  }

  # Good checksum: installed, and it runs.
  dir="$work/bin1"
  if run ECSGATE_INSTALL_DIR="$dir" ECSGATE_CACHE_DIR="$work/cache" && [ "$("$dir/ecsgate")" = "fake ecsgate v9.9.9" ] \
    && [ "$(tail -n 1 "$work/out")" = "$dir/ecsgate" ] && grep -q "installed $target release asset" "$work/err"; then
    ok "$script: good checksum installs the asset"
  else
    bad "$script: good checksum"; cat "$work/err"
  fi

  # Second run: from the cache, without touching the release.
  mv "$rel" "$rel.gone"
  if run ECSGATE_INSTALL_DIR="$work/bin2" ECSGATE_CACHE_DIR="$work/cache" && grep -q "from cache" "$work/err" && [ -x "$work/bin2/ecsgate" ]; then
    ok "$script: cached binary reused"
  else
    bad "$script: cache"; cat "$work/err"
  fi
  mv "$rel.gone" "$rel"
  rm -rf "$work/cache"

  # Bad checksum: refused, nothing installed.
  asset="$rel/v9.9.9/ecsgate-v9.9.9-$target.tar.gz"
  cp "$asset.sha256" "$work/sha.bak"
  echo "0000000000000000000000000000000000000000000000000000000000000000  x" > "$asset.sha256"
  if ! run ECSGATE_INSTALL_DIR="$work/bin3" && grep -q "checksum mismatch for ecsgate-v9.9.9-$target.tar.gz" "$work/err" \
    && [ ! -e "$work/bin3/ecsgate" ] && [ "$(wc -l < "$work/err")" -eq 1 ]; then
    ok "$script: bad checksum refused with one clear line"
  else
    bad "$script: bad checksum"; cat "$work/err"
  fi

  # Missing checksum file: refused too.
  rm "$asset.sha256"
  if ! run ECSGATE_INSTALL_DIR="$work/bin4" && grep -q "refusing an unverified binary" "$work/err" && [ ! -e "$work/bin4/ecsgate" ]; then
    ok "$script: missing checksum refused"
  else
    bad "$script: missing checksum"; cat "$work/err"
  fi
  cp "$work/sha.bak" "$asset.sha256"

  # No asset for this version: source build through cargo install --locked.
  cat > "$work/cargo" <<'FAKE'
#!/usr/bin/env bash
echo "$*" > "$FAKE_CARGO_LOG"
while [ $# -gt 0 ]; do case "$1" in --root) root="$2"; shift ;; esac; shift; done
mkdir -p "$root/bin" && printf '#!/bin/sh\necho built-from-source\n' > "$root/bin/ecsgate" && chmod +x "$root/bin/ecsgate"
FAKE
  chmod +x "$work/cargo"
  if env -u CIRCLECI ECSGATE_BASE_URL="file://$rel" ECSGATE_VERSION=v0.0.0-none ECSGATE_INSTALL_DIR="$work/bin5" \
      ECSGATE_CARGO="$work/cargo" ECSGATE_SOURCE_DIR="$root" FAKE_CARGO_LOG="$work/cargo.log" bash "$root/$script" > "$work/out" 2> "$work/err" \
    && grep -q "no release asset" "$work/err" && grep -q -- "install --locked --path $root" "$work/cargo.log" \
    && [ "$("$work/bin5/ecsgate")" = "built-from-source" ]; then
    ok "$script: no asset builds from source with cargo install --locked"
  else
    bad "$script: source build"; cat "$work/err"
  fi
  rm -rf "$work"/bin*
done

# The wait wrapper maps the action's inputs to flags.
printf '#!/bin/sh\necho "$@"\n' > "$work/fake-ecsgate"
chmod +x "$work/fake-ecsgate"
got=$(env -u GITHUB_OUTPUT ECSGATE_BIN="$work/fake-ecsgate" INPUT_SERVICE=api INPUT_CLUSTER=shop INPUT_DEPLOYMENT_ID=ecs-svc/1 \
  INPUT_TIMEOUT=5m INPUT_MAX_TASK_FAILURES=2 INPUT_REGION=eu-west-2 INPUT_RECORD_FILE="$work/r/rec.jsonl" bash scripts/run-wait.sh)
want="wait --service api --cluster shop --deployment-id ecs-svc/1 --timeout 5m --max-task-failures 2 --region eu-west-2 --record $work/r/rec.jsonl --force"
if [ "$got" = "$want" ]; then ok "run-wait.sh maps every input"; else bad "run-wait.sh: got '$got'"; fi
got=$(env -u GITHUB_OUTPUT ECSGATE_BIN="$work/fake-ecsgate" INPUT_SERVICE=$'api\n  worker,cron\n' INPUT_FAIL_FAST=true \
  INPUT_UNTIL=traffic-shifted INPUT_RECORD_FILE="$work/r/rec.jsonl" bash scripts/run-wait.sh)
want="wait --service api,worker,cron --fail-fast --until traffic-shifted --record $work/r/rec.jsonl --force"
if [ "$got" = "$want" ]; then ok "run-wait.sh passes several services (lines or commas), fail-fast and until"; else bad "run-wait.sh several: got '$got'"; fi
# shellcheck disable=SC2016 # the fake binary expands them, not this script
printf '#!/bin/sh\necho "$@ notify=$ECSGATE_NOTIFY"\n' > "$work/fake-ecsgate"
got=$(env -u GITHUB_OUTPUT ECSGATE_BIN="$work/fake-ecsgate" INPUT_SERVICE=api INPUT_IMAGE=$'app=r/app:2\nsidecar=r/s:1' \
  INPUT_ROLLBACK_ON_FAILURE=true INPUT_NOTIFY=$'https://hooks.slack.com/services/T/B/x\nhttps://example.com/h' \
  INPUT_RECORD_FILE="$work/r/rec.jsonl" bash scripts/run-wait.sh)
want="deploy --service api --image app=r/app:2,sidecar=r/s:1 --rollback-on-failure --record $work/r/rec.jsonl --force notify=https://hooks.slack.com/services/T/B/x,https://example.com/h"
if [ "$got" = "$want" ]; then ok "run-wait.sh deploys with images, rollback, and webhooks kept off the command line"; else bad "run-wait.sh deploy: got '$got'"; fi

# Run mode: one-off tasks, the command split into words, variables one per line, a webhook kept off the line.
got=$(env -u GITHUB_OUTPUT ECSGATE_BIN="$work/fake-ecsgate" INPUT_COMMAND=run INPUT_SERVICE=api INPUT_CLUSTER=shop \
  INPUT_CONTAINER=app INPUT_COUNT=2 INPUT_TIMEOUT=auto INPUT_ENV=$'STAGE=prod\nLIST=a,b' INPUT_RUN_COMMAND='./manage.py migrate --noinput' \
  INPUT_NOTIFY=https://example.com/h bash scripts/run-wait.sh)
want="run --service api --cluster shop --container app --count 2 --env STAGE=prod --env LIST=a,b -- ./manage.py migrate --noinput notify=https://example.com/h"
if [ "$got" = "$want" ]; then ok "run-wait.sh runs one-off tasks (command: run)"; else bad "run-wait.sh run: got '$got'"; fi

# The Buildkite plugin maps its configuration to the same wrapper (and so to the same command line).
printf '#!/bin/sh\necho "$@"\n' > "$work/fake-ecsgate"
got=$(cd "$work/r" && env -u GITHUB_OUTPUT ECSGATE_BIN="$work/fake-ecsgate" BUILDKITE_PLUGIN_ECSGATE_SERVICE=api,worker \
  BUILDKITE_PLUGIN_ECSGATE_CLUSTER=shop BUILDKITE_PLUGIN_ECSGATE_TIMEOUT=20m BUILDKITE_PLUGIN_ECSGATE_UNTIL=drained \
  INPUT_RECORD_FILE="$work/r/rec.jsonl" bash "$OLDPWD/integrations/buildkite/hooks/command")
want="wait --service api,worker --cluster shop --timeout 20m --until drained --junit ecsgate-junit.xml --record $work/r/rec.jsonl --force"
if [ "$got" = "$want" ]; then ok "the Buildkite plugin maps its configuration to ecsgate wait (JUnit report included)"; else bad "buildkite: got '$got'"; fi

# The GitLab component's script, run as a runner runs it (its variables with their defaults), against a
# fake release whose binary prints the command line it was given.
gl_rel="$work/release-gitlab/v9.9.9"
mkdir -p "$gl_rel" "$work/glpkg" "$work/gl"
printf '#!/bin/sh\necho "$@"\n' > "$work/glpkg/ecsgate"
chmod +x "$work/glpkg/ecsgate"
tar -czf "$gl_rel/ecsgate-v9.9.9-$target.tar.gz" -C "$work/glpkg" ecsgate
(cd "$gl_rel" && sha256sum "ecsgate-v9.9.9-$target.tar.gz" > "ecsgate-v9.9.9-$target.tar.gz.sha256")
"${ECSGATE_VENV:-.venv}/bin/python" - "$work/gitlab.sh" <<'PY'
import sys, yaml
spec, job = list(yaml.safe_load_all(open("integrations/gitlab/templates/ecsgate.yml")))
inputs = spec["spec"]["inputs"]
values = {k: str((v or {}).get("default", "")).lower() if isinstance((v or {}).get("default"), bool) else str((v or {}).get("default", "")) for k, v in inputs.items()}
values["service"] = "api,worker"
values["version"] = "v9.9.9"
(name, body), = job.items()
def fill(x):
    for k, v in values.items():
        x = x.replace(f"$[[ inputs.{k} ]]", v)
    return x
lines = ["set -euo pipefail"]
for k, v in body["variables"].items():
    lines.append(f"export {k}={fill(str(v))!r}")
lines += [fill(l) for l in body["script"]]
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
got=$(cd "$work/gl" && env -u GITHUB_OUTPUT ECSGATE_SCRIPTS_URL="file://$root/scripts" ECSGATE_BASE_URL="file://$work/release-gitlab" \
  ECSGATE_INSTALL_DIR="$work/gl/bin" HOME="$work/gl" bash "$work/gitlab.sh" 2> "$work/gl/err" | tail -n 1)
want="wait --service api,worker --cluster default --timeout auto --until completed --junit ecsgate-junit.xml --record ecsgate-record.jsonl --force"
if [ "$got" = "$want" ]; then ok "the GitLab component installs from a release and runs the wrapper"; else bad "gitlab: got '$got'"; cat "$work/gl/err"; fi

# The Buildkite plugin, installing from the same fake release (no ECSGATE_BIN given).
got=$(cd "$work/gl" && env -u GITHUB_OUTPUT -u ECSGATE_BIN ECSGATE_BASE_URL="file://$work/release-gitlab" ECSGATE_INSTALL_DIR="$work/gl/bkbin" \
  HOME="$work/gl" BUILDKITE_PLUGIN_ECSGATE_VERSION=v9.9.9 BUILDKITE_PLUGIN_ECSGATE_SERVICE=api \
  bash "$root/integrations/buildkite/hooks/command" 2> "$work/gl/bkerr" | tail -n 1)
want="wait --service api --junit ecsgate-junit.xml --record ecsgate-record.jsonl --force"
if [ "$got" = "$want" ]; then ok "the Buildkite plugin installs from a release and runs the wrapper"; else bad "buildkite install: got '$got'"; cat "$work/gl/bkerr"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
