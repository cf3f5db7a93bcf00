#!/usr/bin/env bash
# Installs the servers the contrib/ modules' tests start (redis-server, etcd
# and PostgreSQL, from Debian's packages redis-server, etcd-server and
# postgresql) when they are missing and this machine can: as root, with
# apt-get. Elsewhere it says what to install; those tests then skip, naming
# the package. The PostgreSQL tests find postgres in PATH or in
# /usr/lib/postgresql/<version>/bin, and run it as the user nobody when they
# run as root.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
if ! command -v postgres >/dev/null 2>&1 && ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
  missing+=(postgresql)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: ${missing[*]} not installed (Debian packages); the contrib/ tests that need them will skip"
fi
