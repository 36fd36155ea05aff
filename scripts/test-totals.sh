#!/usr/bin/env bash
# Reads a `cargo test` log and prints the tests run per kind (unit: src/; each tests/*.rs or tests/*/main.rs
# binary; benches) and the total. Exits 1 when no test ran or any failed: a run that executed nothing must
# not look green. Usage: scripts/test-totals.sh target/test-run.log
set -euo pipefail
awk '
  /^ *Running / {
    kind = $2
    if (kind == "unittests") kind = "unit (" $3 ")"
    sub(/^tests\//, "", kind); sub(/\/main\.rs$/, "", kind); sub(/\.rs$/, "", kind)
    next
  }
  /^test result: / {
    for (i = 1; i <= NF; i++) {
      if ($(i + 1) ~ /^passed/) p = $i
      if ($(i + 1) ~ /^failed/) f = $i
      if ($(i + 1) ~ /^ignored/) ig = $i
    }
    passed[kind] += p; failed[kind] += f; ignored[kind] += ig
    if (!(kind in seen)) { seen[kind] = 1; order[++n] = kind }
    tp += p; tf += f; ti += ig
  }
  END {
    print "==> tests run, per kind"
    for (i = 1; i <= n; i++) {
      k = order[i]
      if (passed[k] + failed[k] + ignored[k] == 0) continue
      printf "  %-28s %5d passed", k, passed[k]
      if (failed[k]) printf ", %d FAILED", failed[k]
      if (ignored[k]) printf ", %d ignored", ignored[k]
      printf "\n"
    }
    printf "  %-28s %5d passed, %d failed, %d ignored\n", "total", tp, tf, ti
    if (tp + tf == 0) { print "error: no test ran (check the filter or the build)"; exit 1 }
    if (tf > 0) exit 1
  }
' "$1"
