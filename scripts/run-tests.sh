#!/usr/bin/env bash
# Runs every test project (already built) and ends with one plain line, "N passed, N failed",
# summed over all projects. Exits non-zero when any test failed or a test run broke off.
set -uo pipefail
cd "$(dirname "$0")/.."
configuration=${1:-Release}
results=out/test-results
rm -rf "$results"
mkdir -p "$results"

status=0
passed=0
failed=0
for project in tests/*/*.csproj; do
  name=$(basename "$project" .csproj)
  [ "$name" = "PrivateServer.Benchmarks" ] && continue
  if ! dotnet test "$project" -c "$configuration" --no-build --nologo \
      --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
      --blame-hang-timeout 10m; then
    status=1
  fi
  trx="$results/$name.trx"
  if [ -f "$trx" ]; then
    counters=$(grep -o '<Counters [^>]*>' "$trx")
    p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
    f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
  else
    echo "$name: no test results (the test run broke off)" >&2
    failed=$((failed + 1))
    status=1
  fi
done

if [ "$failed" -gt 0 ]; then status=1; fi
echo "$passed passed, $failed failed"
exit "$status"
