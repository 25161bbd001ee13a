#!/usr/bin/env bash
# `make test` from a fresh clone on a fresh Debian 12 root: no Chromium, no PostgreSQL, no Mosquitto.
#
#   sudo scripts/fresh-root-test.sh [COMMIT] [REPO]         (default: HEAD of the repository this script is in)
#   sudo scripts/fresh-root-test.sh --walk [COMMIT] [REPO]  docs/operations.md's walk instead of make test
#
# 1. A minimal Debian bookworm root (debootstrap --variant=minbase) with only what the README asks of a
#    fresh machine: python3 (3.11), python3-venv, make, git, ca-certificates. The downloaded packages
#    are kept in $WUXIN_FRESH_ROOT_DIR/bookworm-base.tgz (debootstrap --make-tarball) and every run
#    unpacks a new root from it (--unpack-tarball): nothing is kept from an earlier run.
# 2. `git clone` of REPO at COMMIT into /root/wuxin inside the root (no ../shared, no .venv).
# 3. With the network (the host's): `make install` (pip from PyPI) and `scripts/test-setup.sh true`
#    with WUXIN_TEST_PG_PORT set to a port where nothing answers, so test-setup installs with apt what
#    the tests need (chromium, mosquitto, nginx, fonts, postgresql) and starts and removes a
#    throwaway PostgreSQL once. A policy-rc.d in the root stops the packages' services from starting.
# 4. `make test` inside the root in a network namespace of its own with only loopback up: nothing
#    answers on 127.0.0.1:5432 or 1883 (the host's services are not visible), so test-setup starts
#    a throwaway PostgreSQL and the tests start their own brokers, as on a fresh machine.
# Mounts (/proc, /sys, /dev, /dev/pts, /dev/shm) and the root's processes are removed on exit; the
# root directory is removed unless WUXIN_FRESH_ROOT_KEEP=1. Exit status: make test's.
set -euo pipefail

say() { echo "fresh-root: $*" >&2; }
[ "$(id -u)" = 0 ] || { echo "run as root (debootstrap, chroot, mounts, network namespace)" >&2; exit 1; }

