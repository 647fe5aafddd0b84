#!/usr/bin/env bash
# The README's test command: setup, build, run every test project, print "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash build/setup.sh

results=artifacts/test-results
rm -rf "$results"
echo "[test] building (Release)"
dotnet build LaptopDiff.sln -c Release -nologo -v quiet
echo "[test] running tests"
status=0
dotnet test LaptopDiff.sln -c Release --no-build -nologo -v quiet \
  --logger "trx" --logger "console;verbosity=minimal" --results-directory "$results" || status=$?

# dotnet test's own summary is per project; CI reads one plain line for the whole suite.
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  passed=$((passed + $(get passed))); failed=$((failed + $(get failed)))
  skipped=$((skipped + $(get notExecuted)))
done
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
