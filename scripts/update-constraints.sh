#!/usr/bin/env bash
# Regenerate constraints.txt: the exact versions a clean install of zenhire-mock and its
# `verify` extra resolves to today. The Dockerfile installs with `-c constraints.txt`, so an
# image built later gets the same dependency versions; rerun this to move them forward.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q '.[verify]'
{
  echo "# Pinned dependency versions for reproducible installs (the Dockerfile uses them):"
  echo "#   pip install -c constraints.txt .          (or '.[verify]')"
  echo "# Regenerate with: bash scripts/update-constraints.sh"
  "$tmp/venv/bin/python" -m pip freeze --exclude zenhire-mock --exclude pip --exclude setuptools
} > constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pinned packages"
