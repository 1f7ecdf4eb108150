#!/usr/bin/env bash
# Builds out/privateserver-<version>-x64.msi and out/privateserver-host-<version>-x64.msi with wixl (msitools)
# from the self-contained win-x64 programs of 'make publish'.
# usage: packaging/msi/build.sh [--version V] [--publish DIR] [--out DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props")
publish=$repo/out/publish/win-x64
out=$repo/out
while [ $# -gt 0 ]; do
  case $1 in
    --version) version=$2; shift 2 ;;
    --publish) publish=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
# wixl resolves File/@Source against the working folder and refuses absolute paths.
cd "$repo"
publish=$(realpath --relative-to=. "$publish")
for name in privateserver privateserver-host; do
  [ -f "$publish/$name.exe" ] || { echo "build.sh: $publish/$name.exe is missing; run 'make publish RIDS=win-x64' first" >&2; exit 1; }
  wixl -a x64 -D "Version=$version" -D "Publish=$publish" \
    -o "$out/$name-$version-x64.msi" "$here/$name.wxs"
  echo "$out/$name-$version-x64.msi"
done
