# Source me: puts the pinned Node 24 LTS (tools/node, from the npm registry) first on PATH
# when the system Node is older than 22, installing it on first use.
pg_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pg_sys_version="$(node --version 2>/dev/null || echo v0)"
pg_sys_major="${pg_sys_version#v}"
pg_sys_major="${pg_sys_major%%.*}"
if [ "${pg_sys_major}" -lt 22 ] || [ "${PLANTGUARD_PINNED_NODE:-}" = 1 ]; then
  if [ ! -x "$pg_root/tools/node/node_modules/.bin/node" ]; then
    echo "plantguard: installing the pinned Node 24 into tools/node (one time)..." >&2
    npm ci --prefix "$pg_root/tools/node" --no-audit --no-fund --loglevel=error >&2 || return 1 2>/dev/null || exit 1
  fi
  export PATH="$pg_root/tools/node/node_modules/.bin:$PATH"
fi
unset pg_sys_major pg_sys_version
