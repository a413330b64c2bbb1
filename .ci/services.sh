#!/usr/bin/env bash
# Makes sure the services the integration suites use are running on loopback: PostgreSQL (127.0.0.1:5432, trust
# auth) and Redis (127.0.0.1:6379), and that the browser the dashboard's end-to-end tests drive is installed
# (Debian's Chromium at /usr/bin/chromium, test/browser/). Starts the services when installed but stopped;
# installs what is missing with apt-get. Prints what it did; exits non-zero only when something cannot be brought
# up.
set -uo pipefail

log() { printf '[services] %s\n' "$*"; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # name, command
  local name=$1
  shift
  for _ in $(seq 1 30); do
    if "$@" >/dev/null 2>&1; then
      log "$name is up"
      return 0
    fi
    sleep 1
  done
  log "$name did not come up"
  return 1
}

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

ensure_postgres() {
  if command -v pg_isready >/dev/null && pg_up; then
    log "PostgreSQL already running"
    return 0
  fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing PostgreSQL"
    apt_install postgresql || return 1
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  local conf=/etc/postgresql/$version/main
  # Trust auth on loopback, as the tests connect without a password.
  if ! grep -q '^host all all 127.0.0.1/32 trust' "$conf/pg_hba.conf" 2>/dev/null; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$conf/pg_hba.conf"
  fi
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || pg_ctlcluster --skip-systemctl-redirect "$version" main restart || true
  wait_for PostgreSQL pg_up || return 1
  # The suites use database "test"; create it when missing.
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" 2>/dev/null | grep -q 1 ||
    psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test' >/dev/null 2>&1 || true
}

ensure_redis() {
  if command -v redis-cli >/dev/null && redis_up; then
    log "Redis already running"
    return 0
  fi
  if ! command -v redis-server >/dev/null; then
    log "installing Redis"
    apt_install redis-server || return 1
  fi
  mkdir -p /var/lib/redis /var/log/redis
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || return 1
  wait_for Redis redis_up
}

# playwright-core drives the system's Chromium (it downloads no browser of its own).
ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then
    log "Chromium already installed ($(/usr/bin/chromium --version 2>/dev/null | head -n 1))"
    return 0
  fi
  log "installing Chromium"
  apt_install chromium || return 1
  [ -x /usr/bin/chromium ] && log "Chromium installed"
}

status=0
ensure_postgres || status=1
ensure_redis || status=1
ensure_chromium || status=1
exit $status
