#!/usr/bin/env bash
# Install the Debian 12 packages the build, the tests and the demo need.
# Runs apt-get only when something is missing. Needs root.
set -euo pipefail
PKGS="apache2 apache2-dev libjansson-dev libcurl4-openssl-dev libssl-dev
      libhiredis-dev libmemcached-dev
      check autoconf automake libtool pkg-config make gcc curl
      python3 python3-pytest python3-jwcrypto python3-cryptography python3-requests python3-pil
      redis-server memcached clang libclang-rt-14-dev dpkg-dev debhelper lintian rpm
      valgrind gdb wrk
      ${CKA_EXTRA_PKGS:-}"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "== installing:$missing"
    if [ "$(id -u)" != 0 ]; then echo "need root to install:$missing" >&2; exit 1; fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # libssl3 and openssl come along even when installed: Debian's apache2
    # may be built against a newer OpenSSL 3.0.x than the machine's image
    # has, and mod_ssl then warns at every start ("compiled against a newer
    # library"), which the tests count as a fault.
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing libssl3 openssl >/dev/null
fi
# The Debian apache2 package may start the system server; we never use it.
if command -v apache2ctl >/dev/null && pgrep -x apache2 >/dev/null 2>&1 && [ -f /var/run/apache2/apache2.pid ]; then
    apache2ctl stop >/dev/null 2>&1 || true
fi
