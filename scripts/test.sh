#!/usr/bin/env bash
# Runs every unit and end-to-end test with node's built-in runner. Test files run in parallel
# (one process each); each end-to-end file starts and stops its own berthd.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' -not -path 'test/.fixtures/*' | sort); fi
exec node --import tsx --test --test-concurrency="${BERTH_TEST_CONCURRENCY:-3}" "${files[@]}"