HERE=$(cd "$(dirname "$0")/.." && pwd)
MODE=test
if [ "${1:-}" = --walk ]; then MODE=walk; shift; fi
COMMIT=${1:-HEAD}
REPO=${2:-$HERE}
DIR=${WUXIN_FRESH_ROOT_DIR:-/var/tmp/wuxin-fresh-root}
MIRROR=${WUXIN_FRESH_ROOT_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${WUXIN_FRESH_ROOT_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
BASE_PACKAGES=python3,python3-venv,make,git,ca-certificates
TARBALL=$DIR/bookworm-base.tgz
INSTALL_TIMEOUT=${WUXIN_FRESH_ROOT_INSTALL_TIMEOUT:-3600}  # seconds: debootstrap, pip, apt
TEST_TIMEOUT=${WUXIN_FRESH_ROOT_TEST_TIMEOUT:-5400}        # seconds: make test
ROOT=""

mkdir -p "$DIR"
COMMIT=$(git -C "$REPO" rev-parse --verify "$COMMIT^{commit}")

root_pids() { # processes whose root directory is inside $ROOT
  local link
  for link in /proc/[0-9]*/root; do
    [ "$(readlink "$link" 2>/dev/null)" = "$ROOT" ] && { link=${link#/proc/}; echo "${link%/root}"; }
  done
  return 0
}

cleanup() {
  [ -n "$ROOT" ] || return 0
  local pids
  pids=$(root_pids)
  if [ -n "$pids" ]; then say "stopping what is left in the root: $(echo $pids)"; kill $pids 2>/dev/null || true; sleep 2; fi
  pids=$(root_pids); [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  local mnt
  for mnt in dev/shm dev/pts dev sys proc; do
    mountpoint -q "$ROOT/$mnt" && umount -l "$ROOT/$mnt"
  done
  if [ "${WUXIN_FRESH_ROOT_KEEP:-0}" = 1 ]; then say "root kept in $ROOT"; else rm -rf --one-file-system "$ROOT"; say "root $ROOT removed"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

if [ ! -s "$TARBALL" ]; then
  say "downloading Debian bookworm ($BASE_PACKAGES) from $MIRROR into $TARBALL"
  rm -rf "$DIR/make-tarball"
  timeout "$INSTALL_TIMEOUT" debootstrap --variant=minbase --include="$BASE_PACKAGES" \
    --make-tarball="$TARBALL.partial" bookworm "$DIR/make-tarball" "$MIRROR" >&2
  mv "$TARBALL.partial" "$TARBALL"; rm -rf "$DIR/make-tarball"
fi

ROOT=$(mktemp -d "$DIR/root.XXXXXX")
chmod 0755 "$ROOT"  # the root's "/": mktemp's 0700 would keep every user but root (postgres, mail) out of it
say "debootstrap bookworm into $ROOT (from $TARBALL)"
timeout "$INSTALL_TIMEOUT" debootstrap --variant=minbase --include="$BASE_PACKAGES" \
  --unpack-tarball="$TARBALL" bookworm "$ROOT" "$MIRROR" >"$ROOT.debootstrap.log" 2>&1 \
  || { tail -n 30 "$ROOT.debootstrap.log" >&2; say "debootstrap failed"; exit 1; }
rm -f "$ROOT.debootstrap.log"

# The same suites as this machine's apt (bookworm, bookworm-updates, bookworm-security).
cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY_MIRROR bookworm-security main
EOF
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# Debian's installer writes /etc/hosts; minbase has none (netbase adds it if a package pulls it in).
[ -e "$ROOT/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
# A chroot has no init: packages must not start their services (they would also meet the host's ports).
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"; chmod 755 "$ROOT/usr/sbin/policy-rc.d"

mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
mount --bind /dev "$ROOT/dev"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$ROOT/dev/pts"
mount -t tmpfs -o mode=1777,size=1g tmpfs "$ROOT/dev/shm"  # Chromium's shared memory

say "git clone $REPO at $COMMIT into $ROOT/root/wuxin"
git clone --quiet --no-local "$REPO" "$ROOT/root/wuxin"
git -C "$ROOT/root/wuxin" checkout --quiet --detach "$COMMIT"

in_root() { # COMMAND...: run in the root as root, with a clean environment
  chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb "$@"
}

walk_operations() { # docs/operations.md, step 1 with the network, steps 2-10 in a namespace of their own
  local bare=$ROOT/root/wuxin.git status=0
  git clone --quiet --bare --no-local "$REPO" "$bare"
  git -C "$bare" branch -f walk "$COMMIT" && git -C "$bare" symbolic-ref HEAD refs/heads/walk
  python3 "$ROOT/root/wuxin/scripts/operations-walk.py" "$ROOT/root/wuxin/docs/operations.md" network >"$ROOT/root/walk-network.sh"
  python3 "$ROOT/root/wuxin/scripts/operations-walk.py" "$ROOT/root/wuxin/docs/operations.md" local >"$ROOT/root/walk-local.sh"
  python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$ROOT/root/walk-password"
  cat >"$ROOT/root/walk-check.sh" <<'CHECK'
# What the walk must have left: a healthy instance behind TLS, the device's readings, a checked restore.
set -u
fail=0
check() { if eval "$2"; then echo "walk-check: ok: $1"; else echo "walk-check: FAILED: $1"; fail=1; fi; }
check "HTTPS /health answers ok through nginx" \
  "curl -s --cacert /etc/wuxin/tls/ca.crt https://localhost/health | grep -q '\"status\":\"ok\"'"
check "one MQTT-over-TLS and one HTTPS reading stored" \
  "[ \"\$(cd / && runuser -u postgres -- psql -At wuxin -c \"select string_agg(channel || ':' || points_accepted, ' ' order by id) from batches\")\" = 'mqtt:1 http:1' ]"
check "nightly backup and manual backup written" \
  "ls /var/backups/wuxin/wuxin-2*.backup /var/backups/wuxin/wuxin-manual.backup >/dev/null"
check "restore recomputed a signed tree head over all entries" \
  "grep -Eq 'ledger: ([1-9][0-9]*) of \\1 entries recompute the newest signed tree head' /root/walk.log"
exit $fail
CHECK
  say "walk, step 1 with the network: $(grep -c . "$ROOT/root/walk-network.sh") lines"
  timeout "$INSTALL_TIMEOUT" chroot "$ROOT" /usr/bin/env -i HOME=/root \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
    DEBIAN_FRONTEND=noninteractive "${net_env[@]}" \
    bash -c 'cd /root && apt-get update -qq && apt-get install -y -qq systemd >/dev/null && bash -e walk-network.sh' \
    || { status=$?; say "walk step 1 failed: exit $status"; return "$status"; }
  # A host's PostgreSQL starts with the package; here the cluster is started by hand, on 5432 (apt chose
  # another port if this machine's own server held 5432 while it ran).
  local cluster
  cluster=$(in_root pg_lsclusters -h | awk 'NR == 1 {print $1 " " $2}')
  in_root pg_conftool $cluster set port 5432
  say "walk, steps 2-10 without the network (own namespace, loopback only)"
  timeout "$TEST_TIMEOUT" unshare --net bash -c '
    ip link set lo up
    exec chroot "$1" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      LANG=C.UTF-8 TERM=dumb bash -c "pg_ctlcluster $2 start && cd /root && bash walk-local.sh </dev/null >walk.log 2>&1; tail -n 40 walk.log; bash walk-check.sh"' \
    fresh-root "$ROOT" "$cluster" || status=$?
  say "operations walk exited $status (commit $COMMIT)"
  return "$status"
}

say "python: $(in_root python3 --version); chromium: $(in_root sh -c 'command -v chromium || echo absent');" \
    "postgresql: $(in_root sh -c 'ls -d /usr/lib/postgresql/*/bin 2>/dev/null || echo absent')"

# Where this machine's network inspects TLS, the host names the CA bundle that trusts it in PIP_CERT
# (or SSL_CERT_FILE, REQUESTS_CA_BUNDLE): the networked step gives pip the same bundle. No such setting
# reaches the `make test` step (no network there).
net_ca=${PIP_CERT:-${SSL_CERT_FILE:-${REQUESTS_CA_BUNDLE:-}}}
net_env=()
if [ -n "$net_ca" ] && [ -f "$net_ca" ]; then
  cp "$net_ca" "$ROOT/etc/ssl/host-network-ca.pem"
  net_env=(PIP_CERT=/etc/ssl/host-network-ca.pem)
  say "pip trusts this machine's CA bundle $net_ca in the networked step"
fi

if [ "$MODE" = walk ]; then
  walk_operations
  exit $?
fi

say "with the network: make install, then scripts/test-setup.sh true (installs the test packages)"
unused_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout "$INSTALL_TIMEOUT" chroot "$ROOT" /usr/bin/env -i HOME=/root \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
  WUXIN_TEST_PG_PORT="$unused_port" "${net_env[@]}" \
  sh -c 'cd /root/wuxin && make install && scripts/test-setup.sh true' \
  || { status=$?; say "the networked step (make install, test-setup) failed: exit $status"; exit "$status"; }

say "without the network (own namespace, loopback only): make test"
status=0
timeout "$TEST_TIMEOUT" unshare --net bash -c '
  ip link set lo up
  ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null || { echo "5432 answers in the namespace" >&2; exit 1; }
  exec chroot "$1" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb sh -c "cd /root/wuxin && make test"' fresh-root "$ROOT" || status=$?
say "make test exited $status (commit $COMMIT)"
exit "$status"
