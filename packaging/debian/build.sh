#!/usr/bin/env bash
# Builds out/privateserver_<version>_amd64.deb and out/privateserver-host_<version>_amd64.deb with dpkg-deb
# from the self-contained linux-x64 programs of 'make publish' (no .NET needed on the target).
# usage: packaging/debian/build.sh [--version V] [--publish DIR] [--out DIR] [--uncompressed]
# (--uncompressed: for the tests' upgrade packages, which nobody downloads; xz takes most of a minute)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/Directory.Build.props")
publish=$repo/out/publish/linux-x64
out=$repo/out
compression=(-Zxz -z6)
while [ $# -gt 0 ]; do
  case $1 in
    --version) version=$2; shift 2 ;;
    --publish) publish=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --uncompressed) compression=(-Znone); shift ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
# Reproducible: every timestamp is the last commit's.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build_package NAME PROGRAM: package NAME ships PROGRAM and NAME.service from packaging/debian/NAME/.
build_package() {
  local name=$1 program=$2
  local source=$here/$name root=$work/$name
  [ -x "$publish/$program" ] || { echo "build.sh: $publish/$program is missing; run 'make publish RIDS=linux-x64' first" >&2; exit 1; }
  install -d "$root/DEBIAN" "$root/usr/lib/$name" "$root/usr/bin" "$root/lib/systemd/system" \
    "$root/usr/share/doc/$name" "$root/usr/share/man/man1" "$root/usr/share/lintian/overrides"
  install -m 0755 "$publish/$program" "$root/usr/lib/$name/$program"
  ln -s "../lib/$name/$program" "$root/usr/bin/$program"
  install -m 0644 "$source/$name.service" "$root/lib/systemd/system/$name.service"
  sed "s/@VERSION@/$version/g" "$source/$program.1" | gzip -9n > "$root/usr/share/man/man1/$program.1.gz"
  install -m 0644 "$here/copyright" "$root/usr/share/doc/$name/copyright"
  {
    echo "$name ($version) stable; urgency=medium"
    echo
    echo "  * PrivateServer $version."
    echo
    echo " -- PrivateServer Team <packages@privateserver.invalid>  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
  } | gzip -9n > "$root/usr/share/doc/$name/changelog.gz"
  install -m 0644 "$source/lintian-overrides" "$root/usr/share/lintian/overrides/$name"
  if [ -f "$source/conffiles" ]; then
    install -m 0644 "$source/conffiles" "$root/DEBIAN/conffiles"
    while read -r conffile; do
      install -D -m 0644 "$source/$(basename "$conffile")" "$root$conffile"
    done < "$source/conffiles"
  fi
  install -m 0755 "$source/postinst" "$source/prerm" "$source/postrm" "$root/DEBIAN/"
  (cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\n' | LC_ALL=C sort | xargs md5sum) > "$root/DEBIAN/md5sums"
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" "$source/control" > "$root/DEBIAN/control"
  find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  dpkg-deb --root-owner-group "${compression[@]}" --build "$root" "$out/${name}_${version}_amd64.deb" >/dev/null
  echo "$out/${name}_${version}_amd64.deb"
}

build_package privateserver privateserver
build_package privateserver-host privateserver-host
