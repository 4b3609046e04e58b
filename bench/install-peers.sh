#!/usr/bin/env bash
# install-peers.sh - install the peer tools that bench/run.mjs compares PlantGuard with
# (tshark, tcpdump, tcpreplay, scapy, suricata from bookworm-backports, GNU time), Debian 12, as root.
# Idempotent: does nothing (and prints one line) when everything is already present.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers="${PLANTGUARD_SHARED:-$here/../../shared}/tools/install_peers.sh"

missing=()
for c in tshark tcpdump tcpreplay suricata; do
  command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
/usr/bin/python3 -c 'import scapy' >/dev/null 2>&1 || missing+=(python3-scapy)
if [ ${#missing[@]} -eq 0 ] && [ -x /usr/bin/time ]; then
  echo "install-peers: all peers present (tshark, tcpdump, tcpreplay, scapy, suricata, time)"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    echo "install-peers: missing ${missing[*]} and not root (no sudo); install them as root" >&2
    exit 1
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-peers: missing ${missing[*]}; running $peers" >&2
  [ -r "$peers" ] || { echo "install-peers: $peers not found (set PLANTGUARD_SHARED)" >&2; exit 1; }
  "${sudo[@]}" bash "$peers"
fi
if [ ! -x /usr/bin/time ]; then
  echo "install-peers: installing GNU time (/usr/bin/time)" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends time >/dev/null
fi
