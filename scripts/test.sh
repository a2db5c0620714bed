#!/usr/bin/env bash
# Install the project and its test dependencies into .venv and run the whole test suite.
# As root (CI), Debian's Chromium is installed too, for the candidate-page browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
     chromium fonts-dejavu-core >/dev/null) || echo "chromium could not be installed; the browser test will skip"
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -q "$@"
