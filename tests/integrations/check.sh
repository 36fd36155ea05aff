#!/usr/bin/env bash
# Checks of the GitHub Action and the CircleCI orb (filled in with issue 4).
set -euo pipefail
echo "no integration checks yet"
