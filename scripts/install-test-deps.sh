#!/usr/bin/env bash
# Install the system packages the integration/e2e tests need (Debian 12, run as root):
#   redis-server kamailio kamailio-websocket-modules sip-tester chromium prometheus (promtool: rules tests)
#   kamailio-tls-modules, openssl (SIP over TLS tests: Kamailio's tls module, certificates made at test time)
#   rtpengine-daemon (media relay, userspace mode; Kamailio's rtpengine module ships in kamailio)
#   baresip-core (the lab's SIP phone with real audio)
#   dnsmasq-base (the lab's DNS server: NAPTR/SRV/A records for RFC 3263 tests; no system service)
# Idempotent and fast: a no-op (< 1 s) when everything is already installed.
# The tests start their own instances on free ports (test/support/lab.ts), so any system
# service the packages start (kamailio on 5060, redis on 6379) is stopped and disabled.
set -euo pipefail

PACKAGES=(redis-server kamailio kamailio-websocket-modules kamailio-tls-modules openssl sip-tester chromium prometheus rtpengine-daemon baresip-core dnsmasq-base)
# a binary each package provides, to double-check the install really worked
declare -A BINARY=(
  [redis-server]=redis-server
  [kamailio]=kamailio
  [kamailio-websocket-modules]=
  [kamailio-tls-modules]=
  [openssl]=openssl
  [sip-tester]=sipp
  [chromium]=chromium
  [prometheus]=promtool
  [rtpengine-daemon]=rtpengine
  [baresip-core]=baresip
  [dnsmasq-base]=dnsmasq
)

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-test-deps: all present (${PACKAGES[*]})"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing ${missing[*]}; run this script as root (or install them with apt-get)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: missing ${missing[*]} and apt-get is not available (Debian 12 expected)" >&2
  exit 1
fi

echo "install-test-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive

# Do not let the packages' maintainer scripts start system services; remember whether a
# policy-rc.d was already there so we leave the machine as we found it.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# If systemd started them anyway (policy-rc.d is honoured by invoke-rc.d, not by every
# deb-systemd-invoke path), stop and disable them: the tests need 5060/6379 free of surprises
# (and rtpengine-daemon's service would grab media ports and want the kernel module).
for svc in kamailio redis-server prometheus rtpengine-daemon; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  elif command -v service >/dev/null 2>&1; then
    service "$svc" stop >/dev/null 2>&1 || true
  fi
done

for p in "${PACKAGES[@]}"; do
  if ! installed "$p"; then
    echo "install-test-deps: $p is still not installed" >&2
    exit 1
  fi
  b="${BINARY[$p]}"
  if [ -n "$b" ] && ! command -v "$b" >/dev/null 2>&1; then
    echo "install-test-deps: $p installed but '$b' is not on PATH" >&2
    exit 1
  fi
done
echo "install-test-deps: done"
