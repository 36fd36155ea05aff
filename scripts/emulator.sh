#!/usr/bin/env bash
# Sourced by scripts/test.sh and scripts/bench.sh: the pinned test venv and the emulator's lifecycle.
# After `start_emulator`, ECSGATE_EMULATOR points at it and an EXIT trap stops it.

ensure_venv() {
  venv=.venv
  local req=tests/emulator/requirements.txt stamp=.venv/.requirements.sha want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> installing test tools into $venv (pinned in $req)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
  fi
  export ECSGATE_VENV="$PWD/$venv"
}

start_emulator() {
  mkdir -p target
  local port
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$venv/bin/python" tests/emulator/server.py --port "$port" > target/emulator.log 2>&1 &
  emulator_pid=$!
  trap 'kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    if "$venv/bin/python" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
      echo "==> emulator on 127.0.0.1:$port (log: target/emulator.log)"
      export ECSGATE_EMULATOR="http://127.0.0.1:$port"
      return 0
    fi
    if ! kill -0 "$emulator_pid" 2>/dev/null; then
      echo "emulator failed to start:"; cat target/emulator.log; return 1
    fi
    sleep 0.2
  done
  echo "emulator did not answer in 20 s"; return 1
}
