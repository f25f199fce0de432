#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the integration tests need, then
# `mvn -B verify` in strict mode (a test whose real component is missing FAILS instead of skipping,
# so green always means the real thing ran). Extra arguments go to Maven.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
scripts/install-test-deps.sh
export NODEKIT_STRICT=1
status=0
mvn -B verify "$@" || status=$?
scripts/test-summary.sh || true
exit $status
