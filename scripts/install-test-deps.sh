#!/usr/bin/env bash
# install-test-deps.sh - tools used by the tshark reference generator and the benchmark (not by
# `npm test`): tshark and GNU time. Debian 12, as root (or with sudo). Idempotent: silent and
# immediate when both are present; otherwise apt-get update + install of what is missing only.
set -euo pipefail

pkgs=()
command -v tshark >/dev/null 2>&1 || pkgs+=(tshark)
[ -x /usr/bin/time ] || pkgs+=(time)
[ ${#pkgs[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "install-test-deps: need root to install ${pkgs[*]} (apt-get); rerun as root" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-deps: apt-get not found; install ${pkgs[*]} with your package manager" >&2
  exit 1
fi

echo "install-test-deps: installing ${pkgs[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Without this preseed the wireshark-common postinst asks whether non-root users may capture.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | "${sudo[@]}" debconf-set-selections
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
for c in tshark /usr/bin/time; do
  command -v "$c" >/dev/null 2>&1 || { echo "install-test-deps: $c still missing after apt-get install" >&2; exit 1; }
done
echo "install-test-deps: done ($(tshark --version 2>/dev/null | head -1))" >&2
