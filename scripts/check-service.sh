#!/bin/sh
# Checks ganctl.service offline: `systemd-analyze verify` passes and
# `systemd-analyze security` rates it at most 2.5. Works without systemd as PID 1.
# verify wants ExecStart's binary to exist, so a copy of the unit points at BINARY.
#   usage: scripts/check-service.sh [BINARY]   (default build/ganctld)
set -eu
cd "$(dirname "$0")/.."
bin=$(readlink -f "${1:-build/ganctld}")
[ -x "$bin" ] || { echo "check-service: $bin is not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#^ExecStart=/usr/local/bin/ganctld#ExecStart=$bin#" ganctl.service >"$tmp/ganctl.service"
systemd-analyze verify "$tmp/ganctl.service"
score=$(systemd-analyze security --offline=yes ganctl.service 2>/dev/null |
    sed -n 's/.*Overall exposure level for ganctl.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || { echo "check-service: no exposure score" >&2; exit 1; }
echo "ganctl.service: verify ok, exposure $score"
awk -v s="$score" 'BEGIN { exit !(s <= 2.5) }' || { echo "exposure $score > 2.5" >&2; exit 1; }
