#!/usr/bin/env bash
# Installs the real peers the tests run against, where they are missing, from Debian's
# packages, in one apt-get run: DCMTK (storescp, dcmqrscp, echoscu, storescu) and Orthanc.
# Needs root for apt-get.
set -euo pipefail
missing=()
{ command -v storescp && command -v dcmqrscp; } >/dev/null 2>&1 || missing+=(dcmtk)
[ -x /usr/sbin/Orthanc ] || missing+=(orthanc)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-peers: missing ${missing[*]} and cannot apt-get here; tests needing them skip (fail under CI=true)" >&2
  exit 0
fi
echo "install-peers: apt-get install ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
