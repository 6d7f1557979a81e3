#!/bin/sh
# Build the soniquebay .deb, for this machine's architecture or another one:
#
#   packaging/build-deb.sh [--arch amd64|arm64] [OUTPUT_DIR]    (default: dist/deb)
#
# Both architectures are built the same way on any machine (an arm64 package on an x86 PC,
# no emulator): packaging/wheelhouse.py gathers SoniqueBay's wheel and its dependencies'
# binary wheels for the target from PyPI, the package ships them, and its postinst installs
# them offline into a venv made by the target's own python3.11.
#
# Works from a clean checkout: it copies the tracked and untracked-but-not-ignored files
# to a scratch folder (so .venv, build/ and editable-install leftovers never reach the
# package), puts packaging/debian at the top as dpkg-buildpackage wants, installs the
# missing build dependencies with apt-get when run as root, and builds with
# `dpkg-buildpackage -us -uc -b`. The last line it prints is the path of the .deb.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
arch=$(dpkg --print-architecture)
if [ "${1:-}" = "--arch" ]; then
  arch=${2:?--arch needs amd64 or arm64}
  shift 2
fi
case "$arch" in
  amd64|arm64) ;;
  *) echo "build-deb.sh: no package for $arch (amd64 or arm64)" >&2; exit 1 ;;
esac
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
  (cd "$src" && dpkg-checkbuilddeps -a "$arch" 2>&1 >/dev/null) |
    sed -n 's/.*Unmet build dependencies: //p'
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
  apt-get install -y --no-install-recommends debhelper python3-venv >&2 ||
    { apt-get update >&2 && apt-get install -y --no-install-recommends debhelper python3-venv >&2; }
fi

start=$(date +%s)
# The wheelhouse, gathered by a throwaway venv of this machine's python3 (with `packaging`
# to decide our requirements' markers for the target).
python3 -m venv "$scratch/build-venv" >&2
"$scratch/build-venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --progress-bar=off packaging >&2
"$scratch/build-venv/bin/python" "$src/packaging/wheelhouse.py" --arch "$arch" \
  --source "$src" --out "$src/wheels" >&2
rm -rf "$src/build" "$src"/*.egg-info
# Nothing is compiled or run for the target (an empty test step), so a cross build needs no
# emulator: say so to dh, which otherwise warns.
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
  export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
fi
(cd "$src" && dpkg-buildpackage -us -uc -b -a"$arch") >&2
echo "build-deb.sh: built for $arch in $(( $(date +%s) - start )) s" >&2

for f in "$scratch"/soniquebay_"$version"_"$arch".deb "$scratch"/soniquebay_"$version"_"$arch".buildinfo \
         "$scratch"/soniquebay_"$version"_"$arch".changes; do
  [ -e "$f" ] && mv -f "$f" "$out/"
done
echo "$out/soniquebay_${version}_${arch}.deb"
