#!/bin/sh
# Build the Debian package libapache2-mod-conduktor-auth from the upstream
# `make dist` tarball, outside the source tree:
#
#   build/mkdeb.sh [--no-lintian] TARBALL [OUTDIR]
#
# TARBALL  mod_conduktor_auth-<version>.tar.gz, as made by `make dist`
# OUTDIR   where the results go (default: ./deb): the .deb, the source
#          package (.dsc, .orig.tar.gz, .debian.tar.xz), .changes,
#          .buildinfo, the build log and lintian.txt
#
# The tarball is unpacked in a temporary directory, build/debian/ (from the
# tarball, or else from beside this script) is copied in as debian/, and
# dpkg-buildpackage -us -uc builds the source and binary packages. Then
# lintian checks them: any error or warning fails the build (overrides are
# in build/debian/source/lintian-overrides and
# build/debian/libapache2-mod-conduktor-auth.lintian-overrides, each with
# its reason). DEB_BUILD_OPTIONS (e.g. nocheck, parallel=4) is honoured.
# Needs: dpkg-dev, debhelper, apache2-dev and the Build-Depends of
# build/debian/control (dpkg-checkbuilddeps lists what is missing); lintian.
set -eu

LINTIAN=yes
if [ "${1:-}" = "--no-lintian" ]; then LINTIAN=no; shift; fi
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    sed -n '2,20s/^# \{0,1\}//p' "$0" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
tarball=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
outdir=${2:-deb}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
[ -f "$tarball" ] || { echo "mkdeb: no such tarball: $tarball" >&2; exit 1; }

base=$(basename "$tarball" .tar.gz)            # mod_conduktor_auth-0.1.0
upstream_version=${base#mod_conduktor_auth-}
[ "$upstream_version" != "$base" ] || {
    echo "mkdeb: expected mod_conduktor_auth-<version>.tar.gz, got $base.tar.gz" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/mkdeb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
tar -C "$work" -xzf "$tarball"
src="$work/$base"
[ -d "$src" ] || { echo "mkdeb: $tarball does not unpack into $base/" >&2; exit 1; }

if [ -f "$src/build/debian/control" ]; then
    debdir="$src/build/debian"
else
    debdir="$here/debian"
    echo "mkdeb: the tarball has no build/debian/; using $debdir" >&2
fi
cp -R "$debdir" "$src/debian"

pkg=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Source)
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
case "$version" in
    "$upstream_version"-*) ;;
    *) echo "mkdeb: debian/changelog is at $version, the tarball at $upstream_version" \
            "(add a changelog entry: dch -v $upstream_version-1)" >&2; exit 1 ;;
esac
cp "$tarball" "$work/${pkg}_${upstream_version}.orig.tar.gz"

echo "== dpkg-buildpackage ($pkg $version) in $src"
if ! (cd "$src" && dpkg-buildpackage -us -uc) >"$outdir/build.log" 2>&1; then
    tail -60 "$outdir/build.log" >&2
    echo "mkdeb: dpkg-buildpackage failed; full log: $outdir/build.log" >&2
    exit 1
fi
for f in "$work"/*; do
    [ -f "$f" ] && cp "$f" "$outdir/"
done
changes="$outdir/${pkg}_${version}_$(dpkg-architecture -qDEB_HOST_ARCH).changes"
ls -1 "$outdir"

if [ "$LINTIAN" = yes ]; then
    command -v lintian >/dev/null || { echo "mkdeb: lintian is not installed (apt-get install lintian, or --no-lintian)" >&2; exit 1; }
    echo "== lintian $(basename "$changes")"
    # Errors and warnings fail the build; info and pedantic tags are shown.
    # (The overrides in use are listed by a second run: lintian counts
    # overridden tags toward --fail-on when --show-overrides is given.)
    rc=0
    lintian --display-info --pedantic --fail-on error,warning "$changes" \
        >"$outdir/lintian.txt" 2>&1 || rc=$?
    lintian --display-info --pedantic --show-overrides "$changes" 2>/dev/null \
        | grep -E '^(O|N): ' >>"$outdir/lintian.txt" || true
    grep -v 'running with root privileges' "$outdir/lintian.txt" || true
    if [ "$rc" != 0 ]; then
        echo "mkdeb: lintian found errors or warnings (rc $rc)" >&2
        exit 1
    fi
    echo "lintian: no errors, no warnings"
fi
