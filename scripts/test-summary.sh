#!/usr/bin/env bash
# Prints the Surefire (unit) and Failsafe (integration) totals of the last build, module by module.
set -uo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."
total() { # dir-glob label
  local t=0 f=0 e=0 s=0 files
  files=$(ls $1/TEST-*.xml 2>/dev/null) || true
  [ -n "$files" ] || return 1
  for x in $files; do
    line=$(grep -m1 -o '<testsuite [^>]*>' "$x")
    get() { echo "$line" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
    t=$((t + $(get tests))); f=$((f + $(get failures))); e=$((e + $(get errors))); s=$((s + $(get skipped)))
  done
  printf '%-22s %-9s tests %4d  failures %3d  errors %3d  skipped %3d\n' "$2" "$3" "$t" "$f" "$e" "$s"
}
echo "================ test summary (NODEKIT_STRICT=${NODEKIT_STRICT:-0}) ================"
for m in spec common csi-driver cni-plugin cri-shim e2e; do
  total "$m/target/surefire-reports" "$m" "surefire" || true
  total "$m/target/failsafe-reports" "$m" "failsafe" || true
done
