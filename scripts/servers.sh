#!/usr/bin/env bash
# Installs the servers the contrib/ modules' tests start (redis-server and
# etcd, from Debian's packages redis-server and etcd-server) when they are
# missing and this machine can: as root, with apt-get. Elsewhere it says what
# to install; those tests then skip, naming the package.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: ${missing[*]} not installed (Debian packages); the contrib/ tests that need them will skip"
fi
