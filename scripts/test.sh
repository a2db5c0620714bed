#!/usr/bin/env bash
# Install the project and its test dependencies into .venv and run the whole test suite.
# As root (CI), Debian's Chromium and redis-server are installed too, for the candidate-page
# browser test and the Redis store tests (each skips with the reason where it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
   && { ! command -v chromium >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1; }; then
  apt-get update -qq || true
  command -v chromium >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends chromium fonts-dejavu-core >/dev/null \
    || echo "chromium could not be installed; the browser test will skip"
  command -v redis-server >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends redis-server >/dev/null \
    || echo "redis-server could not be installed; the Redis store tests will skip"
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -q "$@"
