#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the integration tests need, then
# `mvn -B verify` in strict mode (a test whose real component is missing FAILS instead of skipping,
# so green always means the real thing ran). Extra arguments go to Maven.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
scripts/install-test-deps.sh
export NODEKIT_STRICT=1
before=$(mktemp)
scripts/leak-check.sh snapshot "$before"
status=0
mvn -B verify "$@" || status=$?
leak=0
scripts/leak-check.sh compare "$before" || leak=$?
rm -f "$before"
scripts/test-summary.sh || true
[ $status -ne 0 ] && exit $status
exit $leak
