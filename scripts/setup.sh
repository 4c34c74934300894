#!/usr/bin/env bash
# Installs what Berth needs on Debian 12 (as root): OCI runtime, monitor, iptables, the static
# busybox used for the base image, attr tools, and for tests the registry, skopeo, docker-py and
# docker-compose 1.29 (a real compose peer), sshd (remote access over ssh), rsyslog (a real
# syslog server for the syslog driver test);
# then the npm dependencies and the build.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in runc conmon iptables iproute2 busybox-static attr tini gcc libc6-dev python3 python3-docker docker-registry skopeo \
  containernetworking-plugins openssh-server openssh-client docker-compose rsyslog; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  echo "==> installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages such as openssh-server start a system service on install; tests start their own
  # private instances, so keep the machine's services stopped (policy-rc.d exit 101 = "not now").
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && own_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Berth needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "==> building"
npm run --silent build
