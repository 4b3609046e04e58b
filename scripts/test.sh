#!/usr/bin/env bash
# The whole check, as CI runs it: install, typecheck, lint (type-aware, with the layer rule),
# formatting, then every test. Ends with the plain line "N passed, N failed". Any step failing
# fails the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/setup.sh
. scripts/env.sh
echo "== typecheck"
npx tsc -p .
echo "== lint"
npx eslint --max-warnings 0 .
echo "== format"
npx prettier --check . >/dev/null
echo "formatting ok"
echo "== tests"
node scripts/run-tests.mjs
