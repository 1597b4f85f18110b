#!/usr/bin/env bash
# Runs the mamori demo: SQLite, an in-process MQTT broker, the server and two simulated readers.
# Needs only Python >= 3.11 (no root): makes .venv/, installs the pinned packages, prints the URL.
#   bash deploy/demo.sh [--port 8000] [--data-dir demo-data]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || {
  echo "mamori demo: Python 3.11 or newer is needed as $PY (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
"$PY" -c 'import venv, ensurepip' 2>/dev/null || {
  echo "mamori demo: Python's venv module is missing; install it: sudo apt-get install -y python3-venv" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[server,demo]'
exec .venv/bin/mamori demo "$@"
