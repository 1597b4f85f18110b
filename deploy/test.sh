#!/usr/bin/env bash
# Runs mamori's whole test suite: unit, integration (real Mosquitto, SQLite and PostgreSQL) and browser
# (Debian's Chromium driven by Playwright). Installs what it needs: a virtualenv with the pinned packages,
# and — when run as root on Debian/Ubuntu — Mosquitto, PostgreSQL and Chromium from the OS packages if
# they are missing.
# Extra arguments go to pytest, e.g.  bash deploy/test.sh -k spine
# The tests run in MAMORI_TEST_WORKERS parallel processes (pytest-xdist; 3 by default: much of the suite
# waits on brokers, databases and the browser rather than on the 2 cores), each test file whole in one
# process (files share a started office per module). One process, e.g. to debug:  bash deploy/test.sh -n0 -k spine
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
need() { echo "mamori tests: $*" >&2; exit 1; }
as_root() { [ "$(id -u)" = 0 ]; }
apt_install() {
  as_root || need "missing $*; install it with: sudo apt-get install -y $*"
  echo "mamori tests: installing $* from the OS packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
  || need "Python 3.11 or newer is needed as $PY (set PYTHON=/path/to/python3.11)"
"$PY" -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'

command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || apt_install mosquitto mosquitto-clients
# The multi-server test also runs on a NATS cluster, the clustered broker mamori supports (docs/scale-out.md).
if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
  if as_root; then apt_install nats-server
  else echo "mamori tests: no nats-server; its multi-server test is skipped (sudo apt-get install -y nats-server)" >&2; fi
fi
# The browser tests drive Debian's Chromium through Playwright (never a browser Playwright downloads itself),
# and a Japanese font so the pages (and docs/screenshots) show Japanese rather than empty boxes.
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || apt_install chromium
if command -v fc-list >/dev/null && [ -z "$(fc-list :lang=ja 2>/dev/null)" ]; then
  if as_root; then apt_install fonts-noto-cjk
  else echo "mamori tests: no Japanese font; screenshots will show boxes (sudo apt-get install -y fonts-noto-cjk)" >&2; fi
fi

PG_URL=${MAMORI_TEST_PG:-postgresql://postgres:postgres@127.0.0.1:5432/postgres}
export MAMORI_TEST_PG=$PG_URL
pg_ok() { .venv/bin/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$PG_URL" 2>/dev/null; }
if ! pg_ok; then
  if as_root && ! command -v pg_ctlcluster >/dev/null; then apt_install postgresql; fi
  if as_root && command -v pg_ctlcluster >/dev/null; then
    for v in /etc/postgresql/*; do pg_ctlcluster --skip-systemctl-redirect "$(basename "$v")" main start 2>/dev/null || true; done
    # A fresh Debian cluster asks for a password over TCP: give the postgres role the one the tests use.
    runuser -u postgres -- psql -qc "ALTER USER postgres PASSWORD 'postgres'" >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do pg_ok && break; sleep 1; done
  fi
  pg_ok || need "PostgreSQL does not answer at $PG_URL; install and start it (sudo apt-get install -y postgresql) or set MAMORI_TEST_PG"
fi

.venv/bin/ruff check --quiet gateway server tests bench
exec .venv/bin/python -m pytest -n "${MAMORI_TEST_WORKERS:-3}" --dist loadfile "$@"
