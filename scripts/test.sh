#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the pinned emulator (moto 5.2.5) and the CI linters
# into .venv, starts the emulator on a free 127.0.0.1 port, runs every Rust test against it, and stops it.
# Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
req=tests/emulator/requirements.txt
stamp="$venv/.requirements.sha"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing test tools into $venv (pinned in $req)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  echo "$want" > "$stamp"
fi

mkdir -p target
port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" tests/emulator/server.py --port "$port" > target/emulator.log 2>&1 &
emulator=$!
cleanup() { kill "$emulator" 2>/dev/null || true; wait "$emulator" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do
  if "$venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$emulator" 2>/dev/null; then
    echo "emulator failed to start:"; cat target/emulator.log; exit 1
  fi
  sleep 0.2
done
echo "==> emulator on 127.0.0.1:$port (log: target/emulator.log)"

export ECSGATE_EMULATOR="http://127.0.0.1:$port"
export ECSGATE_REQUIRE_EMULATOR=1
export ECSGATE_VENV="$PWD/$venv"

echo "==> integration checks (action, orb, scripts)"
bash tests/integrations/check.sh

echo "==> cargo test"
cargo test --locked "$@"
