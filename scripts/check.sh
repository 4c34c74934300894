#!/usr/bin/env bash
# The whole test suite from a fresh machine: install what is missing, lint, typecheck, build,
# then every unit and end-to-end test. This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "==> lint"
npx biome check src test scripts
echo "==> typecheck"
npx tsc -p tsconfig.json --noEmit
echo "==> fixtures"
[ -f test/.fixtures/busybox.tar ] || bash scripts/fixtures/busybox-rootfs.sh test/.fixtures/busybox.tar
echo "==> tests"
npm test
