#!/usr/bin/env bash
# Set up what the test suite needs, run a command (the tests), tear down what was started.
#
#   scripts/test-setup.sh COMMAND [ARGS...]        (what `make test` and `.ci/run` do)
#
# 1. Debian packages the tests drive (mosquitto, mosquitto_ctrl, chromium, libatomic1 for Playwright's driver,
#    a CJK font, nginx, nats-server, iproute2): installed
#    with apt-get when missing and we are root; otherwise one line says what to install, exit 1.
# 2. PostgreSQL: when WUXIN_TEST_PG_URL is set it is used as it is. Otherwise, if a server answers
#    on 127.0.0.1:$WUXIN_TEST_PG_PORT (5432), the tests use it. If none answers, a throwaway
#    cluster is initialised in a temporary directory (Debian's initdb/pg_ctl; the postgresql
#    package is installed when missing), started on a free loopback port with trust auth, given
#    to the tests as WUXIN_TEST_PG_URL, then stopped and removed when COMMAND ends.
# The machine's own services are never stopped or changed. Every action is said on stderr.
set -euo pipefail

say() { echo "test-setup: $*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

apt_install() { # packages...
  if [ "$(id -u)" != 0 ]; then
    say "missing $*: install them as root (apt-get install -y $*) and run again"
    exit 1
  fi
  say "installing $* (apt-get)"
  if [ -z "${_apt_updated:-}" ]; then apt-get update -qq >&2; _apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

need_file() { # path package: install the package when the path is missing
  [ -e "$1" ] || apt_install "$2"
}

need_command() { # command package
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || apt_install "$2"
}

need_library() { # soname package: install the package when the dynamic linker does not know the library
  { ldconfig -p 2>/dev/null || /sbin/ldconfig -p; } | grep -q "$1" || apt_install "$2"
}

ensure_packages() {
  need_command mosquitto mosquitto           # the MQTT tests start their own brokers on free ports
  need_command mosquitto_ctrl mosquitto-clients
  need_file "${WUXIN_CHROMIUM:-/usr/bin/chromium}" chromium  # the console's end-to-end tests
  need_library libatomic.so.1 libatomic1  # Playwright's driver (its bundled node) links it
  need_file /usr/share/fonts/truetype/wqy/wqy-microhei.ttc fonts-wqy-microhei  # Chinese in screenshots and PDFs
  need_command nginx nginx  # the deployment kit's reverse proxy, started on a free port by its test
  need_command nats-server nats-server  # the JetStream stream; the cluster test starts a 3-node cluster
  need_command ip iproute2  # the cluster test's hosts: network namespaces, veth, a bridge (tests/cluster)
}

pg_bindir() { # the newest Debian PostgreSQL server binaries; nothing (and success) when none is installed
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_cluster_owner() { # PostgreSQL refuses to run as root: root runs the cluster as the postgres user
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

PG_DIR=""
PG_BIN=""

start_throwaway_postgres() {
  PG_BIN=$(pg_bindir)
  if [ -z "$PG_BIN" ]; then
    apt_install postgresql
    PG_BIN=$(pg_bindir)
  fi
  local port user
  port=$(free_port)
  user=$(id -un)  # the tests connect without a user name: the cluster's superuser is who runs them
  PG_DIR=$(mktemp -d /tmp/wuxin-test-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
  as_cluster_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$user" -A trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; say "initdb failed"; exit 1; }
  as_cluster_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; say "the throwaway PostgreSQL did not start"; exit 1; }
  export WUXIN_TEST_PG_URL="postgresql://127.0.0.1:$port"
  say "no PostgreSQL on 127.0.0.1:$PROBE_PORT: started a throwaway $("$PG_BIN/postgres" --version) in $PG_DIR on 127.0.0.1:$port (WUXIN_TEST_PG_URL=$WUXIN_TEST_PG_URL)"
}

stop_throwaway_postgres() {
  [ -n "$PG_DIR" ] || return 0
  as_cluster_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  say "throwaway PostgreSQL stopped and $PG_DIR removed"
}

ensure_postgres() {
  PROBE_PORT=${WUXIN_TEST_PG_PORT:-5432}
  if [ -n "${WUXIN_TEST_PG_URL:-}" ]; then
    say "PostgreSQL: WUXIN_TEST_PG_URL=$WUXIN_TEST_PG_URL (set by the caller)"
  elif port_open "$PROBE_PORT"; then
    export WUXIN_TEST_PG_URL="postgresql://127.0.0.1:$PROBE_PORT"
    say "PostgreSQL answers on 127.0.0.1:$PROBE_PORT: the tests use it (each test process its own database)"
  else
    start_throwaway_postgres
  fi
}

[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }
ensure_packages
trap stop_throwaway_postgres EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
ensure_postgres
status=0
"$@" || status=$?
exit "$status"
