#!/usr/bin/env bash
# The throw-away Debian root the package tests install the .debs into (a debootstrap chroot):
# bookworm minbase with exactly the packages' Depends and systemd (for 'systemd-analyze verify --root').
# Made once per checkout (out/test-root/bookworm.tar, about 280 MB unpacked); the tests themselves
# only unpack it and never touch the network.
set -euo pipefail
cd "$(dirname "$0")/.."
target=out/test-root/bookworm.tar
[ -f "$target" ] && exit 0
mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "Creating the Debian test root from $mirror (once)" >&2
debootstrap --variant=minbase --include=adduser,libicu72,libssl3,systemd bookworm "$work/root" "$mirror" > "$work/log" 2>&1 \
  || { tail -20 "$work/log" >&2; exit 1; }
mkdir -p "$(dirname "$target")"
tar -C "$work/root" --numeric-owner -cf "$target.tmp" .
mv "$target.tmp" "$target"
