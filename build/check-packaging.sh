#!/bin/sh
# The packaging checks (what `make check-packaging` runs, and CI may run):
#
#   build/check-packaging.sh [pytest args...]
#
# runs tests/packaging with /usr/bin/python3 -m pytest:
#   test_examples.py  every conf/ example through `apache2 -t` (as shipped,
#                     and with local key files standing in for the IdP);
#                     the IdP examples served by a private httpd on a
#                     loopback port with IdP-shaped tokens: 401/200/403
#   test_rpm.py       rpmbuild -bs from the `make dist` tarball, rpmspec -P
#                     (installs the Debian package "rpm" when missing)
#   test_deb.py       (root only) builds the .deb with build/mkdeb.sh,
#                     lintian, installs it, a2enmod conduktor_auth,
#                     apache2ctl configtest, starts the system apache on a
#                     127.0.0.1 port with an example site, 401 then 200,
#                     stops it, purges the package and puts everything back
#
# CKA_DIST_TARBALL: a `make dist` tarball to test (default: the tests make
# one from a copy of the source tree). CKA_MODULE: the built module used by
# test_examples.py (default: .libs/mod_conduktor_auth.so).
set -eu
cd "$(dirname "$0")/.."
if [ -n "${CKA_DIST_TARBALL:-}" ]; then
    echo "== packaging checks on $CKA_DIST_TARBALL"
fi
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/packaging "$@"
