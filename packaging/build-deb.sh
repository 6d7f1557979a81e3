#!/bin/sh
# Build the soniquebay .deb for this machine's architecture (amd64, arm64 on a Pi).
#
#   packaging/build-deb.sh [OUTPUT_DIR]       (default: dist/deb in the checkout)
#
# Works from a clean checkout: it copies the tracked and untracked-but-not-ignored files
# to a scratch folder (so .venv, build/ and editable-install leftovers never reach the
# package), puts packaging/debian at the top as dpkg-buildpackage wants, installs the
# missing build dependencies with apt-get when run as root, and builds with
# `dpkg-buildpackage -us -uc -b`. The last line it prints is the path of the .deb.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/dist/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/soniquebay-deb.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM

version=$(sed -n '1s/^soniquebay (\([^)]*\)).*/\1/p' "$here/packaging/debian/changelog")
src="$scratch/soniquebay-$version"
mkdir -p "$src"
if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$here" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$here" && xargs -0 cp --parents -t "$src" 2>/dev/null) || true
  # Files deleted in the work tree but still in the index are simply not copied.
else
  (cd "$here" && tar --exclude=.venv --exclude=build --exclude=dist --exclude=./debian -cf - .) |
    (cd "$src" && tar -xf -)
fi
rm -rf "$src/debian"
cp -a "$src/packaging/debian" "$src/debian"

missing_build_deps() {
  (cd "$src" && dpkg-checkbuilddeps 2>&1 >/dev/null) | sed -n 's/.*Unmet build dependencies: //p'
}
if ! command -v dpkg-buildpackage >/dev/null || [ -n "$(missing_build_deps)" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "build-deb.sh: missing build dependencies: $(missing_build_deps)" >&2
    echo "install them (sudo apt-get build-dep ./) or run this script as root" >&2
    exit 1
  fi
  echo "build-deb.sh: installing build dependencies with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends dpkg-dev build-essential >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends dpkg-dev build-essential >&2; }
  apt-get build-dep -y "$src" >&2 ||
    { apt-get update >&2 && apt-get build-dep -y "$src" >&2; }
fi

start=$(date +%s)
(cd "$src" && dpkg-buildpackage -us -uc -b) >&2
echo "build-deb.sh: built in $(( $(date +%s) - start )) s" >&2

arch=$(dpkg --print-architecture)
for f in "$scratch"/soniquebay_"$version"_"$arch".deb "$scratch"/soniquebay_"$version"_"$arch".buildinfo \
         "$scratch"/soniquebay_"$version"_"$arch".changes; do
  [ -e "$f" ] && mv -f "$f" "$out/"
done
echo "$out/soniquebay_${version}_${arch}.deb"
