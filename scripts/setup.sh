#!/usr/bin/env bash
# Installs what PlantGuard's development needs on a fresh machine: the pinned Node 24 (tools/node)
# when the system Node is older than 22, and the npm dev dependencies from the lockfile.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# Compile src/ to dist/ so the CLI starts without stripping types (bin/plantguard.mjs uses it only
# while it is newer than every source file).
node scripts/build.mjs
