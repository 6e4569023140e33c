#!/usr/bin/env bash
# Installs the servers the integration tests and `npm run demo` start privately (mariadbd, mariadb-install-db,
# nats-server) from the Debian/Ubuntu packages, when any is missing; with --with-promtool also promtool (package
# prometheus, for the alert-rule tests; .ci/run asks for it). Needs root or passwordless sudo; the packages' system
# services are not started (the tests and the demo run their own servers on free loopback ports).
# Usage: sudo bash scripts/install-servers.sh [--with-promtool]   (no stdin needed; .ci/run, npm test and
# npm run demo call it)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
export PATH="$PATH:/usr/sbin:/usr/bin:/sbin"
me=scripts/install-servers.sh
with_promtool=0
for a in "$@"; do
  case "$a" in
    --with-promtool) with_promtool=1 ;;
    *) echo "$me: unknown argument $a (usage: $me [--with-promtool])" >&2; exit 2 ;;
  esac
done

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

pkgs=()
if ! have mariadbd || ! have mariadb-install-db; then pkgs+=(mariadb-server mariadb-client); fi
if ! have nats-server; then pkgs+=(nats-server); fi
# Debian ships promtool in the package of the Prometheus server, whose service must not start (policy-rc.d below).
if [ "$with_promtool" = 1 ] && ! have promtool; then pkgs+=(prometheus); fi
if [ "${#pkgs[@]}" -eq 0 ]; then
  exit 0
fi

prometheus_before=$(pgrep -x prometheus || true)
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "$me: ${pkgs[*]} must be installed; run as root or with passwordless sudo" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$me: no apt-get here: install MariaDB (mariadbd, mariadb-install-db) and nats-server with the system's package manager" >&2
  exit 1
fi
"${sudo[@]}" apt-get update </dev/null
# Never replace what the machine runs (mariadb-server conflicts with mysql-server, for example).
if removals=$("${sudo[@]}" apt-get install -s -y --no-install-recommends "${pkgs[@]}" </dev/null | grep '^Remv '); then
  echo "$me: installing ${pkgs[*]} would remove packages; install them by hand:" >&2
  echo "$removals" >&2
  exit 1
fi
# The packages' postinst scripts would start system services (mariadb on 3306); the tests start their own
# private servers, so forbid service starts during the install (policy-rc.d exit 101), unless a policy exists.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  added_policy=1
  trap '[ "$added_policy" = 1 ] && "${sudo[@]}" rm -f "$policy"' EXIT
fi
"${sudo[@]}" apt-get install -y --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${pkgs[@]}" </dev/null
if [ "$added_policy" = 1 ]; then
  "${sudo[@]}" rm -f "$policy"
  added_policy=0
fi
if [[ " ${pkgs[*]} " == *" prometheus "* ]]; then
  # The package enables its service for the next boot as well; only promtool is wanted here.
  "${sudo[@]}" update-rc.d prometheus disable >/dev/null 2>&1 || true
  "${sudo[@]}" deb-systemd-helper disable prometheus.service >/dev/null 2>&1 || true
  prometheus_after=$(pgrep -x prometheus || true)
  if [ "$prometheus_after" != "$prometheus_before" ]; then
    echo "$me: a prometheus server started during the install (pid $prometheus_after; a policy-rc.d allowed it);" \
      "stop it with: systemctl stop prometheus (or /etc/init.d/prometheus stop)" >&2
  fi
fi
