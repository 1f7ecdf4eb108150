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

if [ "$failed" -gt 0 ]; then
  status=1
  # Name every failed test with the first lines of its message, so the end of the log says what broke.
  python3 - "$results" <<'PY' || true
import glob, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for trx in sorted(glob.glob(sys.argv[1] + "/*.trx")):
    for result in ET.parse(trx).getroot().iterfind(".//t:UnitTestResult", ns):
        if result.get("outcome") != "Failed":
            continue
        message = result.findtext(".//t:Message", default="", namespaces=ns).strip().splitlines()
        print("FAILED " + result.get("testName", "?") + " (" + result.get("duration", "?") + ")")
        # Long messages (a process's whole output) end with what the assertion wanted: show both ends.
        shown = message if len(message) <= 10 else message[:4] + ["[...]"] + message[-6:]
        for line in shown:
            print("    " + line[:300])
        # Where in the test it broke: the deepest frame of a test source file (helpers first, then the test method).
        stack = result.findtext(".//t:StackTrace", default="", namespaces=ns).splitlines()
        for line in [l.strip() for l in stack if "Tests/" in l and ":line " in l][-2:]:
            print("    " + line[:300])
PY
fi
echo "$passed passed, $failed failed"
exit "$status"
