#!/usr/bin/env bash
# Install the mock into .venv and serve it on its embedded defaults (http://127.0.0.1:8080).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q -e .
exec .venv/bin/zenhire-mock serve "$@"
